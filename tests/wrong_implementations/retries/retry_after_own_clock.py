"""Reads an HTTP-date Retry-After against the local clock (time.time()), not the response's Date."""

EXPECT = {
    "check": "check_retry_after",
    "property": "with Date: Thu, 01 Jan 2026 00:00:00 GMT) is 7.0",
    "observed": "it returned",
    "hint": "the response's own Date header",
}


def retry_after(response):
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
