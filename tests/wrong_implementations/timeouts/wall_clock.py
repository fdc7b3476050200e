"""after() reads time.monotonic(), not the event loop's clock: the two disagree."""

EXPECT = {
    "check": "check_deadline_clock",
    "subject": "Deadline",
    "property": "when is t=103.25",
    "observed": "when is ",
    "hint": "asyncio.get_running_loop().time()",
}


import time


class Deadline:
    def __init__(self, when):
        self.when = when

    @classmethod
    def after(cls, seconds):
        return cls(time.monotonic() + seconds)

    def remaining(self):
        return max(0.0, self.when - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.when

    def child(self, seconds):
        return Deadline(min(self.when, time.monotonic() + seconds))

    def scope(self):
        return asyncio.timeout_at(self.when)
