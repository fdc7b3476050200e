"""Logarithmic buckets found with floor instead of ceil ([g**k, g**(k+1)) ), the bucket ratio g chosen
with a margin ((1 + 0.99 e) / (1 - 0.99 e)), reported by the geometric middle, and the counts kept in a
collections.Counter; min and max kept exactly and used to clamp the answer."""

from collections import Counter


class LatencyRecorder:
    def __init__(self, relative_error=0.01, lowest=1e-6, highest=3600.0):
        if not 0 < relative_error < 1:
            raise ValueError(f"relative_error must be in (0, 1), got {relative_error!r}")
        if not 0 < lowest < highest:
            raise ValueError(f"need 0 < lowest < highest, got {lowest!r}, {highest!r}")
        self.relative_error = relative_error
        self.lowest = lowest
        self.highest = highest
        self.count = 0
        e = 0.99 * relative_error
        self.ratio = (1 + e) / (1 - e)
        self.buckets = Counter()
        self.smallest = self.largest = None

    def record(self, seconds):
        if not (self.lowest <= seconds <= self.highest):
            raise ValueError("outside [lowest, highest]")
        self.buckets[math.floor(math.log(seconds, self.ratio))] += 1
        self.count += 1
        self.smallest = seconds if self.smallest is None else min(self.smallest, seconds)
        self.largest = seconds if self.largest is None else max(self.largest, seconds)

    def percentile(self, p):
        if not (0 <= p <= 100) or self.count == 0:
            raise ValueError("p outside [0, 100], or nothing recorded")
        rank = max(1, math.ceil(p * self.count / 100))
        running = 0
        for k, n in sorted(self.buckets.items()):
            running += n
            if running >= rank:
                middle = 2 * self.ratio ** (k + 1) / (self.ratio + 1)
                return min(max(middle, self.smallest), self.largest)
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
        if not self.count:
            return dict(count=0, p50=None, p95=None, p99=None)
        return dict(count=self.count, p50=self.p50, p95=self.p95, p99=self.p99)
