"""Any method other than 'linear' falls back to the nearest rank: percentile(values, 50, 'exclusive')
answers, with a method the caller did not get."""

EXPECT = {
    "check": "check_percentile_edges",
    "subject": "percentile",
    "property": "percentile([0.1, 0.2], 50, 'exclusive') raises ValueError: the method is unknown",
    "observed": "returned 0.1",
    "hint": "accept exactly 'nearest-rank' and 'linear'",
}


def percentile(values, p, method="nearest-rank"):
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "linear":
        h = (n - 1) * p / 100
        below = math.floor(h)
        above = min(below + 1, n - 1)
        return ordered[below] + (h - below) * (ordered[above] - ordered[below])
    return ordered[max(1, math.ceil(p * n / 100)) - 1]
