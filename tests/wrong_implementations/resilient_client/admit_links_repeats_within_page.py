"""Deduplicates against the pages seen before only, not within the page's own links (004's scraper
checks `visited` when it takes a URL, not when it queues it): a link twice on one page is crawled
twice."""


def admit_links(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    if depth > max_depth:
        return []
    admitted = [link for link in links if link not in depths][: max(0, max_pages - len(depths))]
    for link in admitted:
        depths[link] = depth
    return admitted


EXPECT = {
    "check": "check_admit_links",
    "property": "returns ['/pages/1', '/pages/2']",
    "observed": "it returned ['/pages/1', '/pages/2', '/pages/1']",
    "hint": "earlier in the list",
}
