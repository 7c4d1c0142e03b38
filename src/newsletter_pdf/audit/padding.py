"""Blank padding: Notes pages added to reach a multiple of four, and empty pages."""

from __future__ import annotations

from . import Finding, rule
from .pagemap import PageMap


@rule("padding")
def padding(pages: PageMap, settings: dict):
    for page in pages.pages:
        if page.kind == "notes":
            yield Finding("padding", page.number, None,
                          "a blank Notes page pads the issue to a multiple of four pages",
                          "set the page budget (issue.pages) the content can reach, or "
                          "add or cut content")
        elif page.kind == "blank":
            yield Finding("padding", page.number, None, "an empty page",
                          "look for a forced page break (new_page) before a short item")
