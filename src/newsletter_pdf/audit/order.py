"""Reading order helpers shared by the rules: containers, and what comes after what."""

from __future__ import annotations

from collections import defaultdict

from .pagemap import Item, Page

TEXT_ROLES = {"body", "table", "quote", "caption", "box"}
HEAD_ROLES = {"head", "subhead", "box-title"}


def containers(page: Page) -> dict[tuple, list[Item]]:
    """The page's items grouped by container (fragment, band, column), in reading order."""
    groups: dict[tuple, list[Item]] = defaultdict(list)
    for item in page.items:
        groups[item.container].append(item)
    return dict(groups)


def body_lines(items, article: str | None = None) -> list[Item]:
    return [i for i in items if i.kind == "line" and i.role == "body"
            and (article is None or i.article == article)]
