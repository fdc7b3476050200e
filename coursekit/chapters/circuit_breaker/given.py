"""What chapter 7's circuit breakers are given: their states, the error a rejection raises, and an upstream error.

- :class:`BreakerState`: ``CLOSED`` (calls go through), ``OPEN`` (calls are rejected
  without being made), ``HALF_OPEN`` (a few trial calls test whether the service is back).
- :class:`CircuitOpenError`: what a breaker raises instead of calling. It is an error of
  its own, so that callers (a retry loop above all) can tell "not even tried" from "tried
  and failed": retrying it would hammer the service the breaker has just declared down.
- :class:`UpstreamError`: an HTTP answer that says the service is failing (a 5xx status),
  raised so that a breaker can count it; httpx itself returns such answers, it does not raise.
"""

from __future__ import annotations

import enum


class BreakerState(enum.Enum):
    """The three states of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    """The breaker rejected the call without making it (open, or half open with every trial slot taken)."""


class UpstreamError(Exception):
    """The service answered with a server error (5xx); ``status`` is the status code."""

    def __init__(self, status: int, path: str = "") -> None:
        super().__init__(f"{path} answered {status}" if path else f"the service answered {status}")
        self.status, self.path = status, path
