"""The decorator passes the function to the breaker but drops the call's arguments."""

EXPECT = {
    "check": "check_protected",
    "property": "calls breaker.call(lookup, 3, scale=2) once",
    "observed": "breaker.call was given",
    "hint": "breaker.call(func, *args, **kwargs)",
}


def protected(breaker):
    def decorate(func):
        @functools.wraps(func)
        async def guarded(*args, **kwargs):
            return await breaker.call(functools.partial(func, *args, **kwargs))

        return guarded

    return decorate
