"""Widows and orphans: a paragraph split across columns or pages leaving one line alone."""

from __future__ import annotations

from collections import OrderedDict

from . import Finding, rule, title_of
from .pagemap import PageMap


@rule("widows")
def widows(pages: PageMap, settings: dict):
    parts: dict[int, OrderedDict] = {}
    where: dict[tuple, int] = {}
    for page, item in pages.items():
        if item.kind != "line" or item.role != "body" or item.block < 0:
            continue
        key = (page.number, item.container)
        parts.setdefault(item.block, OrderedDict()).setdefault(key, []).append(item)
        where[key] = page.number
    for fragments in parts.values():
        if len(fragments) < 2:
            continue
        keys = list(fragments)
        first, last = fragments[keys[0]], fragments[keys[-1]]
        for lines, kind, key in ((first, "orphan", keys[0]), (last, "widow", keys[-1])):
            if len(lines) == 1:
                item = lines[0]
                yield Finding(
                    "widows", where[key], item.article,
                    f"{kind}: one line of a paragraph of {title_of(pages, item.article)} "
                    f"alone in its column (“{item.name[:30]}…”)",
                    "add or cut a few words in the paragraph", item=item.name,
                    selector=item.selector)
