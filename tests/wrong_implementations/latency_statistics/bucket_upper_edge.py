"""Logarithmic buckets of ratio (1 + e) / (1 - e), each reported by its upper edge g**k: a value just
above the lower edge is then off by the bucket's whole width, about 2e."""

EXPECT = {
    "check": "check_recorder_error_bound",
    "subject": "LatencyRecorder",
    "property": "of the exact nearest-rank value 0.00825",
    "observed": "off by",
    "hint": "off by up to twice the bound",
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
        k = math.ceil(math.log(seconds, self.gamma))
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
                return self.gamma**k
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
