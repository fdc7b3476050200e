"""Draws the jitter from the random module instead of the rng it is given: a seed repeats nothing."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "full"},
    "property": "the same seed gives the same delays",
    "observed": "a second random.Random(7) gave",
    "hint": "never from the random module",
}


def backoff_delays(strategy, *, base, cap, rng):
    n = 0
    while True:
        v = min(cap, base * 2**n)
        yield {"constant": base, "exponential": v}.get(strategy) or random.uniform(0, v)
        n += 1
