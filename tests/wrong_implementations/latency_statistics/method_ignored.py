"""The method parameter is ignored: always the nearest rank, whatever the caller asked for (document 000's
unnamed method, under a name)."""

EXPECT = {
    "check": "check_percentile_linear",
    "subject": "percentile",
    "property": "0.004361599999999999 (within 2.73e-10)",
    "observed": "returned ",
    "hint": "that is the nearest-rank value",
}


def percentile(values, p, method="nearest-rank"):
    if not 0 <= p <= 100 or not values:
        raise ValueError("no values, or p outside [0, 100]")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]
