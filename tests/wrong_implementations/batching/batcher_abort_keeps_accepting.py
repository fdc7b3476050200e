"""abort() does not set the closed flag: a later submit() puts its entry in an inbox nobody reads,
and waits for ever."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "after abort() returns, no caller is left waiting",
    "observed": "then the caller of 5 (t=1.5 s) was still waiting",
    "hint": "this caller called submit() after abort()",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def abort(self) -> None:
        """Stop at once: cancel the batch loop (and so its deliveries) and every caller still waiting."""
        self._loop_task.cancel()
        await asyncio.wait({self._loop_task})
        for future in self._waiting:
            future.cancel()
