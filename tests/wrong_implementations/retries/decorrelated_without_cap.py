"""Decorrelated jitter that forgets the cap: 3 * previous keeps growing."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "decorrelated", "base": 0.2, "cap": 6.0, "seed": 5, "count": 40},
    "property": "delay 3 is in [0.2, 6]",
    "observed": "delay",
    "hint": "never exceed cap",
}


def backoff_delays(strategy, *, base, cap, rng):
    previous = base
    while True:
        previous = rng.uniform(base, 3 * previous)
        yield previous
