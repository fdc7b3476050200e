"""Reads Retry-After only as an HTTP date: the common form, a number of seconds, gives None."""

EXPECT = {
    "check": "check_retry_after",
    "property": "retry_after(a 429 response with Retry-After: 3) is 3.0",
    "observed": "it returned None",
    "hint": "a number is seconds",
}


def retry_after(response):
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    try:
        now = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        now = time.time()
    return max(0.0, when - now)
