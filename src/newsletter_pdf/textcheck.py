"""No silent loss: every word of every article must reach the laid-out pages.

A layout engine can drop text without a word — content past a nesting limit, a line
clipped at a column edge, a block pushed off the last page. After each render we compare
the words of each article's source (title and body, boxes included) with the text of the
laid-out pages, read from WeasyPrint's line boxes in the render child (cheap: no PDF text
extraction). Hyphenation is normalised: a line ending in a hyphen is read both joined to
the next line and split there.
"""

from __future__ import annotations

import re
import unicodedata

from .articles import Article
from .errors import Problems

_WORD = re.compile(r"\w+")
_HYPHENS = "-\u2010\u00ad"


def laid_out_text(document) -> str:
    """The text of a rendered WeasyPrint document, one laid-out line per line."""
    from weasyprint.formatting_structure import boxes

    lines: list[str] = []

    def walk(box) -> None:
        if isinstance(box, boxes.MarginBox):
            # running heads and footers: between a page's last line and the next page's
            # first they would split a word hyphenated across the page break
            return
        if isinstance(box, boxes.LineBox):
            lines.append("".join(b.text for b in box.descendants()
                                 if isinstance(b, boxes.TextBox)))
            return
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return "\n".join(lines)


def words(text: str) -> set[str]:
    return set(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def page_words(text: str) -> set[str]:
    """The words of the laid-out text, hyphenated line ends read both ways."""
    joined = re.sub(rf"[{_HYPHENS}]\n", "", text)
    return words(text) | words(joined)


def article_words(article: Article, inline=None) -> set[str]:
    """The words of an article's title (as printed: inline Markdown rendered) and body."""
    import html

    title = article.title or ""
    if inline is not None:
        title = html.unescape(re.sub(r"<[^>]*>", " ", str(inline(title) or "")))
    found = words(title)
    for block in article.blocks:
        found |= words(block.text)
    for box in article.boxes:
        found |= article_words(box, inline)
    return found


def check_words(articles: list[Article], text: str, problems: Problems,
                language: str = "en", allow_html: bool = False) -> None:
    """An error for each article some of whose words are not on the laid-out pages."""
    from .articles import inline_renderer

    inline = inline_renderer(language, allow_html)
    printed = page_words(text)
    for article in articles:
        missing = sorted(article_words(article, inline) - printed)
        if missing:
            shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
            problems.error(f"{len(missing)} word(s) of this article did not reach the laid-out "
                           f"pages ({shown}); nothing was written. Shorten or simplify the "
                           "passage holding them, and please report it", file=article.source)
