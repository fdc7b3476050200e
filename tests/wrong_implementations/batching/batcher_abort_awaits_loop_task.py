"""abort() awaits the task it has just cancelled: the CancelledError comes out of abort()."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "abort() returns",
    "observed": "abort() raised CancelledError",
    "hint": "await asyncio.wait({self._loop_task})",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def abort(self) -> None:
        """Stop at once: cancel the batch loop (and so its deliveries) and every caller still waiting."""
        self._closed = True
        self._loop_task.cancel()
        await self._loop_task
        for future in self._waiting:
            future.cancel()
