"""Bounded memory by keeping only the last 1000 values (a window): the percentiles are those of the
recent values, not of the run; a stall at the start of the run vanishes from its p99."""

EXPECT = {
    "check": "check_recorder_error_bound",
    "subject": "LatencyRecorder",
    "property": "of the exact nearest-rank value 0.00657",
    "observed": "off by",
    "hint": "every value counts",
}


import collections


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
        self.recent = collections.deque(maxlen=1000)

    def record(self, seconds):
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(seconds)
        self.recent.append(seconds)
        self.count += 1

    def percentile(self, p):
        if not 0 <= p <= 100:
            raise ValueError(p)
        if not self.recent:
            raise ValueError("no values")
        ordered = sorted(self.recent)
        return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]

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
