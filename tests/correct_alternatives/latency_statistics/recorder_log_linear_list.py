"""An HdrHistogram-like layout: powers of two (math.frexp's exponent), each split into 64 equal
sub-buckets, counted in one preallocated list; a bucket is reported by its middle. With 64 sub-buckets
a bucket's half-width is at most 1/128 of its value: the 1% bound holds; for smaller errors the number
of sub-buckets grows to the next power of two above 1 / relative_error."""


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
        self.sub = 2 ** math.ceil(math.log2(1 / relative_error))
        self.first = math.frexp(lowest)[1]
        groups = math.frexp(highest)[1] - self.first + 1
        self.counts = [0] * (groups * self.sub)

    def _index(self, seconds):
        mantissa, exponent = math.frexp(seconds)  # seconds = mantissa * 2**exponent, 0.5 <= mantissa < 1
        return (exponent - self.first) * self.sub + int((mantissa - 0.5) * 2 * self.sub)

    def _middle(self, index):
        group, step = divmod(index, self.sub)
        low = math.ldexp(0.5 + step / (2 * self.sub), group + self.first)
        high = math.ldexp(0.5 + (step + 1) / (2 * self.sub), group + self.first)
        return (low + high) / 2

    def record(self, seconds):
        if seconds < self.lowest or seconds > self.highest:
            raise ValueError(f"{seconds!r} outside the range")
        self.counts[self._index(seconds)] += 1
        self.count += 1

    def percentile(self, p):
        if p < 0 or p > 100:
            raise ValueError("p outside [0, 100]")
        if not self.count:
            raise ValueError("no values recorded")
        rank = max(1, math.ceil(p * self.count / 100))
        seen = 0
        for index, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                return self._middle(index)
        raise AssertionError("unreachable")

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
        names = ("p50", "p95", "p99")
        return {"count": self.count, **{name: getattr(self, name) if self.count else None for name in names}}
