"""The decorator catches the breaker's rejection and returns None: the caller cannot tell an open breaker
from an answer, and a None travels on where a result was expected."""

EXPECT = {
    "check": "check_protected",
    "property": "with an open breaker, the decorated call raises CircuitOpenError",
    "observed": "returned None",
    "hint": "don't catch it",
}


def protected(breaker):
    def decorate(func):
        @functools.wraps(func)
        async def guarded(*args, **kwargs):
            try:
                return await breaker.call(func, *args, **kwargs)
            except CircuitOpenError:
                return None  # the breaker is open: no answer

        return guarded

    return decorate
