"""Backoff delays with itertools.count and a table of functions, drawing equal jitter in one uniform."""

import itertools


def backoff_delays(strategy, *, base, cap, rng):
    previous = base
    for n in itertools.count():
        ceiling = min(cap, base * 2.0**n)
        if strategy == "decorrelated":
            previous = min(cap, rng.uniform(base, previous * 3))
            yield previous
            continue
        draw = {
            "constant": lambda c: base,
            "exponential": lambda c: c,
            "full": lambda c: rng.uniform(0.0, c),
            "equal": lambda c: rng.uniform(c / 2, c),
        }[strategy]
        yield draw(ceiling)
