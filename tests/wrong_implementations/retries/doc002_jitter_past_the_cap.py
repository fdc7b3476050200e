"""Document 002's jitter, `delay *= 0.5 + random()`: in [v/2, 3v/2], so past its own cap."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "full", "base": 1.0, "cap": 4.0},
    "property": "is in [0, 4]",
    "observed": "delay",
    "hint": "never exceed cap",
}


def backoff_delays(strategy, *, base, cap, rng):
    n = 0
    while True:
        delay = min(cap, base * 2**n)
        if strategy == "full":
            delay *= 0.5 + rng.random()
        yield delay
        n += 1
