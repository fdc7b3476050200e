"""The decorator works but the decorated function is called `guarded`, with no docstring."""

EXPECT = {
    "check": "check_protected",
    "property": "the decorated function keeps lookup's name and docstring",
    "observed": "its __name__ is 'guarded'",
    "hint": "functools.wraps",
}


def protected(breaker):
    def decorate(func):
        async def guarded(*args, **kwargs):
            return await breaker.call(func, *args, **kwargs)

        return guarded

    return decorate
