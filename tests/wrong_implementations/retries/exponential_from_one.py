"""Counts retries from 1, so the first delay is already 2 * base."""

EXPECT = {
    "check": "check_backoff_delays",
    "property": "delay 0 is 1",
    "observed": "delay 0 is 2",
    "hint": "count n from 0",
}


def backoff_delays(strategy, *, base, cap, rng):
    n = 1
    while True:
        v = min(cap, base * 2**n)
        yield {"constant": base, "exponential": v, "full": rng.uniform(0, v), "equal": rng.uniform(v / 2, v)}.get(
            strategy, v
        )
        n += 1
