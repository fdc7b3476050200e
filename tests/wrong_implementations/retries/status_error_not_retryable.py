"""Classifies responses and transport errors, but not the HTTPStatusError that raise_for_status() raises:
a 503 raised that way is never retried."""

EXPECT = {
    "check": "check_is_retryable_errors",
    "subject": "is_retryable",
    "property": "is_retryable(httpx.HTTPStatusError of a 503) is True",
    "observed": "it returned False",
    "hint": "an HTTPStatusError carries its .response",
}


def is_retryable(outcome):
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or 500 <= outcome.status_code <= 599
    return isinstance(outcome, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)
