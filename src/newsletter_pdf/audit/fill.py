"""Under-filled pages and columns: an inside page whose content stops too high, or a column
left much shorter than the one beside it (or empty beside it).

The last article page (the back page follows it) is judged by ``min_fill_last``: the issue's
text ends there, and a last story that ends past the middle of its page reads as the end,
not as padding. Between ``min_fill_last`` and ``min_fill`` it is still a finding for the
repairs to mend (they open it up if they can), marked ``advisory``: not reported."""

from __future__ import annotations

from collections import defaultdict

from . import Finding, rule, title_of
from .pagemap import PageMap

MM_PER_PX = 25.4 / 96  # CSS pixels
#: Pages of articles: also the one that opens with the contents (page 2) — it is judged
#: by what its articles leave empty, as any other.
TEXT = ("article", "contents")


@rule("fill")
def fill(pages: PageMap, settings: dict):
    least = float(settings["min_fill"])
    least_last = min(least, float(settings["min_fill_last"]))
    least_column = float(settings["min_column_fill"])
    last = max((p.number for p in pages.pages if p.kind in TEXT and p.items), default=0)
    first = min((p.number for p in pages.pages if p.kind in TEXT and p.items), default=0)
    for page in pages.pages:
        if page.kind not in TEXT or not page.items or page.height <= 0:
            continue
        used = (max(i.bottom for i in page.items) - page.top) / page.height
        if used < least:
            empty = round((1 - used) * 100)
            floor = least_last if page.number == last else least
            yield Finding(
                "fill", page.number, page.items[-1].article,
                f"under-filled page: {empty}% of it is empty",
                "the layout grows photos and spacing within its limits to fill it; else add "
                f"about {lines_short(pages, page, floor - used)} lines of text or a photo "
                "to an article on it, or move a short item here",
                data={"fill": used, "growable": [
                    (i.article, i.name, i.grow, i.image_h) for earlier in pages.pages
                    if earlier.number <= page.number for i in earlier.items
                    if i.kind == "photo" and i.grow], "breaks": _breaks(pages, page, used),
                    "spannable": _spannable(pages, page),
                    # the contents could be set above this page's first article
                    "standby-contents": pages.standby_contents and page.number == first,
                    "quotes": _page_quotes(pages, page),
                    "pulls": _pulls(pages, page),
                    "page_articles": _articles_between(page)},
                weight=(least - used) / least,
                advisory=page.number == last and used >= least_last)
            continue
        bands = defaultdict(lambda: defaultdict(list))
        for item in page.items:
            fragment, band, column = item.container or (0, 0, -1)
            if column >= 0:
                bands[(fragment, band)][column].append(item)
        for columns in bands.values():
            if len(columns) == 1:
                yield from _alone(pages, page, columns)
                yield from _empty_beside(pages, page, columns, least_column)
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
                        "paragraph; else set it after another paragraph ('after: N' on the "
                        "photo) or add text to the article",
                        data={"column": column, "kind": "column", "photos": photos,
                              "quotes": _column_quotes(pages, page, columns[column])},
                        weight=(least_column - height / tallest) / least_column)


