"""Subtracts the dates and returns the difference as it is: a date already past gives a negative wait."""

EXPECT = {
    "check": "check_retry_after",
    "property": "(in the past) with Date: Thu, 01 Jan 2026 00:00:00 GMT) is 0.0",
    "observed": "it returned -7.0",
    "hint": "never below 0.0",
}


def retry_after(response):
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    try:
        now = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        now = time.time()
    return when - now
