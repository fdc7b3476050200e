"""Document 000's LatencyStats (section 6) behind the exercise's interface: every value in a list, and a
summary() that divides the sum by the count, which raises ZeroDivisionError when nothing was recorded."""

EXPECT = {
    "check": "check_recorder_basics",
    "subject": "LatencyRecorder",
    "property": "summary() of an empty recorder runs without raising",
    "observed": "raised ZeroDivisionError",
    "hint": "document 000's summary() divides",
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
        self.latencies = []

    def record(self, seconds):
        if not self.lowest <= seconds <= self.highest:
            raise ValueError(seconds)
        self.latencies.append(seconds)
        self.count += 1

    def percentile(self, p):
        if not 0 <= p <= 100:
            raise ValueError(p)
        if not self.latencies:
            return 0
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)]

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
        return {
            "count": self.count,
            "avg": sum(self.latencies) / len(self.latencies),
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
        }
