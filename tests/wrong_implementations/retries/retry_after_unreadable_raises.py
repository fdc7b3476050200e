"""Tries seconds, then parses a date with no guard: a Retry-After that is neither raises instead of
giving None."""

EXPECT = {
    "check": "check_retry_after",
    "property": "retry_after(a 429 response with Retry-After: soon) runs without raising",
    "observed": "raised",
    "hint": "catch the parser's",
}


def retry_after(response):
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    when = email.utils.parsedate_to_datetime(value).timestamp()
    try:
        now = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        now = time.time()
    return max(0.0, when - now)
