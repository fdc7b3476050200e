"""The rank as ceil(p / 100 * n): p / 100 is rounded first, so for p = 7 and 100 values the rank is
ceil(7.000000000000001) = 8, not 7."""

EXPECT = {
    "check": "check_percentile_nearest_rank",
    "subject": "percentile",
    "args": {"size": 100, "seed": 2},
    "property": "nearest-rank, p=7: the value of rank ceil(7 * 100 / 100) = 7 of the sorted values",
    "observed": "returned ",
    "hint": "p / 100 * n rounds",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[max(1, math.ceil(p / 100 * n)) - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])
