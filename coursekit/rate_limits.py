"""What chapter 8's rate limiters are given: a decision type, arrival scripts, and a timed request.

- :class:`Decision`: the answer of a limiter that never waits (``PerClientLimiter.try_acquire``):
  ``admitted``, and when not, ``retry_after``, the seconds until the same request would be
  admitted (what a 429 answer's ``Retry-After`` header says).
- :func:`timed_acquire`: awaits one limiter call and emits what happened as events
  (``limiter.request`` when asked, then ``limiter.admitted``, ``limiter.refused``,
  ``limiter.failed`` or ``limiter.cancelled``), so that checks and pictures can read
  *when* each request got through without the limiter emitting anything itself.
- :func:`bursty_arrivals`: a seeded script of arrival times, bursts separated by quiet spells,
  the same on every run: the arrivals of the chapter's side-by-side pictures.

Times are the running loop's clock (virtual seconds under :func:`coursekit.run_virtual`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from coursekit.events import Kind, emit


@dataclass(frozen=True)
class Decision:
    """A non-waiting limiter's answer: admitted, or not and for how many more seconds."""

    admitted: bool
    retry_after: float = 0.0  # seconds until the same request would be admitted (0.0 when admitted)


@dataclass
class Timed:
    """One request through a limiter: its number, how much it asked for, when it asked, and when it was
    let through (``admitted``), or what stopped it (``error``, or ``cancelled``)."""

    number: int
    amount: int
    asked: float
    admitted: float | None = None
    ended: float | None = None  # when the call returned or raised (None: cancelled)
    value: Any = None
    error: BaseException | None = None
    cancelled: bool = False

    @property
    def waited(self) -> float | None:
        return None if self.admitted is None else self.admitted - self.asked


async def timed_acquire(
    call: Callable[[], Awaitable[Any]], number: int, amount: int = 1, *, client: str | None = None
) -> Timed:
    """``await call()`` (e.g. ``lambda: bucket.acquire(2)``) and record when it returned.

    Emits ``limiter.request`` at once; then ``limiter.admitted`` when ``call()`` returns (a
    :class:`Decision` that is not admitted counts as ``limiter.refused``, with its
    ``retry_after``; ``False`` too), ``limiter.failed`` when it raises, ``limiter.cancelled``
    when this task is cancelled (the cancellation is then re-raised). Every event carries
    ``number``, ``amount`` and ``client``."""
    loop = asyncio.get_running_loop()
    timed = Timed(number, amount, loop.time())
    fields = {"number": number, "amount": amount, "client": client}
    emit(Kind.LIMITER_REQUEST, **fields)
    try:
        value = await call()
    except asyncio.CancelledError:
        timed.cancelled = True
        emit(Kind.LIMITER_CANCELLED, **fields)
        raise
    except Exception as error:  # noqa: BLE001  (reported to whoever reads the Timed)
        timed.error, timed.ended = error, loop.time()
        emit(Kind.LIMITER_FAILED, error=type(error).__name__, **fields)
        return timed
    timed.value, timed.ended = value, loop.time()
    if value is False or (isinstance(value, Decision) and not value.admitted):
        retry_after = value.retry_after if isinstance(value, Decision) else None
        emit(Kind.LIMITER_REFUSED, retry_after=retry_after, **fields)
    else:
        timed.admitted = loop.time()
        emit(Kind.LIMITER_ADMITTED, waited=timed.admitted - timed.asked, **fields)
    return timed


def bursty_arrivals(
    seed: int = 8, *, bursts: int = 5, size: tuple[int, int] = (4, 12), quiet: tuple[float, float] = (1.0, 4.0)
) -> list[float]:
    """Arrival times (seconds from 0): ``bursts`` bursts of ``size`` requests each (drawn), every burst
    spread over half a second, separated by quiet spells of ``quiet`` seconds (drawn). Seeded: the same
    arguments give the same times. Times are multiples of 1/64 s (exact in binary)."""
    rng = random.Random(f"arrivals|{seed}")
    times: list[float] = []
    now = 0.0
    for _ in range(bursts):
        for _ in range(rng.randint(*size)):
            times.append(now + rng.randrange(32) / 64)
        now += 0.5 + rng.randrange(int(quiet[0] * 4), int(quiet[1] * 4) + 1) / 4
    return sorted(times)
