"""The layout audit: what a designer would reject, found on the laid-out pages.

Each rule is one module in this package, registered under its name in :data:`RULES`; a rule
reads the :class:`~.pagemap.PageMap` of a render (WeasyPrint's page and box tree, walked in
the render child) and yields :class:`Finding` records naming the page, the article and the
item concerned, what is wrong and what the editor can do. The thresholds come from the
layout's ``audit:`` section (``layout.yaml``); the repairs for each finding are in
:mod:`newsletter_pdf.repair`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .pagemap import Item, Page, PageMap, page_map

#: Thresholds a layout may override in ``layout.yaml`` under ``audit:``.
DEFAULTS: dict[str, float] = {
    "min_lines_after_head": 2,   # lines of text that must follow a head in its column
    "stray_lines": 3,            # an article's last lines alone on a page: at most this many
    "min_fill": 0.6,             # an inside page must be at least this full (of its height)
    "min_fill_last": 0.5,        # the last article page (the text ends there)
    "min_column_fill": 0.5,      # a column beside a full one: at least this part of its height
    "tolerance_px": 1.0,         # how far text may pass its column edge (rounding)
}


@dataclass
class Finding:
    """One thing on one page a designer would reject."""

    rule: str
    page: int
    article: str | None
    message: str            # what is wrong, in the editor's words
    advice: str = ""        # what the editor can do about it
    item: str = ""          # the photo's file, box id or head's words
    selector: str = ""      # the block concerned (a CSS selector), for repairs
    data: dict = field(default_factory=dict)
    #: How bad it is, for weighing one repair against another: 1 for a finding that is
    #: there or not (a stranded head); for a page or column left short, how far short of
    #: the threshold it falls (0..1), so that a page 86 % empty weighs more than one 60 %
    #: empty and a move that empties a page to mend a short column is seen as the bad trade
    #: it is.
    weight: float = 1.0
    #: The repairs mend it if they can, but a designer accepts the page as it is: not
    #: reported (the last article page between ``min_fill_last`` and ``min_fill``).
    advisory: bool = False

    def __str__(self) -> str:
        advice = f" ({self.advice})" if self.advice else ""
        return f"page {self.page}: {self.message}{advice}"

    @property
    def key(self) -> tuple:
        return (self.rule, self.article, self.item, self.selector)


Rule = Callable[[PageMap, dict], Iterable[Finding]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register a rule under ``name`` (its findings carry it)."""
    def register(function: Rule) -> Rule:
        RULES[name] = function
        return function
    return register


def settings_for(layout_audit: dict | None) -> dict:
    values = dict(DEFAULTS)
    values.update({k: v for k, v in (layout_audit or {}).items() if k in DEFAULTS})
    return values


def run_audit(pages: PageMap, settings: dict | None = None,
              rules: Iterable[str] | None = None, advisory: bool = False) -> list[Finding]:
    """Every finding of every rule (or of the named ``rules``), in page order; the
    ``advisory`` ones (for the repairs to try, not to report) only if asked for."""
    values = settings_for(settings)
    found: list[Finding] = []
    for name in rules or RULES:
        found.extend(f for f in RULES[name](pages, values) if advisory or not f.advisory)
    return sorted(found, key=lambda f: (f.page, f.rule))


def reported(findings: Iterable[Finding]) -> list[Finding]:
    """The findings the editor is told about (not the advisory ones)."""
    return [f for f in findings if not f.advisory]


def title_of(pages: PageMap, article: str | None) -> str:
    """How the editor knows an article: its headline (else its id)."""
    if article is None:
        return "?"
    title = pages.titles.get(article) or article
    return f"“{title[:50]}{'…' if len(title) > 50 else ''}”"


from . import fill, overflow, padding, panel, separated, stranded, stray, widows  # noqa: E402,F401

__all__ = ["DEFAULTS", "RULES", "Finding", "Item", "Page", "PageMap", "page_map", "rule",
           "reported", "run_audit", "settings_for", "title_of"]
