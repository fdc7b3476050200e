"""Stand-ins for calls that take time, fail, and clean up when cancelled (chapter 5).

``Operation("fetch", duration=3.0, cleanup=0.5)`` is an async callable: ``await op()``
takes ``duration`` seconds on the loop's clock, then returns ``result`` or raises
``error``. Cancelled while it runs, it cleans up for ``cleanup`` seconds (in a
``finally``, as real code closes a connection) and re-raises ``CancelledError``, unless
it is ``stubborn``: then it swallows the cancellation, as document 001's bug does, and
goes on working to the end.

It emits ``work.start`` / ``work.end`` (``outcome`` done, failed or cancelled) and, for
the cleanup, ``work.start`` / ``work.end`` with ``item`` ``"<name> cleanup"`` and outcome
``cleanup``, so pictures show the cleanup as a bar of its own. Each call is kept in
:attr:`Operation.calls` with its times, for the checks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from coursekit.events import Kind, emit


class OperationFailed(Exception):
    """The error an :class:`Operation` raises when it is set to fail."""


@dataclass
class Call:
    """One call of an operation, in loop seconds: when it started, when its work ended
    (None: never), when it was cancelled (None: never), when its cleanup ran to its end (None: none did)."""

    started: float
    outcome: str = "running"
    ended: float | None = None
    cancelled_at: float | None = None
    cleaned_up: float | None = None


class Operation:
    """An async callable standing in for slow work (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        duration: float,
        *,
        result: Any = None,
        error: BaseException | None = None,
        cleanup: float = 0.0,
        stubborn: bool = False,
    ) -> None:
        self.name, self.duration, self.result, self.error = name, duration, result, error
        self.cleanup, self.stubborn = cleanup, stubborn
        self.calls: list[Call] = []

    def __repr__(self) -> str:
        return f"Operation({self.name!r}, duration={self.duration:g})"

    async def __call__(self) -> Any:
        loop = asyncio.get_running_loop()
        call = Call(loop.time())
        self.calls.append(call)
        emit(Kind.WORK_START, item=self.name)
        try:
            await self._work(call)
        except asyncio.CancelledError:
            call.outcome, call.ended, call.cancelled_at = "cancelled", loop.time(), loop.time()
            emit(Kind.WORK_END, item=self.name, outcome="cancelled")
            await self._clean_up(call)
            raise
        call.ended = loop.time()
        if self.error is not None:
            call.outcome = "failed"
            emit(Kind.WORK_END, item=self.name, outcome="failed")
            raise self.error
        call.outcome = "done"
        emit(Kind.WORK_END, item=self.name, outcome="done")
        return self.result

    async def _work(self, call: Call) -> None:
        loop = asyncio.get_running_loop()
        finish = loop.time() + self.duration
        while (left := finish - loop.time()) > 0:
            try:
                await asyncio.sleep(left)
            except asyncio.CancelledError:
                if not self.stubborn:
                    raise
                call.cancelled_at = loop.time()  # swallowed: document 001's bug; it works on

    async def _clean_up(self, call: Call) -> None:
        if self.cleanup <= 0:
            return
        emit(Kind.WORK_START, item=f"{self.name} cleanup")
        try:
            await asyncio.sleep(self.cleanup)
            call.cleaned_up = asyncio.get_running_loop().time()  # only a cleanup that ran to its end
        finally:
            emit(Kind.WORK_END, item=f"{self.name} cleanup", outcome="cleanup")
