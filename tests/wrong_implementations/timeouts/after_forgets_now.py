"""after() stores the duration as the deadline: right only when the clock starts at 0."""

EXPECT = {
    "check": "check_deadline_clock",
    "subject": "Deadline",
    "property": "when is t=103.25",
    "observed": "when is 3.0",
    "hint": "an absolute time",
}


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(seconds)

    def remaining(self):
        return max(0.0, self.when - asyncio.get_running_loop().time())

    def expired(self):
        return asyncio.get_running_loop().time() >= self.when

    def child(self, seconds):
        return Deadline(min(self.when, asyncio.get_running_loop().time() + seconds))

    def scope(self):
        return asyncio.timeout_at(self.when)
