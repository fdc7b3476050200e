"""No depth limit: the crawl follows links as deep as the site goes (004's scraper has none)."""


def admit_links(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    admitted = []
    for link in links:
        if link not in depths and len(depths) < max_pages:
            depths[link] = depth
            admitted.append(link)
    return admitted


EXPECT = {
    "check": "check_admit_links",
    "args": {"max_depth": 0, "max_pages": 5},
    "property": "returns []",
    "observed": "it returned ['/pages/1', '/pages/2']",
    "hint": "depth > max_depth",
}
