"""The exact words of messages a new user found unclear: each says what happened and what
to do, in words the editor can act on (no "paragraph 0", no advice the manifest cannot
follow, no empty quotation)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from newsletter_pdf.placements import describe
from newsletter_pdf.repair import over_budget

weasyprint = pytest.importorskip("weasyprint")

from .test_audit import PHOTO, WORDS, article, audit  # noqa: E402


def test_a_photo_moved_to_the_top_of_its_article_is_said_in_words():
    assert describe("/* place: photo art-a shop.jpg after 0 */") == \
        "moved photo shop.jpg before the first paragraph"
    assert describe("/* place: photo art-a shop.jpg after 2 */") == \
        "moved photo shop.jpg after paragraph 2"
    assert describe("/* quote: art-a after 0 column text Well%20said from Story */") == (
        "set a pull quote from Story before the first paragraph: “Well said”, a sentence of "
        "its text (to choose the words, give the article a pull quote with 'spare: true')")


def _laid_out(pages: int, past: list[str]):
    """A rendered issue of ``pages`` pages (cover, articles, back page) whose last article
    page holds items of the kinds ``past``."""
    article_pages = [SimpleNamespace(kind="article", items=[]) for _ in range(pages - 2)]
    article_pages[-1].items = [SimpleNamespace(kind=kind) for kind in past]
    layout = SimpleNamespace(pages=[SimpleNamespace(kind="cover", items=[]), *article_pages,
                                    SimpleNamespace(kind="back", items=[])])
    return SimpleNamespace(pages=pages, layout=layout)


def test_the_budget_overrun_says_what_to_cut_once():
    assert over_budget(_laid_out(9, ["line"] * 53 + ["photo"] * 3), 8) == (
        "the issue needs 9 pages, 1 over its budget of 8, even with the tightest fit: cut "
        "about 53 lines of text and 3 photos (or the same height in text or photos, in any "
        "mix), or raise issue.pages to 9")
    assert over_budget(_laid_out(9, ["line"] * 12 + ["photo"]), 8).endswith(
        "cut about 12 lines of text and 1 photo (or the same height in text or photos, in any "
        "mix), or raise issue.pages to 9")
    assert over_budget(_laid_out(9, ["line"] * 20), 8).endswith(
        "cut about 20 lines of text (or a photo of about that height), or raise issue.pages "
        "to 9")


def test_column_and_separation_advice_names_only_what_the_manifest_can_do():
    photo = (f'<figure class="photo" data-photo="coats.jpg" data-after="1">'
             f'<img src="{PHOTO}" style="width: 40mm"></figure>')
    _, found = audit(article("a", 1, extra=photo), css="article.story { column-fill: auto; }",
                     rules=["fill"])
    [empty] = [f for f in found if f.data.get("kind") == "column"]
    assert empty.advice == ("the layout moves a photo in it to another paragraph; else set it "
                            "after another paragraph ('after: N' on the photo) or add text to "
                            "the article")
    kite = (f'<figure class="photo" data-photo="kite.jpg" style="column-span: all">'
            f'<img src="{PHOTO}" style="width: 90mm"></figure>')
    body = (f'<article class="story" id="a"><header class="article-head">'
            f'<h1 class="article-title">Kites</h1></header><p>{WORDS}</p>'
            f'<div style="column-span: all; height: 60mm"></div>{kite}</article>')
    _, [separated] = audit(body, rules=["separated"])
    assert separated.advice == ("the layout moves it to an earlier paragraph or shrinks it; "
                                "else place it earlier ('after: N' on it) or drop it")


def test_a_panel_whose_empty_foot_runs_over_is_not_quoted_empty():
    """The cover's contents panel held all its words, but its box ran over onto page 2 (an
    empty block, its padding): said so, never as "the rest (from “”)"."""
    from .test_audit import PANEL

    _, found = audit(PANEL.format("<p>Entry 1</p><div style=\"height: 70mm\"></div>") +
                     article("a", 2), rules=["panel"])
    assert [f.message for f in found] == [
        "the cover's contents panel runs over its page: its text fits, but its foot "
        "(padding, no words) is set at the top of page 2, over what is there"]
    assert found[0].advice == "shorten the teasers or their text, or set contents.place: page-2"
