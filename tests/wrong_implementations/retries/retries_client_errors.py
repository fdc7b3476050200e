"""Every error status is retried: a 400 or a 404 as much as a 503."""

EXPECT = {
    "check": "check_is_retryable_responses",
    "subject": "is_retryable",
    "property": "is_retryable(a 400 response) is False",
    "observed": "it returned True",
    "hint": "a 4xx other than 429 is the client's mistake",
}


def is_retryable(outcome):
    if isinstance(outcome, httpx.Response):
        return outcome.status_code >= 400
    return isinstance(outcome, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)