def lines_short(pages: PageMap, page, share: float, columns: int = 2) -> int:
    """About how many lines of body text fill ``share`` of ``page``'s height (in each of its
    ``columns``): what the editor adds to fill it (at least 1)."""
    heights = sorted(i.h for p in pages.pages for i in p.items
                     if i.kind == "line" and i.role == "body" and i.h > 0)
    line = heights[len(heights) // 2] if heights else 16.0
    return max(1, round(max(share, 0.0) * page.height * columns / line))


def _empty_beside(pages: PageMap, page, columns: dict, least_column: float):
    """A band of two columns with all its content in one, the other empty beside a third of
    a page or more of text or photo (a box of its own there is :func:`_alone`'s): a hole a
    designer would not leave."""
    (column, items), = columns.items()
    if any(i.kind == "box" and pages.kinds.get(i.article) == "box" for i in items):
        return
    widths = [i.limit[1] - i.limit[0] for i in items if i.limit[1] > i.limit[0]]
    if not widths or max(widths) > 0.6 * (page.right - page.left):
        return  # one column across the page (a letter, a spanning block): nothing beside
    height = max(i.bottom for i in items) - min(i.y for i in items)
    if height < page.height / 3:
        return
    empty = 1 - column if column in (0, 1) else 1
    photos = [(i.article, i.name, i.after) for i in items if i.kind == "photo" and i.after >= 0]
    yield Finding(
        "fill", page.number, items[0].article,
        f"under-filled column: column {empty + 1} is empty beside column {column + 1}",
        "the layout moves a photo in it to another paragraph; else set it after another "
        "paragraph ('after: N' on the photo) or add text to the article",
        item=f"column {empty + 1}",
        data={"column": empty, "kind": "column", "photos": photos,
              "quotes": _column_quotes(pages, page, items)},
        weight=1.0)


def _spannable(pages: PageMap, short) -> list[tuple[str, str, float, float, float]]:
    """Column photos up to the short page (nearest first) that could run across both
    columns: (article, file, the widest (mm) its original prints at the print ppi, its
    width / height, the width (mm) across both columns on its page)."""
    out = []
    for page in reversed([p for p in pages.pages if p.number <= short.number]):
        for item in reversed(page.items):
            if item.kind == "photo" and item.wide and item.article and item.image_h > 0 \
                    and item.container and item.container[-1] >= 0:
                out.append((item.article, item.name, float(item.wide),
                            item.image_w / item.image_h,
                            (page.right - page.left) * MM_PER_PX))
    return out


def _articles_between(page) -> list[str]:
    """The page's articles, for a move that spreads them down it — none when only one is
    on it (no space between articles to open up)."""
    articles = sorted({i.article for i in page.items if i.article})
    return articles if len(articles) > 1 else []


def _breaks(pages: PageMap, short, used: float) -> list[tuple[str, str, float, float]]:
    """Where the page before ``short`` could end early to give it more: each article that
    starts on that page below something else, as (article, its headline, how full the page
    before stays if the article starts on a new page, about how full ``short`` becomes)."""
    before = next((p for p in pages.pages if p.number == short.number - 1), None)
    if before is None or before.kind not in TEXT or not before.items or before.height <= 0:
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


def _alone(pages: PageMap, page, columns: dict):
    """A box of its own (an article of kind box) alone in one column of its band, the
    column beside it empty: the page looks half set."""
    (column, items), = columns.items()
    boxes = [i for i in items if i.kind == "box"]
    if len(boxes) != 1 or pages.kinds.get(boxes[0].article) != "box" or any(
            i.kind != "box" and i.role not in ("box", "box-title") for i in items):
        return
    box = boxes[0]
    if box.w > 0.6 * (page.right - page.left):
        return  # a box across the page (span: true) is its band's only "column"
    yield Finding(
        "fill", page.number, box.article,
        f"empty column: the box {title_of(pages, box.article)} stands alone in column "
        f"{column + 1}, the column beside it empty",
        "the layout runs the box across both columns where the pages allow; else add a "
        "few lines to it or beside it, or place it within an article ('within:')",
        item=box.name, selector=box.selector,
        data={"kind": "alone", "column": column}, weight=0.5)


def _quote_places(pages: PageMap, page, article: str, paragraphs: list[int],
                  continues: bool) -> list[tuple]:
    """Where a pull quote from ``article`` could go so that it lands on ``page``: after a
    paragraph (of ``paragraphs``, those with lines there) that ends there and is not the
    article's last, away from the sentence it repeats; the best quote first, one place."""
    quotes = pages.quotes.get(article) or []
    last = max((i.para for _, i in pages.items(article) if i.kind == "line"), default=0)
    ends = sorted(set(paragraphs))
    if continues and ends:
        ends = ends[:-1]  # its last paragraph there goes on over the page
    ends = [p for p in ends if p < last]
    if not ends or not quotes:
        return []
    middle = ends[len(ends) // 2]
    for text, source, spare in quotes:
        fits = [p for p in ends if not source or source not in (p, p + 1)]
        if fits:
            after = min(fits, key=lambda p: (abs(p - middle), p))
            return [(article, after, text, bool(spare), title_of(pages, article), last)]
    return []


def _continues(pages: PageMap, page, article: str) -> bool:
    return any(i.article == article for later in pages.pages if later.number > page.number
               for i in later.items)


#: Kinds of article a layout may move up into a gap: short items read on their own.
PULLABLE = ("brief", "box")


def _pulls(pages: PageMap, short) -> list[tuple[str, str, str]]:
    """Short items set later in the issue (a brief, a box of its own: all on one page) that
    fit in the gap at the foot of the short page, to be set there instead, after the page's
    last article: (article, its headline, the article it would follow). Smallest first:
    each is tried in turn."""
    if not short.items:
        return []
    gap = short.bottom - max(i.bottom for i in short.items)
    host = short.items[-1].article
    first_page: dict[str, int] = {}
    spans: dict[str, list] = {}
    for page, item in pages.items():
        if item.article:
            first_page.setdefault(item.article, page.number)
            spans.setdefault(item.article, []).append((page.number, item))
    found = []
    for article, placed in spans.items():
        if first_page[article] <= short.number or pages.kinds.get(article) not in PULLABLE:
            continue
        if len({number for number, _ in placed}) != 1:
            continue  # runs over a page: not a short item
        # set across two columns, it takes about half its height in lines plus its head
        height = max(i.bottom for _, i in placed) - min(i.y for _, i in placed)
        if height <= gap * 0.9:
            found.append((height, article))
    return [(article, pages.titles.get(article) or article, host)
            for _, article in sorted(found)]


def _page_quotes(pages: PageMap, page) -> list[tuple]:
    """Pull quotes that could fill a short ``page`` (never a second one on a page): one
    per article on it, the last one's first."""
    if any(i.kind == "quote" for i in page.items):
        return []
    out = []
    for article in dict.fromkeys(i.article for i in reversed(page.items) if i.article):
        paragraphs = [i.para for i in page.items
                      if i.article == article and i.kind == "line" and i.para]
        out += _quote_places(pages, page, article, paragraphs,
                             _continues(pages, page, article))
    return out


def _column_quotes(pages: PageMap, page, items) -> list[tuple]:
    """A pull quote for a short column: after the last paragraph in it, if it ends there."""
    if any(i.kind == "quote" for i in page.items) or not items:
        return []
    article = items[-1].article
    mine = [i.para for i in items if i.article == article and i.kind == "line" and i.para]
    if not mine:
        return []
    last, here = max(mine), {id(i) for i in items}
    if any(i.para == last and i.kind == "line" and id(i) not in here
           for _, i in pages.items(article)):
        return []  # it goes on in the next column: a quote after it would land there
    return _quote_places(pages, page, article, [last], False)
