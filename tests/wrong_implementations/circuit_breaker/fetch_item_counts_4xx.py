"""Every error status is an UpstreamError: a 429 (the client asked too often) would open the breaker."""

EXPECT = {
    "check": "check_fetch_item",
    "property": "raises httpx.HTTPStatusError, not UpstreamError: a 4xx is not the service failing",
    "observed": "raised UpstreamError",
    "hint": "5xx answers only",
}


async def fetch_item(client, breaker, n):
    async def get():
        response = await client.get(f"/items/{n}")
        if response.status_code >= 400:
            raise UpstreamError(response.status_code, f"/items/{n}")
        return response.json()

    return await breaker.call(get)
