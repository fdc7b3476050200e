"""'linear' taken from statistics.quantiles(values, n=100) with its default method='exclusive': that is
Hyndman & Fan type 6 (h = (n + 1) * p / 100), not type 7, and another number for the same data."""

EXPECT = {
    "check": "check_percentile_linear",
    "subject": "percentile",
    "property": "0.004361599999999999 (within 2.73e-10)",
    "observed": "returned ",
    "hint": "statistics.quantiles' default, method='exclusive'",
}


import statistics


def percentile(values, p, method="nearest-rank"):
    if method not in ("nearest-rank", "linear"):
        raise ValueError(method)
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    n = len(ordered)
    if method == "nearest-rank":
        return ordered[max(1, math.ceil(p * n / 100)) - 1]
    if p == 0 or n == 1:
        return ordered[0]
    if p == 100:
        return ordered[-1]
    return statistics.quantiles(ordered, n=100)[int(p) - 1] if p == int(p) else ordered[0]
