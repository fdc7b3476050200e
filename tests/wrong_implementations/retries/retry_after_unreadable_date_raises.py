"""Reads the response's Date without a guard: a Date header that cannot be read raises instead of
falling back on time.time()."""

EXPECT = {
    "check": "check_retry_after",
    "property": "and an unreadable Date: yesterday) runs without raising",
    "observed": "raised ValueError",
    "hint": "a Date that cannot be read is as good as none",
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
    date = response.headers.get("date")
    now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
    return max(0.0, when - now)
