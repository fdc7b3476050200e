"""An `if` where an `elif` was meant: the constant delay is overwritten by the exponential one."""

EXPECT = {
    "check": "check_backoff_delays",
    "args": {"strategy": "constant"},
    "property": "delay 1 is 1",
    "observed": "delay 1 is 2",
    "hint": "every delay is base",
}


def backoff_delays(strategy, *, base, cap, rng):
    n = 0
    while True:
        if strategy == "constant":
            delay = base
        if strategy in ("constant", "exponential"):
            delay = min(cap, base * 2**n)
        elif strategy == "full":
            delay = rng.uniform(0, min(cap, base * 2**n))
        elif strategy == "equal":
            v = min(cap, base * 2**n)
            delay = v / 2 + rng.uniform(0, v / 2)
        yield delay
        n += 1
