"""close() returns at once when the batcher is already closed: a second close() returns while callers still wait."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "close() called twice returns, both times once no caller is waiting",
    "observed": "the second returned at t=1.7 s, the last caller got its outcome at t=2.7 s",
    "hint": "`if self._closed: return` returns too early",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def close(self) -> None:
        """Flush the partial batch at once; return when every submitted item has its outcome."""
        if self._closed:
            return
        self._closed = True
        self._inbox.put_nowait(STOP)
        await self._loop_task
