"""Under-filled pages and columns: an inside page whose content stops too high, or a column
left much shorter than the one beside it."""

from __future__ import annotations

from collections import defaultdict

from . import Finding, rule, title_of
from .pagemap import PageMap


@rule("fill")
def fill(pages: PageMap, settings: dict):
    least = float(settings["min_fill"])
    least_column = float(settings["min_column_fill"])
    for page in pages.pages:
        if page.kind != "article" or not page.items or page.height <= 0:
            continue
        used = (max(i.bottom for i in page.items) - page.top) / page.height
        if used < least:
            empty = round((1 - used) * 100)
            yield Finding(
                "fill", page.number, page.items[-1].article,
                f"under-filled page: {empty}% of it is empty",
                "the layout grows photos and spacing within its limits to fill it; else "
                "add text or a photo, or move a short item here",
                data={"fill": used, "growable": [
                    (i.article, i.name, i.grow, i.image_h) for earlier in pages.pages
                    if earlier.number <= page.number for i in earlier.items
                    if i.kind == "photo" and i.grow], "breaks": _breaks(pages, page, used)},
                weight=(least - used) / least)
            continue
        bands = defaultdict(lambda: defaultdict(list))
        for item in page.items:
            fragment, band, column = item.container or (0, 0, -1)
            if column >= 0:
                bands[(fragment, band)][column].append(item)
        for columns in bands.values():
            if len(columns) < 2:
                continue
            heights = {c: max(i.bottom for i in items) - min(i.y for i in items)
                       for c, items in columns.items()}
            tallest = max(heights.values())
            if tallest < page.height / 3:
                continue
            for column, height in heights.items():
                if height < least_column * tallest:
                    article = columns[column][0].article
                    photos = [(i.article, i.name, i.after) for items in columns.values()
                              for i in items if i.kind == "photo" and i.after >= 0]
                    yield Finding(
                        "fill", page.number, article,
                        f"under-filled column: column {column + 1} holds "
                        f"{round(100 * height / tallest)}% of what the column beside it "
                        f"holds", "the layout moves a photo beside it to another "
                        "paragraph; else place it elsewhere ('after:') or make it smaller",
                        data={"column": column, "kind": "column", "photos": photos},
                        weight=(least_column - height / tallest) / least_column)


def _breaks(pages: PageMap, short, used: float) -> list[tuple[str, str, float, float]]:
    """Where the page before ``short`` could end early to give it more: each article that
    starts on that page below something else, as (article, its headline, how full the page
    before stays if the article starts on a new page, about how full ``short`` becomes)."""
    before = next((p for p in pages.pages if p.number == short.number - 1), None)
    if before is None or before.kind != "article" or not before.items or before.height <= 0:
        return []
    started = {i.article for p in pages.pages if p.number < before.number for i in p.items}
    bottom = (max(i.bottom for i in before.items) - before.top) / before.height
    out, seen = [], set()
    for index, item in enumerate(before.items):
        if item.article is None or item.article in seen:
            continue
        seen.add(item.article)
        if index == 0 or item.article in started:
            continue
        keep = (max(i.bottom for i in before.items[:index]) - before.top) / before.height
        top = (min(i.y for i in before.items if i.article == item.article) - before.top) \
            / before.height
        out.append((item.article, title_of(pages, item.article), keep, used + bottom - top))
    return out
