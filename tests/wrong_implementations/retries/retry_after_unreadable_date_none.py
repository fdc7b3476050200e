"""One try around both dates: a Date header that cannot be read makes a readable Retry-After None."""

EXPECT = {
    "check": "check_retry_after",
    "property": "and an unreadable Date: yesterday) is about 7.0 (the date minus time.time())",
    "observed": "it returned None",
    "hint": "measure against time.time()",
}


def retry_after(response):
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    date = response.headers.get("date")
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
        now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - now)
