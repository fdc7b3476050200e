"""The protected function takes the path as an argument; a 4xx is raised by hand, a 5xx by status range."""


async def _get_json(client, path):
    response = await client.get(path)
    if 500 <= response.status_code < 600:
        raise UpstreamError(response.status_code, path)
    if response.status_code >= 400:
        raise httpx.HTTPStatusError(f"{response.status_code}", request=response.request, response=response)
    return response.json()


async def fetch_item(client, breaker, n):
    return await breaker.call(_get_json, client, f"/items/{n}")
