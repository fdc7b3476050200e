"""Document 000's _percentile (section 6): the 0-based index int(n * p / 100), clamped to the last. It is
one rank too high whenever p * n / 100 is a whole number: p10 of ten values is the 2nd, p50 the 6th."""

EXPECT = {
    "check": "check_percentile_nearest_rank",
    "subject": "percentile",
    "property": "nearest-rank, p=10: the value of rank ceil(10 * 10 / 100) = 1 of the sorted values",
    "observed": "returned ",
    "hint": "document 000's _percentile",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[min(int(n * p / 100), n - 1)]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])
