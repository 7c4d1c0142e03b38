"""Overflow: text, a photo or a table reaching past its column or the page (a long word, a
URL, a wide table)."""

from __future__ import annotations

from . import Finding, rule, title_of
from .pagemap import PageMap


@rule("overflow")
def overflow(pages: PageMap, settings: dict):
    slack = float(settings["tolerance_px"])
    seen: set = set()
    for page in pages.pages:
        for item in page.items:
            left, right = item.limit
            if right <= left:
                continue
            if item.kind == "line":
                start, end = item.ink_left, item.ink_right
            else:
                start, end = item.x, item.x + item.w
            outside = max(end - right, left - start)
            key = (item.block, item.kind)
            if outside > slack and key not in seen:
                seen.add(key)
                what = "text" if item.kind == "line" else item.kind
                yield Finding(
                    "overflow", page.number, item.article,
                    f"{what} runs {outside * 0.2646:.1f} mm past its column in "
                    f"{title_of(pages, item.article)} (“{item.name[:40]}”)",
                    "break the long word or address, or make the table narrower; the "
                    "layout makes a wide table span both columns",
                    item=item.name, selector=item.selector, data={"kind": item.kind})
