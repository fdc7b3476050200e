"""Status codes as sets, exception classes as a tuple; Retry-After dates through parsedate_tz and mktime_tz."""

import email.utils

RETRY_STATUSES = frozenset([429, *range(500, 600)])
TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def is_retryable(outcome):
    response = getattr(outcome, "response", None) if isinstance(outcome, httpx.HTTPStatusError) else outcome
    if isinstance(response, httpx.Response):
        return response.status_code in RETRY_STATUSES
    return isinstance(outcome, TRANSIENT)


def retry_after(response):
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(0.0, float(int(header)))  # int() takes a sign: never below 0.0
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(header)
    if parsed is None:
        return None
    date = email.utils.parsedate_tz(response.headers.get("Date", ""))
    now = email.utils.mktime_tz(date) if date is not None else time.time()
    return max(0.0, float(email.utils.mktime_tz(parsed) - now))
