"""A timer of its own, as asyncio.timeout is made: loop.call_later cancels the caller's task at the
timeout; the cancellation is the fallback only if it was the timer's, and no one else's (uncancel()
leaves none pending); the timer is cancelled in a finally, so a call in time leaves nothing armed."""


async def call_with_fallback(operation, timeout, fallback):
    caller = asyncio.current_task()
    expired = False

    def time_is_up():
        nonlocal expired
        expired = True
        caller.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, time_is_up)
    try:
        return await operation()
    except asyncio.CancelledError:
        if expired and caller.uncancel() == 0:
            return fallback
        raise
    finally:
        timer.cancel()
