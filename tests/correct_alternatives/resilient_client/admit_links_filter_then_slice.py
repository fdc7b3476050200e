"""admit_links with dict.fromkeys (order-keeping deduplication within the page), a filter against
what was seen, and a slice for the room left under max_pages."""


def admit_links(links: list[str], depth: int, depths: dict[str, int], *, max_depth: int, max_pages: int) -> list[str]:
    if depth > max_depth:
        return []
    fresh = [link for link in dict.fromkeys(links) if link not in depths]
    admitted = fresh[: max(0, max_pages - len(depths))]
    depths.update(dict.fromkeys(admitted, depth))
    return admitted
