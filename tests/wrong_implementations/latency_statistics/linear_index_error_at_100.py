"""Linear interpolation that always reads x[floor(h) + 1]: at p = 100, h = n - 1 and that index is past
the end."""

EXPECT = {
    "check": "check_percentile_linear",
    "subject": "percentile",
    "property": "percentile(values, 100, 'linear') runs without raising",
    "observed": "raised IndexError",
    "hint": "no value above the last one",
}


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[max(1, math.ceil(p * n / 100)) - 1]
    h = (n - 1) * p / 100
    below = math.floor(h)
    return ordered[below] + (h - below) * (ordered[below + 1] - ordered[below])
