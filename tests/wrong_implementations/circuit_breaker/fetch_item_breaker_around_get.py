"""The breaker guards client.get itself: a 503 is a response, not an exception, so the breaker
sees a success; the status is checked afterwards, outside the breaker, where nothing counts it."""

EXPECT = {
    "check": "check_fetch_item",
    "property": "raises UpstreamError(503) inside breaker.call, where the breaker counts it",
    "observed": "returned (the breaker saw a success)",
    "hint": "httpx does not raise on a 503",
}


async def fetch_item(client, breaker, n):
    response = await breaker.call(client.get, f"/items/{n}")
    if response.is_server_error:
        raise UpstreamError(response.status_code, f"/items/{n}")
    response.raise_for_status()
    return response.json()
