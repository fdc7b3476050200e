"""Decorrelated jitter that never updates `previous`: every delay is drawn from [base, 3 * base], so the
waits never grow."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "decorrelated"},
    "property": "over 200 delays, some pass 3 * base = 3 (each range grows with the delay before)",
    "observed": "the longest of 200 delays was",
    "hint": "previous is the delay you yielded before",
}


def backoff_delays(strategy, *, base, cap, rng):
    previous = base
    n = 0
    while True:
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
            yield min(cap, rng.uniform(base, 3 * previous))
        n += 1
