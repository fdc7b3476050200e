"""Checks the page cap before adding with `<=`: depths ends with max_pages + 1 URLs (004's scraper
compares `len(self.visited) < max_pages` at one place and `>=` at another)."""


def admit_links(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    admitted: list[str] = []
    if depth > max_depth:
        return admitted
    for link in links:
        if link not in depths and len(depths) <= max_pages:
            depths[link] = depth
            admitted.append(link)
    return admitted


EXPECT = {
    "check": "check_admit_links",
    "property": "returns ['/pages/3', '/pages/4']",
    "observed": "it returned ['/pages/3', '/pages/4', '/pages/5']",
    "hint": "once depths holds max_pages URLs",
}
