"""abort() closes and then cancels what is left: it waits for the handler instead of stopping at once."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_close",
    "property": "abort() returns at once, without waiting for the handler",
    "observed": "abort() was called at t=0.5 s and returned at t=1.5 s, while the handler call for [1, 2, 3] ran",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def abort(self) -> None:
        """Stop at once: cancel the batch loop (and so its deliveries) and every caller still waiting."""
        await self.close()
        for future in self._waiting:
            future.cancel()
