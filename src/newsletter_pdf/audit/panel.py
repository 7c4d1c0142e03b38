"""Placed panels that do not hold their text: the cover's bands (masthead, caption and
contents panel) are placed on the page at a set size, so what does not fit in one is not
carried on as text flows — WeasyPrint sets the rest at the top of the next page, over the
article there, or lets it run out of the band over the photo."""

from __future__ import annotations

from . import Finding, rule
from .pagemap import PageMap

#: What the editor can do, by panel (its first class in the layout's templates).
ADVICE = {
    "cover-bottom": "shorten the teasers or their text, or set contents.place: page-2",
    "masthead": "shorten the newsletter's title or tagline",
}
NAMES = {"cover-bottom": "the cover's contents panel", "masthead": "the cover's masthead"}


@rule("panel")
def panel(pages: PageMap, settings: dict):
    for page, name, over_px, words in pages.panels:
        what = NAMES.get(name, f"the panel “{name}”")
        if over_px:
            message = (f"{what} is too small for its text: it runs {over_px * 0.2646:.1f} "
                       f"mm past its foot (“{words}”)")
        elif words:
            message = (f"{what} is too small for its text: the rest (from “{words}”) is set "
                       f"at the top of page {page + 1}, over what is there")
        else:  # its text fits; the box itself (its padding, an empty block) runs over
            message = (f"{what} runs over its page: its text fits, but its foot (padding, "
                       f"no words) is set at the top of page {page + 1}, over what is there")
        yield Finding("panel", page, None, message,
                      ADVICE.get(name, "shorten its text"), item=name, data={"kind": name})
