"""The UpstreamError of a 5xx answer does not say which request failed: no path."""

EXPECT = {
    "check": "check_fetch_item",
    "property": "the UpstreamError names the request's path, UpstreamError(503, '/items/13')",
    "observed": "its path is ''",
    "hint": "UpstreamError(response.status_code, f'/items/{n}')",
}


async def fetch_item(client, breaker, n):
    async def get():
        response = await client.get(f"/items/{n}")
        if response.is_server_error:
            raise UpstreamError(response.status_code)
        response.raise_for_status()
        return response.json()

    return await breaker.call(get)
