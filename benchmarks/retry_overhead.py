"""Per-call overhead of a retry wrapper, on success and with one retry: the reference, tenacity, stamina.

    .venv/bin/python benchmarks/retry_overhead.py [--calls 20000] [--runs 7]

Each wrapper calls a no-op coroutine function ``--calls`` times on the real event loop:
once where the first call succeeds, once where the first call raises a retryable error
and the second succeeds (waits of 0 s, so the time measured is the machinery, and one
``asyncio.sleep(0)``). Each measurement runs ``--runs`` times, the wrappers interleaved,
after a warm-up; the table shows the median per call minus a bare ``await call()``, and
the ratio to tenacity. Wall clock, real loop: compare rows of one run, not machines.

- reference: ``solutions.retries.retry`` with a ``RetryPolicy`` made once;
- tenacity: ``AsyncRetrying(stop=stop_after_attempt(3), wait=wait_none(),
  retry=retry_if_exception_type(Transient), reraise=True)`` made once, called per call;
- stamina: ``retry_context(on=Transient, attempts=3, wait_initial=0, wait_jitter=0)``,
  its retry hooks off (no logging).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import stamina
import tenacity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coursekit.chapters.retries.given import RetryPolicy, Transient, delays_of  # noqa: E402  (after the path is set)
from solutions.retries import retry  # noqa: E402

Wrapper = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]

POLICY = RetryPolicy(attempts=3, delays=delays_of([0.0, 0.0]))
RETRYING = tenacity.AsyncRetrying(
    stop=tenacity.stop_after_attempt(3),
    wait=tenacity.wait_none(),
    retry=tenacity.retry_if_exception_type(Transient),
    reraise=True,
)


async def bare(call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()


async def reference(call: Callable[[], Awaitable[Any]]) -> Any:
    return await retry(call, POLICY)


async def with_tenacity(call: Callable[[], Awaitable[Any]]) -> Any:
    return await RETRYING(call)


async def with_stamina(call: Callable[[], Awaitable[Any]]) -> Any:
    async for attempt in stamina.retry_context(
        on=Transient, attempts=3, timeout=None, wait_initial=0.0, wait_jitter=0.0, wait_max=0.0
    ):
        with attempt:
            return await call()


def make_call(failures: int) -> Callable[[], Awaitable[Any]]:
    """A no-op coroutine function that raises Transient ``failures`` times out of every ``failures + 1`` calls."""
    count = 0

    async def call() -> int:
        nonlocal count
        count += 1
        if count % (failures + 1):
            raise Transient("once")
        return count

    return call


def measure(wrapper: Wrapper, failures: int, calls: int) -> float:
    async def main() -> float:
        call = make_call(failures)
        started = time.perf_counter()
        for _ in range(calls):
            await wrapper(call)
        return (time.perf_counter() - started) / calls

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    stamina.instrumentation.set_on_retry_hooks([])
    wrappers: dict[str, Wrapper] = {"reference": reference, "tenacity": with_tenacity, "stamina": with_stamina}
    results: dict[tuple[str, int], float] = {}
    for failures in (0, 1):
        if failures == 0:
            for wrapper in (bare, *wrappers.values()):
                measure(wrapper, failures, args.calls // 10)  # warm-up
        times: dict[str, list[float]] = {name: [] for name in ("bare", *wrappers)}
        for _ in range(args.runs):
            times["bare"].append(measure(bare, 0, args.calls))
            for name, wrapper in wrappers.items():
                times[name].append(measure(wrapper, failures, args.calls))
        floor = statistics.median(times["bare"])
        for name in wrappers:
            results[name, failures] = statistics.median(times[name]) - floor
    print(f"per-call overhead over a bare await, median of {args.runs} runs of {args.calls} calls")
    print(f"{'wrapper':<10} {'success (µs)':>13} {'x tenacity':>11} {'one retry (µs)':>15} {'x tenacity':>11}")
    for name in wrappers:
        ok, once = results[name, 0], results[name, 1]
        print(
            f"{name:<10} {ok * 1e6:>13.2f} {ok / results['tenacity', 0]:>11.3f} "
            f"{once * 1e6:>15.2f} {once / results['tenacity', 1]:>11.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
