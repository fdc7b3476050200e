"""The decorator makes an object whose async __call__ goes through the breaker; update_wrapper keeps the name."""


class _Guarded:
    def __init__(self, breaker, func):
        self.breaker, self.func = breaker, func
        functools.update_wrapper(self, func)

    async def __call__(self, *args, **kwargs):
        return await self.breaker.call(self.func, *args, **kwargs)


def protected(breaker):
    return functools.partial(_Guarded, breaker)
