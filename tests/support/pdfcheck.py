"""An outside check of a newsletter PDF's page layout, reading only the PDF.

Independent of newsletter_pdf's code on purpose: it sees what a reader sees (text lines with
their fonts and positions, image rectangles, via pdfplumber) and finds what a designer
rejects:

- ``stranded-heading``: a heading with fewer than 2 lines of text below it in its column
  before the column or page ends (its text went to the next column or page — not when
  nothing follows it on the page and the next page opens with a new headline: a letter's
  signature ending the page);
- ``stray-lines``: 1–3 body lines at the top of a column, nothing above them on the page,
  followed by the headline of a new article (the end of the previous article, cut off from
  it; a short article's second column under its own head is not);
- ``lone-photo``: an inside page whose only content is a photo and its caption;
- ``empty-column``: a band of an inside page (between things set across both columns) with a
  third of the page or more in one column and nothing in the other;
- ``under-filled``: an inside page whose columns are on average less than ``min_fill``
  (60 %) full — the cover, the back page and the last article page are excepted;
- ``blank-page``: an inside page with no photo and at most one line of text (padding).

How it reads the page: words inside the trim box are joined into lines (same baseline, gaps
narrower than a column gutter); lines that repeat at the same height on most pages (running
footer, page numbers, slug) are furniture and ignored. The body text size is the most
common size in the document; a *heading* is a line set wholly in a bold, upright face at
least 95 % of the body size; a *headline* is a heading at least 10 % larger than the body
(article and box titles, not subheads), an *article headline* at least 30 % larger (not a
box title inside an article). Body lines are those within ±15 % of the body size, not
wholly bold and without dot leaders (contents entries). Page 1 is taken as the cover and the
last page as the back page.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

BOLD = re.compile(r"bold|black|heavy|semibold|demibold|extrabold", re.I)
ITALIC = re.compile(r"italic|oblique", re.I)
LEADER = re.compile(r"(\.\s?){5,}|…{3,}")
WORD_GAP = 12.0  # pt: wider than a justified word space, narrower than a column gutter


@dataclass(frozen=True)
class Line:
    """One line of text in one column: position, size and face."""

    page: int  # 1-based
    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    size: float
    bold: bool
    italic: bool


@dataclass(frozen=True)
class Finding:
    """One layout problem: which kind, on which page (1-based), and what it concerns."""

    kind: str
    page: int
    detail: str

    def __str__(self) -> str:
        return f"page {self.page}: {self.kind}: {self.detail}"


@dataclass
class PageContent:
    number: int
    lines: list[Line]
    images: list[tuple[float, float, float, float]]  # x0, top, x1, bottom
    trim: tuple[float, float, float, float]


def _lines(page, number: int) -> list[Line]:
    """Words inside the trim box, joined into per-column lines."""
    x0t, topt, x1t, bottomt = page.trimbox
    words = [w for w in page.extract_words(extra_attrs=["fontname", "size"])
             if x0t <= (w["x0"] + w["x1"]) / 2 <= x1t and topt <= (w["top"] + w["bottom"]) / 2
             <= bottomt]
    words.sort(key=lambda w: (round(w["bottom"]), w["x0"]))
    groups: list[list[dict]] = []
    for w in words:
        last = groups[-1] if groups else None
        if (last and abs(last[-1]["bottom"] - w["bottom"]) < 1.5
                and 0 <= w["x0"] - last[-1]["x1"] < WORD_GAP):
            last.append(w)
        else:
            groups.append([w])
    lines = []
    for g in groups:
        sizes = Counter()
        for w in g:
            sizes[round(w["size"], 1)] += len(w["text"])
        lines.append(Line(
            page=number, x0=min(w["x0"] for w in g), x1=max(w["x1"] for w in g),
            top=min(w["top"] for w in g), bottom=max(w["bottom"] for w in g),
            text=" ".join(w["text"] for w in g), size=sizes.most_common(1)[0][0],
            bold=all(BOLD.search(w["fontname"]) for w in g),
            italic=any(ITALIC.search(w["fontname"]) for w in g)))
    return sorted(lines, key=lambda ln: (ln.top, ln.x0))


def read_pages(path: str | Path) -> list[PageContent]:
    """Every page's text lines and image rectangles (trim-box clipped)."""
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as pdf:
        for i, page in enumerate(pdf.pages, start=1):
            trim = tuple(page.trimbox)
            images = [(im["x0"], im["top"], im["x1"], im["bottom"]) for im in page.images
                      if im["x1"] > trim[0] and im["x0"] < trim[2]
                      and im["bottom"] > trim[1] and im["top"] < trim[3]]
            pages.append(PageContent(i, _lines(page, i), images, trim))  # type: ignore[arg-type]
    return pages


