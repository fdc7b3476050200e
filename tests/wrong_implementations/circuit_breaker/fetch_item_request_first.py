"""The request is sent first and only its reading goes through the breaker: an open breaker cannot stop it."""

EXPECT = {
    "check": "check_fetch_item_open",
    "subject": "fetch_item",
    "property": "sends no request",
    "observed": "the service got 1 request(s)",
    "hint": "inside the function you give breaker.call",
}


async def fetch_item(client, breaker, n):
    response = await client.get(f"/items/{n}")

    async def read():
        if response.is_server_error:
            raise UpstreamError(response.status_code, f"/items/{n}")
        response.raise_for_status()
        return response.json()

    return await breaker.call(read)
