"""Linear interpolation with h = n * p / 100: positions run from 0 to n - 1, so every answer is shifted
up by up to one position."""

EXPECT = {
    "check": "check_percentile_linear",
    "subject": "percentile",
    "property": "0.004361599999999999 (within 2.73e-10)",
    "observed": "returned ",
    "hint": "not n * p / 100",
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
    h = min(n * p / 100, n - 1)
    below = math.floor(h)
    above = min(below + 1, n - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])
