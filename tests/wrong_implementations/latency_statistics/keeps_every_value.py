"""Exact percentiles from a list of every value: right answers, and memory that grows with the run
(32 bytes a value: 5.5 GB a day at 2000 requests a second)."""

EXPECT = {
    "check": "check_recorder_memory",
    "subject": "LatencyRecorder",
    "property": "= 457184 bytes",
    "observed": "bytes a value",
    "hint": "never the values themselves",
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
        self.values = []

    def record(self, seconds):
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(seconds)
        self.values.append(seconds)
        self.count += 1

    def percentile(self, p):
        if not 0 <= p <= 100:
            raise ValueError(p)
        if not self.values:
            raise ValueError("no values")
        ordered = sorted(self.values)
        return ordered[max(1, math.ceil(p * self.count / 100)) - 1]

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
