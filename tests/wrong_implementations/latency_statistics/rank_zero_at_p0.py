"""The rank ceil(p * n / 100) without its floor of 1: at p = 0 the rank is 0, the index -1, and p0 is
the largest value."""

EXPECT = {
    "check": "check_percentile_nearest_rank",
    "subject": "percentile",
    "property": "nearest-rank, p=0: the value of rank ceil(0 * 10 / 100) = 1 of the sorted values",
    "observed": "returned ",
    "hint": "index -1, the largest value",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[math.ceil(p * n / 100) - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])