def _furniture(pages: list[PageContent]) -> set[tuple[int, float, float]]:
    """Lines in the top or bottom margin zone repeated on most pages (footer, folios)."""
    def key(ln: Line) -> tuple[str, int]:
        return re.sub(r"\d+", "#", ln.text), round(ln.top - 0)

    counts = Counter()
    for p in pages:
        for k in {key(ln) for ln in p.lines}:
            counts[k] += 1
    needed = max(2, len(pages) // 2)
    found = set()
    for p in pages:
        for ln in p.lines:
            height = p.trim[3] - p.trim[1]
            margin = ln.top < p.trim[1] + 0.1 * height or ln.top > p.trim[1] + 0.85 * height
            if margin and (counts[key(ln)] >= needed or ln.text.strip().isdigit()):
                found.add((p.number, ln.top, ln.x0))
    return found


class _Doc:
    """The document as the checks see it: content lines per page, body size, geometry."""

    def __init__(self, pages: list[PageContent]):
        furniture = _furniture(pages)
        self.pages = pages
        self.content = {p.number: [ln for ln in p.lines
                                   if (p.number, ln.top, ln.x0) not in furniture]
                        for p in pages}
        sizes = Counter()
        for n, lines in self.content.items():
            if 1 < n < len(pages):
                for ln in lines:
                    sizes[ln.size] += len(ln.text)
        if not sizes:  # a 1–2 page document: use every page
            for lines in self.content.values():
                for ln in lines:
                    sizes[ln.size] += len(ln.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 10.0
        # the content area: the extent of content on inside pages
        boxes = [(ln.x0, ln.top, ln.x1, ln.bottom) for n, ls in self.content.items()
                 if 1 < n < len(pages) for ln in ls]
        boxes += [im for p in pages if 1 < p.number < len(pages) for im in p.images]
        if boxes:
            self.area = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                         max(b[2] for b in boxes), max(b[3] for b in boxes))
        else:
            self.area = pages[0].trim if pages else (0, 0, 1, 1)

    def is_heading(self, ln: Line) -> bool:
        # (a line of marks alone is not a heading: an Arabic shadda or vowel sign that the
        # PDF's text extraction set apart from its letter, as on a French issue's Arabic page)
        return ln.bold and not ln.italic and ln.size >= 0.95 * self.body and \
            any(unicodedata.category(c)[0] in "LNS" for c in ln.text)

    def is_headline(self, ln: Line) -> bool:
        return self.is_heading(ln) and ln.size >= 1.1 * self.body

    def is_article_headline(self, ln: Line) -> bool:
        return self.is_heading(ln) and ln.size >= 1.3 * self.body

    def is_body(self, ln: Line) -> bool:
        # a line wholly in bold is a label (a kicker, a table head), a line with dot leaders
        # a contents entry: neither is running text
        return (not ln.bold and not LEADER.search(ln.text)
                and 0.85 * self.body <= ln.size <= 1.15 * self.body)

    def columns(self) -> list[tuple[float, float]]:
        x0, _, x1, _ = self.area
        mid = (x0 + x1) / 2
        return [(x0, mid), (mid, x1)]

    def blank(self, number: int) -> bool:
        page = self.pages[number - 1]
        return not page.images and len(self.content[number]) <= 1


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) - max(a0, b0) > 2


