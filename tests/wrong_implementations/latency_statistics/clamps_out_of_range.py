"""Values outside [lowest, highest] are clamped into the range and counted (as HdrHistogram's
auto-resizing or clamping wrappers do): a negative latency, a clock that went backwards, is counted as
the fastest request instead of being refused."""

EXPECT = {
    "check": "check_recorder_basics",
    "subject": "LatencyRecorder",
    "property": "record(-0.5) raises ValueError and counts nothing: outside [1e-06, 3600.0]",
    "observed": "returned None; count is then 1",
    "hint": "raise ValueError before counting",
}


class LatencyRecorder:
    def __init__(self, relative_error=0.01, lowest=1e-6, highest=3600.0):
        if not 0 < relative_error < 1:
            raise ValueError(relative_error)
        if not 0 < lowest < highest:
            raise ValueError((lowest, highest))
        self.relative_error = relative_error
        self.lowest = lowest
        self.highest = highest
        self.count = 0
        self.gamma = (1 + relative_error) / (1 - relative_error)
        self.buckets = {}

    def record(self, seconds):
        seconds = min(max(seconds, self.lowest), self.highest)
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
