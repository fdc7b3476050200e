"""Lists the 5xx statuses seen in examples (500, 502, 503, 504) instead of the whole 5xx range: a 501
or a 505 is not retried."""

EXPECT = {
    "check": "check_is_retryable_responses",
    "subject": "is_retryable",
    "args": {"statuses": (202, 307, 405, 410, 418, 501, 505, 599)},
    "property": "is_retryable(a 501 response) is True",
    "observed": "it returned False",
    "hint": "every 5xx",
}


def is_retryable(outcome):
    if isinstance(outcome, httpx.HTTPStatusError):
        outcome = outcome.response
    if isinstance(outcome, httpx.Response):
        return outcome.status_code in (429, 500, 502, 503, 504)
    return isinstance(outcome, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)
