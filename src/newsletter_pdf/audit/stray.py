"""Stray lines: the last few lines of an article alone at the top of a page (its text, its
head and its photos all on earlier pages), above the next article or white space."""

from __future__ import annotations

from collections import Counter

from . import Finding, rule, title_of
from .pagemap import PageMap, _css_ident


@rule("stray")
def stray(pages: PageMap, settings: dict):
    most = int(settings["stray_lines"])
    last_page: dict[str, int] = {}
    first_page: dict[str, int] = {}
    for page, item in pages.items():
        if item.article is None:
            continue
        first_page.setdefault(item.article, page.number)
        last_page[item.article] = page.number
    for article, number in last_page.items():
        if first_page[article] == number:
            continue
        page = pages.pages[number - 1]
        mine = [i for i in page.items if i.article == article]
        if any(i.kind != "line" or i.role not in ("body", "table", "box") for i in mine):
            continue  # a head, photo or box of its own: a real part of the article
        per_column = Counter(i.container for i in mine)
        lines = sum(per_column.values())
        before = pages.pages[number - 2]
        neighbours = sorted({i.article for i in before.items if i.article}, key=str)
        # stray when any column holds only 1..most of them (3 and 4 lines in two
        # columns: the 3 stand apart, as a reader and the outside check see it)
        if lines and min(per_column.values()) <= most:
            yield Finding(
                "stray", number, article,
                f"stray lines: the last {lines} line(s) of {title_of(pages, article)} stand "
                f"alone at the top of the page, its text on page {number - 1}",
                f"cut about {lines} line(s) from the article, or the layout tightens it",
                selector=f"#{_css_ident(article)}",
                data={"lines": lines, "page_articles": neighbours,
                      "kind": pages.kinds.get(article) or "default"})
