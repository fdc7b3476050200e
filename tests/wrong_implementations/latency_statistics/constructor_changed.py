"""The given constructor rewritten: a 5% default error (coarser than the 1% the chapter's reports
assume) and no check of impossible settings (relative_error=1 raises ZeroDivisionError, lowest=0 fails
only at the first record, instead of a ValueError that names the mistake)."""

EXPECT = {
    "check": "check_recorder_basics",
    "subject": "LatencyRecorder",
    "property": "LatencyRecorder() has the given defaults: relative_error=0.01, lowest=1e-06, highest=3600.0",
    "observed": "are (0.05, 1e-06, 3600.0)",
    "hint": "keep the given constructor",
}


class LatencyRecorder:
    def __init__(self, relative_error=0.05, lowest=1e-6, highest=3600.0):
        self.relative_error = relative_error
        self.lowest = lowest
        self.highest = highest
        self.count = 0
        self.gamma = (1 + relative_error) / (1 - relative_error)
        self.buckets = {}

    def record(self, seconds):
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(seconds)
        k = math.ceil(math.log(seconds) / math.log(self.gamma))
        self.buckets[k] = self.buckets.get(k, 0) + 1
        self.count += 1

    def percentile(self, p):
        if not 0 <= p <= 100:
            raise ValueError(p)
        if self.count == 0:
            raise ValueError("no values")
        rank = max(1, math.ceil(p * self.count / 100))
        seen = 0
        for k in sorted(self.buckets):
            seen += self.buckets[k]
            if seen >= rank:
                return 2 * self.gamma**k / (self.gamma + 1)
        raise AssertionError

    @property
    def p50(self):
        return self.percentile(50)

    @property
    def p95(self):
        return self.percentile(95)

    @property
    def p99(self):
        return self.percentile(99)

    def summary(self):
        if self.count == 0:
            return {"count": 0, "p50": None, "p95": None, "p99": None}
        return {"count": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99}
