"""Tries a failed request once more through the breaker: two requests for one call, and retrying is a
job for a retry layer around fetch_item (chapter 6), not for fetch_item itself."""

EXPECT = {
    "check": "check_fetch_item",
    "property": "the service answering 503 sends one request, through breaker.call",
    "observed": "breaker.call was called 2 time(s)",
    "hint": "don't call breaker.call again after an error",
}


async def fetch_item(client, breaker, n):
    async def get():
        response = await client.get(f"/items/{n}")
        if response.is_server_error:
            raise UpstreamError(response.status_code, f"/items/{n}")
        response.raise_for_status()
        return response.json()

    try:
        return await breaker.call(get)
    except UpstreamError:
        return await breaker.call(get)  # once more: the service may be back
