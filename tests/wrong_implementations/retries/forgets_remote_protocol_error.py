"""Retries timeouts and network errors only: a server that drops the connection mid-answer raises
httpx.RemoteProtocolError, which is neither."""

EXPECT = {
    "check": "check_is_retryable_errors",
    "subject": "is_retryable",
    "property": "is_retryable(httpx.RemoteProtocolError) is True",
    "observed": "it returned False",
    "hint": "RemoteProtocolError are transient",
}


def is_retryable(outcome):
    if isinstance(outcome, httpx.HTTPStatusError):
        outcome = outcome.response
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or 500 <= outcome.status_code <= 599
    return isinstance(outcome, httpx.TimeoutException | httpx.NetworkError)
