"""An empty recorder answers 0 to every percentile and a summary of zeros: document 000's invented
number ("p99 = 0 ms" reads as a fast service)."""

EXPECT = {
    "check": "check_recorder_basics",
    "subject": "LatencyRecorder",
    "property": "no invented numbers",
    "observed": "'p50': 0",
    "hint": "not 0",
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
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(seconds)
        k = math.ceil(math.log(seconds) / math.log(self.gamma))
        self.buckets[k] = self.buckets.get(k, 0) + 1
        self.count += 1

    def percentile(self, p):
        if not 0 <= p <= 100:
            raise ValueError(p)
        rank = max(1, math.ceil(p * self.count / 100))
        seen = 0
        for k in sorted(self.buckets):
            seen += self.buckets[k]
            if seen >= rank:
                return 2 * self.gamma**k / (self.gamma + 1)
        return 0

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
        return {"count": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99}
