"""A Deadline whose scope is a relative timeout of what remains, and whose child uses min() of remaining."""


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self):
        left = self.when - asyncio.get_running_loop().time()
        return left if left > 0 else 0.0

    def expired(self):
        return not self.when > asyncio.get_running_loop().time()

    def child(self, seconds):
        return type(self).after(min(seconds, self.remaining()))

    def scope(self):
        return asyncio.timeout(self.remaining())
