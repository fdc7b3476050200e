"""submit() discards its future after the await, not in a finally: every caller
of a failed batch leaves its future in self._waiting."""

EXPECT = {
    "subject": "MicroBatcher",
    "check": "check_batcher_failures",
    "property": "a caller's future leaves self._waiting whatever happens",
    "observed": "self._waiting still held 3 futures",
    "hint": "`finally:`",
}


class MicroBatcher(MicroBatcher):  # the reference class, with one method written wrong
    async def submit(self, item: Any) -> Any:
        """The result of ``item``, computed in a batch with other callers' items."""
        if self._closed:
            raise RuntimeError("submit() after close()")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.add(future)
        self._inbox.put_nowait((item, future))
        result = await future
        self._waiting.discard(future)
        return result
