"""tenacity, told to read the loop's clock: a stop that sees the upcoming wait; the last outcome returned or raised."""

import tenacity


async def retry(call, policy):
    loop = asyncio.get_running_loop()
    started = loop.time()
    delays = policy.delays()

    def outcome_of(state):
        return state.outcome.exception() if state.outcome.failed else state.outcome.result()

    def wait(state):
        asked = policy.retry_after(outcome_of(state))
        return asked if asked is not None else next(delays, float("inf"))

    def stop(state):
        if state.attempt_number >= policy.attempts or state.upcoming_sleep == float("inf"):
            return True
        return policy.deadline is not None and loop.time() + state.upcoming_sleep > started + policy.deadline

    retrying = tenacity.AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(policy.retryable) | tenacity.retry_if_result(policy.retryable),
        retry_error_callback=lambda state: state.outcome.result(),  # the last value, or raises the last error
    )

    async def attempt():
        return await call()  # call may be a plain function returning a coroutine: tenacity must see an async one

    return await retrying(attempt)
