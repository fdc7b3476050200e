"""Yields ten delays and stops, as if no retry loop ever needed more: `range(10)` instead of for ever."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "constant"},
    "property": "yields at least 12 delays",
    "observed": "it stopped after 10",
    "hint": "the generator never ends",
}


def backoff_delays(strategy, *, base, cap, rng):
    previous = base
    for n in range(10):
        v = min(cap, base * 2**n)
        if strategy == "constant":
            yield base
        elif strategy == "exponential":
            yield v
        elif strategy == "full":
            yield rng.uniform(0, v)
        elif strategy == "equal":
            yield v / 2 + rng.uniform(0, v / 2)
        else:
            previous = min(cap, rng.uniform(base, 3 * previous))
            yield previous
