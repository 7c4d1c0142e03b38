"""The laid-out pages as the audit sees them: what sits where, read from WeasyPrint's box tree.

The walk runs in the render child, on the document WeasyPrint has just laid out (no PDF
parsing), and returns small picklable records:

* one :class:`Page` per page, with its content area and its kind (cover, article, back,
  notes, contents);
* on each page, :class:`Item` records in reading order: every text line (with its role —
  body, head, subhead, caption, box, quote…), every photo, box, pull quote and table, each
  with the article it belongs to, its rectangle, and its *container*: which band (the text
  between two spanning elements) and which column of that band it sits in.

Reading order on a page: article fragments in document order; inside each, bands top to
bottom, the spanning elements of a band first, then its columns in the article's reading
direction (the first column is on the right in a right-to-left article).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# Classes of the built-in templates (a layout that renames them gets role "body").
HEAD_CLASSES = {"kicker": "head", "article-title": "head", "deck": "head", "byline": "head",
                "subhead": "subhead", "minor-head": "subhead", "box-title": "box-title",
                "notes-title": "notes"}
BLOCK_CLASSES = {"photo": "photo", "box": "box", "pull-quote": "quote"}
PAGE_CLASSES = {"cover": "cover", "back-page": "back", "notes-page": "notes",
                "contents-page": "contents"}


@dataclass
class Item:
    """One thing on a page: a line of text or a block (photo, box, quote, table)."""

    kind: str            # "line", "photo", "box", "quote", "table"
    role: str            # lines: body, head, subhead, box-title, box, caption, quote, table
    article: str | None  # the id of the article it belongs to
    x: float
    y: float
    w: float
    h: float
    container: tuple = ()    # (fragment, band, column) on its page; column -1 = spanning
    block: int = -1          # the block element (paragraph, figure…) it belongs to
    selector: str = ""       # a CSS selector for that block (for repairs)
    name: str = ""           # a photo's file, a box's id, a heading's first words
    ink_right: float = 0.0   # lines: where the text really ends (overflow check)
    ink_left: float = 0.0
    limit: tuple[float, float] = (0.0, 0.0)  # the left and right edges it must stay within
    lines: int = 1           # blocks: how many lines of text they hold
    after: int = -1          # photos: the paragraph of their article they follow (-1: unknown)
    grow: int = 0            # column photos: the tallest (mm) their original allows
    image_h: float = 0.0     # photos: the height of the picture itself (no caption)
    image_w: float = 0.0     # photos: its width
    wide: int = 0            # column photos: the widest (mm) their original allows
    para: int = 0            # lines: the paragraph of their article they belong to (1…)

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Page:
    number: int
    kind: str  # cover, article, back, notes, contents, blank
    top: float
    bottom: float
    left: float
    right: float
    items: list[Item] = field(default_factory=list)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class PageMap:
    pages: list[Page]
    rtl: dict[str, bool] = field(default_factory=dict)   # article id -> right-to-left
    titles: dict[str, str] = field(default_factory=dict)  # article id -> its headline
    kinds: dict[str, str] = field(default_factory=dict)   # article id -> kind (letter…)
    #: article id -> the words the layout may set as a pull quote to fill a short page,
    #: best first: (text, the paragraph they come from (0: none), the editor's spare quote)
    quotes: dict[str, list] = field(default_factory=dict)
    #: placed panels (absolutely positioned: the cover's bands) that do not hold their text:
    #: (page, the panel's first class, how far past its foot in px (0: it broke onto the
    #: next page), the first words that do not fit)
    panels: list[tuple[int, str, float, str]] = field(default_factory=list)
    #: the template holds a contents list for page 2 that is not shown (the contents is on
    #: the cover): a move may show it there instead
    standby_contents: bool = False

    def items(self, article: str | None = None):
        for page in self.pages:
            for item in page.items:
                if article is None or item.article == article:
                    yield page, item


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split()) if element is not None else set()


def page_map(document, root=None) -> PageMap:
    """Walk a rendered WeasyPrint document (``root``: its ``etree_element``, for selectors)."""
    from weasyprint.formatting_structure import boxes

    parents: dict[int, object] = {}
    if root is not None:
        for parent in root.iter():
            for child in parent:
                parents[id(child)] = parent
    block_ids: dict[int, int] = {}
    selectors: dict[int, str] = {}

    def block_key(element) -> int:
        return block_ids.setdefault(id(element), len(block_ids))

    def selector(element) -> str:
        key = id(element)
        if key in selectors:
            return selectors[key]
        steps = []
        node = element
        while node is not None:
            if node.get("id"):
                steps.append(f"#{_css_ident(node.get('id'))}")
                break
            parent = parents.get(id(node))
            if parent is None:
                steps = []
                break
            index = list(parent).index(node) + 1
            steps.append(f":nth-child({index})")
            node = parent
        selectors[key] = " > ".join(reversed(steps))
        return selectors[key]

    result = PageMap([])

    def walk(box, page: Page, ctx: dict) -> None:
        element = getattr(box, "element", None)
        tag = getattr(box, "element_tag", "") or ""
        classes = _classes(element) if "::" not in tag else set()
        ctx = dict(ctx)
        if tag == "article" and "story" in classes and ctx.get("article") is None:
            ctx["article"] = element.get("id")
            ctx["rtl"] = (element.get("dir") or "") == "rtl"
            result.rtl.setdefault(ctx["article"], ctx["rtl"])
            kind = next((c[5:] for c in classes if c.startswith("kind-")), "")
            result.kinds.setdefault(ctx["article"], kind)
            result.quotes.setdefault(ctx["article"], _fill_quotes(element))
            ctx["fragment"] = ctx["fragments"][0] = ctx["fragments"][0] + 1
            ctx["container"] = (ctx["fragment"], 0, -1)
            ctx["limit"] = (box.content_box_x(), box.content_box_x() + box.width)
        if ctx.get("article") and _multicol(box) and not ctx.get("in_columns"):
            _walk_columns(box, page, dict(ctx, in_columns=True))
            return
        for name, kind in PAGE_CLASSES.items():
            if name in classes and page.kind in ("article", "blank"):
                page.kind = kind
        for name, role in HEAD_CLASSES.items():
            if name in classes:
                ctx["role"] = role
                ctx["block"] = element
        kind = next((k for name, k in BLOCK_CLASSES.items() if name in classes), None)
        if tag == "figure":
            kind = "photo"
        if tag == "table":
            kind = "table"
        if kind and ctx.get("article"):
            item = Item(kind, kind, ctx["article"], box.position_x, box.position_y,
                        box.margin_width(), box.margin_height(), ctx.get("container", ()),
                        block_key(element), selector(element),
                        _block_name(element, kind), limit=ctx.get("limit", (0.0, 0.0)))
            if kind == "photo":
                if (element.get("data-after") or "").isdigit():
                    item.after = int(element.get("data-after"))
                if (element.get("data-grow") or "").isdigit():
                    item.grow = int(element.get("data-grow"))
                if (element.get("data-wide") or "").isdigit():
                    item.wide = int(element.get("data-wide"))
                pictures = [d for d in box.descendants() if isinstance(d, boxes.ReplacedBox)]
                item.image_h = max((d.height for d in pictures), default=0.0)
                item.image_w = max((d.width for d in pictures), default=0.0)
            page.items.append(item)
            ctx["role"] = {"photo": "caption", "box": "box", "quote": "quote",
                           "table": "table"}[kind]
            ctx["block"] = element
            ctx["owner"] = item
        if isinstance(box, boxes.LineBox):
            _line(box, page, ctx)
            return
        if element is not None and "::" not in tag and \
                getattr(box, "style", {}).get("position") in ("absolute", "fixed"):
            _panel(box, page, classes)
        if (isinstance(box, boxes.BlockBox) and element is not None and "::" not in tag
                and ctx.get("role", "body") == "body" and tag not in ("article", "section")):
            ctx["block"] = element
        for child in getattr(box, "children", None) or []:
            walk(child, page, ctx)

    def _walk_columns(box, page: Page, ctx: dict) -> None:
        """An article's fragment on this page: spanning children and column boxes."""
        inner = (box.content_box_x(), box.content_box_x() + box.width)
        band = 0
        previous_was_column = False
        children = list(getattr(box, "children", None) or [])
        xs = sorted({round(c.position_x) for c in children
                     if c.margin_width() < 0.9 * box.width})
        if ctx["rtl"]:
            xs.reverse()
        for child in children:
            spanning = child.margin_width() >= 0.9 * box.width or not xs
            if spanning:
                if previous_was_column and xs:
                    band += 1
                column = -1 if xs else 0
                previous_was_column = False
            else:
                column = xs.index(round(child.position_x))
                previous_was_column = True
            child_ctx = dict(ctx, container=(ctx["fragment"], band, column), role="body",
                             limit=(child.content_box_x() if not spanning else inner[0],
                                    (child.content_box_x() + child.width) if not spanning
                                    else inner[1]))
            if getattr(child, "element", None) is box.element and _multicol(box):
                # an anonymous column box (it carries the article's element): its blocks
                for grandchild in getattr(child, "children", None) or []:
                    walk(grandchild, page, child_ctx)
            else:
                walk(child, page, child_ctx)

    def _line(line, page: Page, ctx: dict) -> None:
        texts = [b for b in line.descendants() if isinstance(b, boxes.TextBox)]
        text = "".join(b.text for b in texts)
        if not text.strip() or not ctx.get("article"):
            return
        inks = [(b.position_x, b.position_x + b.margin_width()) for b in line.descendants()
                if isinstance(b, (boxes.TextBox, boxes.InlineReplacedBox))]
        element = ctx.get("block")
        item = Item("line", ctx.get("role", "body"), ctx["article"], line.position_x,
                    line.position_y, line.width, line.height, ctx.get("container", ()),
                    block_key(element) if element is not None else -1,
                    selector(element) if element is not None else "",
                    text.strip()[:60],
                    ink_left=min(a for a, _ in inks) if inks else line.position_x,
                    ink_right=max(b for _, b in inks) if inks else line.position_x,
                    limit=ctx.get("limit", (0.0, 0.0)))
        para = element.get("data-para") if element is not None else None
        if para and para.isdigit():
            item.para = int(para)
        page.items.append(item)
        owner = ctx.get("owner")
        if owner is not None and owner is not item:
            owner.lines += 1
        if ctx.get("role") == "head" and element is not None and \
                "article-title" in _classes(element):
            result.titles.setdefault(ctx["article"], text.strip())

    placed: dict[int, list] = {}  # a placed panel's element -> [its first page, class, words]

    def _panel(box, page: Page, classes: set[str]) -> None:
        """A placed (absolutely positioned) panel: nothing carries what does not fit in it
        to another page as text flows — WeasyPrint sets the rest at the top of the next
        page, over what is there. Is it broken so, or does its text run past its foot?"""
        name = sorted(classes)[0] if classes else ""
        lines = [line for line in box.descendants() if isinstance(line, boxes.LineBox)]
        first = placed.setdefault(id(box.element), [page.number, name, ""])
        if first[0] != page.number:  # its continuation, on the next page
            words = _words(lines[0]) if lines else ""
            result.panels.append((first[0], name, 0.0, words))
            return
        if box.style["height"] == "auto" and "auto" in (box.style["top"], box.style["bottom"]):
            return  # as tall as its content
        foot = box.content_box_y() + box.height + box.padding_bottom
        past = [line for line in lines if line.position_y + line.height > foot + 1.0]
        if past:
            over = max(line.position_y + line.height for line in past) - foot
            result.panels.append((page.number, name, round(over, 1), _words(past[0])))

    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        entry = Page(number, "article" if number > 1 else "cover",
                     page_box.content_box_y(), page_box.content_box_y() + page_box.height,
                     page_box.content_box_x(), page_box.content_box_x() + page_box.width)
        entry.kind = "blank"
        walk(page_box, entry, {"fragments": [0], "role": "body"})
        if entry.kind == "blank" and entry.items:
            entry.kind = "article"
        result.pages.append(entry)
    result.standby_contents = root is not None and not any(
        p.kind == "contents" for p in result.pages) and any(
        {"contents-page", "standby"} <= _classes(e) for e in root.iter())
    return result


