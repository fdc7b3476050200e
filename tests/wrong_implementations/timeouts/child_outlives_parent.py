"""A child deadline ignores its parent: an inner layer may run past the caller's deadline."""

EXPECT = {
    "check": "check_deadline_child",
    "subject": "Deadline",
    "property": ".child(10) at t=8.5 ends at t=12.5",
    "observed": "its when is 18.5",
    "hint": "a child never outlives its parent",
}


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self):
        return max(0.0, self.when - asyncio.get_running_loop().time())

    def expired(self):
        return asyncio.get_running_loop().time() >= self.when

    def child(self, seconds):
        return Deadline.after(seconds)

    def scope(self):
        return asyncio.timeout_at(self.when)
