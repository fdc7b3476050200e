"""Equal jitter whose random part spans a quarter of v, not half: delays in [v/2, 3v/4], never near v."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "equal"},
    "property": "over 200 delays, jitter covers [v/2, v] (some in its lowest tenth, some in its highest)",
    "observed": "% of [v/2, v]",
    "hint": "the top of the range is never reached",
}


def backoff_delays(strategy, *, base, cap, rng):
    previous = base
    n = 0
    while True:
        v = min(cap, base * 2**n)
        half = v / 2
        if strategy == "constant":
            yield base
        elif strategy == "exponential":
            yield v
        elif strategy == "full":
            yield rng.uniform(0, v)
        elif strategy == "equal":
            yield half + rng.uniform(0, half / 2)
        else:
            previous = min(cap, rng.uniform(base, 3 * previous))
            yield previous
        n += 1
