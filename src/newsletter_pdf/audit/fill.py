"""Under-filled pages and columns: an inside page whose content stops too high, or a column
left much shorter than the one beside it."""

from __future__ import annotations

from collections import defaultdict

from . import Finding, rule
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
                    if i.kind == "photo" and i.grow]})
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
                        data={"column": column, "kind": "column", "photos": photos})