def _heading_blocks(doc: _Doc, lines: list[Line]) -> list[list[Line]]:
    """Consecutive heading lines of one size set as one heading."""
    blocks: list[list[Line]] = []
    for ln in lines:
        if not doc.is_heading(ln):
            continue
        last = blocks[-1][-1] if blocks else None
        if (last and last.size == ln.size and 0 <= ln.top - last.bottom < ln.size
                and _overlaps(last.x0, last.x1, ln.x0, ln.x1)):
            blocks[-1].append(ln)
        else:
            blocks.append([ln])
    return blocks


def _stranded(doc: _Doc, number: int, panel: bool = False) -> list[Finding]:
    """``panel``: the back page, whose contact panel is a grid of small labelled entries:
    there only a head with nothing at all under it is stranded."""
    lines = doc.content[number]
    page = doc.pages[number - 1]
    area_bottom = doc.area[3]
    found = []
    for block in _heading_blocks(doc, lines):
        x0, x1 = min(b.x0 for b in block), max(b.x1 for b in block)
        bottom = block[-1].bottom
        below = [ln for ln in lines if ln.top >= bottom - 1 and ln not in block
                 and _overlaps(x0, x1, ln.x0, ln.x1)]
        if below and doc.is_heading(below[0]) and below[0].top - bottom < 2 * doc.body:
            continue  # a kicker over its headline: the head is judged by its last heading
        count = deck = 0
        for ln in below:
            if doc.is_heading(ln):
                break
            if count == 0 and deck < 3 and ln.size > 1.15 * doc.body:
                deck += 1  # a standfirst under the headline is part of the head, not text
            elif ln.size >= 0.8 * doc.body:  # text, a letter's larger text, a box's smaller
                count += 1
        if deck == 3 and count:
            count += deck  # no deck after all: a letter's larger text
        if count >= 2 or (panel and below):
            continue
        # A headline with no text under it is always stranded; one line of text (a
        # signature's role under the name) or a subhead only where the column ran out.
        # how far down its own text and photos reach: up to the next heading (what comes
        # after that — the next article on the page — is not this heading's)
        stop = next((ln.top for ln in below if doc.is_heading(ln)), float("inf"))
        ends = [ln.bottom for ln in below if ln.top < stop] + [
            im[3] for im in page.images
            if bottom - 1 <= im[1] < stop and _overlaps(x0, x1, im[0], im[2])]
        reach = max(ends, default=bottom)
        if count and _ends_article(doc, number, block):
            continue  # a letter's signature at the page foot: nothing of it goes on
        if (count == 0 and doc.is_headline(block[0])) or reach >= area_bottom - 4 * 1.4 * doc.body:
            text = " ".join(b.text for b in block)
            found.append(Finding("stranded-heading", number,
                                 f"{text!r} has {count} line(s) of text below it "
                                 "before the column ends"))
    return found


def _ends_article(doc: _Doc, number: int, block: list[Line]) -> bool:
    """Nothing follows ``block`` on its page (no line below its top outside its own
    x-range: no further column) and the next page opens with an article headline (its
    kicker at most before it): whatever is under the heading is all there is of it."""
    x0, x1 = min(b.x0 for b in block), max(b.x1 for b in block)
    top = block[0].top
    if any(ln.top > top and not _overlaps(x0, x1, ln.x0, ln.x1) for ln in doc.content[number]):
        return False
    following = doc.content.get(number + 1) or []
    for ln in following[:3]:
        if doc.is_article_headline(ln):
            return True
        if doc.is_body(ln):
            return False
    return not following


def _stray(doc: _Doc, number: int) -> list[Finding]:
    lines = doc.content[number]
    page = doc.pages[number - 1]
    found = []
    for c0, c1 in doc.columns():
        col = [ln for ln in lines if _overlaps(c0, c1, ln.x0, ln.x1)]
        if not col:
            continue
        first = col[0]
        if any(_overlaps(c0, c1, im[0], im[2]) and im[1] < first.top for im in page.images):
            continue  # a photo heads this column
        if any(ln.bottom <= first.top + 0.5 for ln in lines):
            continue  # not the page's top: a head above it (a short article's 2nd column)
        body = []
        for ln in col:
            if not doc.is_body(ln):
                break
            body.append(ln)
        rest = col[len(body):]
        nxt = next((ln for ln in rest if doc.is_heading(ln)), None)
        if 1 <= len(body) <= 3 and nxt is not None and doc.is_article_headline(nxt) and all(
                ln.size < 0.85 * doc.body for ln in rest[:rest.index(nxt)]):
            found.append(Finding("stray-lines", number,
                                 f"{len(body)} line(s) ({body[0].text[:40]!r}…) above "
                                 f"the headline {nxt.text!r}"))
    return found


