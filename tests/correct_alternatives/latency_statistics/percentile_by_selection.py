"""percentile without sorting: the values of the needed ranks are found by selection (heapq.nsmallest
for small ranks, a quickselect otherwise), and the rank with integer arithmetic on a Fraction."""

import heapq
import random
from fractions import Fraction

from coursekit.chapters.latency_statistics.given import METHODS


def _select(values, k):
    """The k-th smallest (0-based) by quickselect, on a copy."""
    items = list(values)
    rng = random.Random(0)
    while True:
        pivot = items[rng.randrange(len(items))]
        below = [x for x in items if x < pivot]
        equal = [x for x in items if x == pivot]
        if k < len(below):
            items = below
        elif k < len(below) + len(equal):
            return pivot
        else:
            k -= len(below) + len(equal)
            items = [x for x in items if x > pivot]


def _kth(values, k):
    return heapq.nsmallest(k + 1, values)[-1] if k < 8 else _select(values, k)


def percentile(values, p, method="nearest-rank"):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    if p < 0 or p > 100:
        raise ValueError("p outside [0, 100]")
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    if method == "nearest-rank":
        rank = max(1, math.ceil(Fraction(p) * n / 100))
        return _kth(values, rank - 1)
    h = (n - 1) * p / 100
    below = int(h)
    low = _kth(values, below)
    if below >= n - 1:
        return low
    high = _kth(values, below + 1)
    return low * (1 - (h - below)) + high * (h - below)
