"""Document 000's _percentile returns 0 when there are no values: a latency nobody measured, reported as
0 s, which reads as a fast service."""

EXPECT = {
    "check": "check_percentile_edges",
    "subject": "percentile",
    "property": "percentile([], 50, 'nearest-rank') raises ValueError: a percentile of no values does not exist",
    "observed": "returned 0",
    "hint": "document 000's _percentile returns 0",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100:
        raise ValueError(p)
    if not values:
        return 0
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[max(1, math.ceil(p * n / 100)) - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])