def _words(line) -> str:
    """The first words of a line box."""
    from weasyprint.formatting_structure import boxes

    return "".join(b.text for b in line.descendants()
                   if isinstance(b, boxes.TextBox)).strip()[:40]


def _multicol(box) -> bool:
    """A multi-column container (its children are column boxes and spanning blocks)."""
    style = getattr(box, "style", None)
    if style is None or not hasattr(box, "children"):
        return False
    return style["column_count"] != "auto" or style["column_width"] != "auto"


def _fill_quotes(element) -> list:
    """The article's fill quotes (compose.py writes them as JSON on its body, the
    ``data-fill-quotes`` of a child; a layout's own template may leave them out or get them
    wrong: then there are none)."""
    found = next((c.get("data-fill-quotes") for c in element if c.get("data-fill-quotes")),
                 None)
    try:
        quotes = json.loads(found or "[]")
        return [(str(text), int(source), bool(spare)) for text, source, spare in quotes]
    except (ValueError, TypeError):
        return []


def _block_name(element, kind: str) -> str:
    if kind == "photo":
        return element.get("data-photo") or ""
    if kind == "box":
        return element.get("id") or ""
    return ""


def _css_ident(text: str) -> str:
    """``text`` escaped for use as a CSS identifier (ids come from the manifest)."""
    out = []
    for i, ch in enumerate(text):
        if ch.isalnum() and ch.isascii() and not (i == 0 and ch.isdigit()) or ch in "-_":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return "".join(out)
