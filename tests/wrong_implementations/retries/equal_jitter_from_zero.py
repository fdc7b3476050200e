"""Equal jitter drawn like full jitter, from 0: it no longer keeps half the wait."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "equal"},
    "property": "delay 0 is in [0.5, 1]",
    "observed": "delay 0 is",
    "hint": "never below v/2",
}


def backoff_delays(strategy, *, base, cap, rng):
    n = 0
    while True:
        v = min(cap, base * 2**n)
        if strategy in ("full", "equal"):
            yield rng.uniform(0, v)
        else:
            yield v if strategy == "exponential" else base
        n += 1
