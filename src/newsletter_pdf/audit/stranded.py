"""Stranded heads: a kicker, headline, subhead or box title with fewer than
``min_lines_after_head`` lines of its text after it in its column, its text going on later."""

from __future__ import annotations

from . import Finding, rule, title_of
from .order import HEAD_ROLES, containers
from .pagemap import PageMap

WHAT = {"head": "headline", "subhead": "subhead", "box-title": "box title"}
FOLLOWERS = {"head": {"body", "table", "quote", "box", "caption"}, "subhead": {"body", "table"},
             "box-title": {"box"}}


@rule("stranded")
def stranded(pages: PageMap, settings: dict):
    need = int(settings["min_lines_after_head"])
    later_text: dict[str, int] = {}  # article -> index of its last text line, whole issue
    flat = [(page, item) for page in pages.pages for item in page.items]
    for index, (_, item) in enumerate(flat):
        if item.kind == "line" and item.role in ("body", "box"):
            later_text[item.article] = index
    position = {id(item): i for i, (_, item) in enumerate(flat)}
    for page in pages.pages:
        groups = containers(page)
        order = list(groups)
        for key in order:
            items = groups[key]
            i = 0
            while i < len(items):
                item = items[i]
                if not (item.kind == "line" and item.role in HEAD_ROLES):
                    i += 1
                    continue
                run_end = i
                while (run_end + 1 < len(items) and items[run_end + 1].kind == "line"
                       and items[run_end + 1].role in HEAD_ROLES):
                    run_end += 1
                head = items[run_end]
                follow = FOLLOWERS[head.role]
                if key[2] == -1:  # spanning: what follows is the next column band on the page
                    after = []
                    for other in order[order.index(key) + 1:]:
                        if other[2] != -1:
                            after = groups[other]
                            break
                        after_span = [x for x in groups[other] if x.kind == "line"]
                        if after_span:
                            after = after_span
                            break
                    # the rest of this spanning group too (a spanning box's lines)
                    after = items[run_end + 1:] + after
                else:
                    after = items[run_end + 1:]
                count = sum(1 for x in after if x.kind == "line" and x.role in follow
                            and x.article == head.article)
                if count < need and later_text.get(head.article, -1) > position[id(head)] \
                        and not _ends_here(after, flat, position, head):
                    first = items[i]
                    before = [x.article for x in page.items[:page.items.index(first)]
                              if x.article and x.article != head.article]
                    yield Finding(
                        "stranded", page.number, head.article,
                        f"stranded {WHAT[first.role]} “{first.name}” in "
                        f"{title_of(pages, head.article)}: {count} line(s) of its text "
                        f"follow it on this page, the rest on the next",
                        "the layout moves it to the next column or page; else cut or add "
                        "a few lines before it",
                        item=first.name, selector=first.selector,
                        data={"role": first.role, "spanning": key[2] == -1,
                              "previous": before[-1] if before else None})
                i = run_end + 1


def _ends_here(after, flat, position, head) -> bool:
    """True if the head's text is complete on this page (a short item, not stranded)."""
    lines = [x for x in after if x.kind == "line" and x.article == head.article]
    if not lines:
        return False
    last = position[id(lines[-1])]
    return not any(item.article == head.article and item.kind == "line"
                   and item.role in ("body", "box")
                   for _, item in flat[last + 1:])
