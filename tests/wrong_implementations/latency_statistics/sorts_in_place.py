"""Sorts the caller's list in place (values.sort()): the right answers, and the caller's data reordered
behind its back (a list of latencies in arrival order is no longer in arrival order)."""

EXPECT = {
    "check": "check_percentile_edges",
    "subject": "percentile",
    "property": "the caller's values are not changed",
    "observed": "the list is [0.1, 0.2, 0.3, 0.4, 0.5]",
    "hint": "sort a copy",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    values.sort()
    n = len(values)
    if method == "nearest-rank":
        return values[max(1, math.ceil(p * n / 100)) - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return values[below] + (h - below) * (values[above] - values[below])
