"""Photos, boxes and pull quotes away from their article: on a page that holds none of the
article's text, or alone on a page."""

from __future__ import annotations

from . import Finding, rule, title_of
from .pagemap import PageMap

WHAT = {"photo": "photo", "box": "box", "quote": "pull quote", "table": "table"}


@rule("separated")
def separated(pages: PageMap, settings: dict):
    for page in pages.pages:
        if page.kind != "article":
            continue
        text = {i.article for i in page.items if i.kind == "line"
                and i.role in ("body", "head", "subhead")}
        for item in page.items:
            if item.kind not in WHAT or item.article in text:
                continue
            alone = not text
            name = f" {item.name}" if item.name else ""
            where = ("alone on the page" if alone else
                     f"on a page with none of the text of {title_of(pages, item.article)}")
            yield Finding(
                "separated", page.number, item.article,
                f"{WHAT[item.kind]}{name} is {where}",
                "the layout moves it to an earlier paragraph or shrinks it; else place it "
                "earlier ('after: N' on it) or drop it",
                item=item.name, selector=item.selector,
                data={"kind": item.kind, "alone": alone,
                      "photos": [(item.article, item.name, item.after)]
                      if item.kind == "photo" and item.after >= 0 else []})
