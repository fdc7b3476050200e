"""Retries every httpx.TransportError: an unsupported protocol (ftp://) is one, and never goes away."""

EXPECT = {
    "check": "check_is_retryable_errors",
    "subject": "is_retryable",
    "property": "is_retryable(httpx.UnsupportedProtocol) is False",
    "observed": "it returned True",
    "hint": "nor every httpx.TransportError",
}


def is_retryable(outcome):
    if isinstance(outcome, httpx.HTTPStatusError):
        outcome = outcome.response
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or outcome.status_code >= 500
    return isinstance(outcome, httpx.TransportError)