def _lone_photo(doc: _Doc, number: int) -> list[Finding]:
    page = doc.pages[number - 1]
    body = [ln for ln in doc.content[number] if doc.is_body(ln) or doc.is_heading(ln)]
    if page.images and not body:
        return [Finding("lone-photo", number,
                        f"only {len(page.images)} photo(s) and their caption on the page")]
    return []


def _empty_column(doc: _Doc, number: int) -> list[Finding]:
    """A band of the page (the stretch between two things set across both columns) whose
    content all sits in one column, a third of the content area deep or more, the column
    beside it empty: a hole (a box, or an article's end, that did not share its band)."""
    page = doc.pages[number - 1]
    (l0, l1), (r0, r1) = doc.columns()
    _, top, _, bottom = doc.area
    height = max(bottom - top, 1)
    # an article headline starts a band, however short it is (its own line is not a column)
    boxes = [(ln.x0, ln.top, ln.x1, ln.bottom, doc.is_article_headline(ln))
             for ln in doc.content[number]]
    bands: list[dict[str, list]] = [{"left": [], "right": []}]
    for box in sorted(boxes + [(*im, False) for im in page.images], key=lambda b: b[1]):
        left, right = _overlaps(l0, l1, box[0], box[2]), _overlaps(r0, r1, box[0], box[2])
        if left and right or box[4]:
            bands.append({"left": [], "right": []})  # across both: a new band below it
        elif left or right:
            bands[-1]["left" if left else "right"].append(box)
    found = []
    for band in bands:
        for full, empty in (("left", "right"), ("right", "left")):
            if band[full] and not band[empty]:
                depth = max(b[3] for b in band[full]) - min(b[1] for b in band[full])
                if depth >= height / 3:
                    found.append(Finding("empty-column", number,
                                         f"the {empty} column is empty beside "
                                         f"{depth / height:.0%} of the page in the {full} one"))
    return found


def _fill(doc: _Doc, number: int) -> float:
    """How far down the content area each column's content reaches, averaged."""
    page = doc.pages[number - 1]
    _, top, _, bottom = doc.area
    height = max(bottom - top, 1)
    boxes = [(ln.x0, ln.top, ln.x1, ln.bottom) for ln in doc.content[number]]
    boxes += page.images
    fills = []
    for c0, c1 in doc.columns():
        reach = max((b[3] for b in boxes if _overlaps(c0, c1, b[0], b[2])), default=top)
        fills.append(min(max((reach - top) / height, 0.0), 1.0))
    return sum(fills) / len(fills)


def check_pages(pages: list[PageContent], min_fill: float = 0.6) -> list[Finding]:
    """All findings for pages read by :func:`read_pages`, in page order."""
    doc = _Doc(pages)
    count = len(pages)
    blanks = {n for n in range(2, count) if doc.blank(n)}
    last_article = max((n for n in range(2, count) if n not in blanks), default=0)
    findings: list[Finding] = []
    for n in range(2, count + 1):
        if n in blanks:
            findings.append(Finding("blank-page", n, "no photo and at most one line of text"))
            continue
        findings += _stranded(doc, n, panel=n == count)
        if n == count:
            continue  # the back page has its own design
        findings += _stray(doc, n)
        findings += _lone_photo(doc, n)
        findings += _empty_column(doc, n)
        if n != last_article:
            fill = _fill(doc, n)
            if fill < min_fill:
                findings.append(Finding("under-filled", n,
                                        f"columns {fill:.0%} full on average"))
    return findings


def check_pdf(path: str | Path, min_fill: float = 0.6) -> list[Finding]:
    """Read a PDF and return its layout findings (empty: the pages look designed)."""
    return check_pages(read_pages(path), min_fill=min_fill)
