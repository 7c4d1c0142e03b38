"""The layout audit on tiny documents: each rule finds what it is for, and stays quiet on a
clean page (so it can never silently pass)."""

from __future__ import annotations

import pytest

weasyprint = pytest.importorskip("weasyprint")

from newsletter_pdf.audit import RULES, run_audit  # noqa: E402
from newsletter_pdf.audit.pagemap import page_map  # noqa: E402

PAGE = """@page { size: 120mm 100mm; margin: 10mm; }
body { font: 10pt/12pt serif; margin: 0; }
article.story { columns: 2; column-gap: 5mm; column-fill: balance; }
.article-head { column-span: all; }
.kicker, .article-title, .subhead { margin: 0; }
figure { margin: 0; break-inside: avoid; } figure img { display: block; }
p { margin: 0; }
"""
WORDS = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
PHOTO = ("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='100' "
         "height='60'><rect width='100' height='60' fill='grey'/></svg>")


def audit(body: str, css: str = "", rules=None):
    html = f"<html><head><style>{PAGE}{css}</style></head><body>{body}</body></html>"
    source = weasyprint.HTML(string=html)
    pages = page_map(source.render(), source.etree_element)
    return pages, run_audit(pages, rules=rules)


def article(aid: str, paragraphs: int, head: str = "", extra: str = "", **attrs) -> str:
    title = head or f"Story {aid}"
    text = "".join(f"<p>{WORDS * 2}</p>" for _ in range(paragraphs))
    return (f'<article class="story" id="{aid}"><header class="article-head">'
            f'<h1 class="article-title">{title}</h1></header>{extra}{text}</article>')


def test_every_rule_is_registered():
    assert set(RULES) == {"stranded", "stray", "separated", "widows", "fill", "overflow",
                          "padding"}


def test_a_clean_page_has_no_findings():
    pages, found = audit(article("a", 4))
    assert len(pages.pages) == 1
    assert [f for f in found if f.rule != "fill"] == []


def test_the_page_map_knows_columns_heads_and_articles():
    pages, _ = audit(article("a", 6))
    items = pages.pages[0].items
    head = [i for i in items if i.role == "head"]
    assert [i.name for i in head] == ["Story a"] and head[0].container[2] == -1
    assert {i.container[2] for i in items if i.role == "body"} == {0, 1}
    assert pages.titles == {"a": "Story a"}


def test_a_headline_forced_to_the_page_foot_is_stranded():
    filler = article("a", 1, extra='<div style="height: 52mm; column-span: all"></div>')
    _, found = audit(filler + article("b", 8, head="Second story"), rules=["stranded"])
    assert [(f.page, f.article, f.item) for f in found] == [(1, "b", "Second story")]
    assert "stranded headline “Second story”" in found[0].message


def test_a_subhead_forced_to_a_column_foot_is_stranded():
    body = ('<article class="story" id="a"><p style="height: 68mm">x</p>'
            '<h2 class="subhead">Lonely subhead</h2>'
            + "".join(f"<p>{WORDS * 3}</p>" for _ in range(6)) + "</article>")
    # the user agent's own `h2 { break-after: avoid }` must not save it here
    _, found = audit(body, css="article.story { column-fill: auto; } "
                     ".subhead { break-after: auto; }", rules=["stranded"])
    assert [f.item for f in found] == ["Lonely subhead"]
    assert found[0].data["role"] == "subhead"


def test_a_photo_forced_alone_onto_a_page_is_separated():
    photo = (f'<figure class="photo" data-photo="kite.jpg" style="column-span: all">'
             f'<img src="{PHOTO}" style="width: 90mm"></figure>')
    body = (f'<article class="story" id="a"><header class="article-head">'
            f'<h1 class="article-title">Kites</h1></header><p>{WORDS}</p>'
            f'<div style="column-span: all; height: 60mm"></div>{photo}</article>')
    _, found = audit(body, rules=["separated"])
    assert [(f.page, f.item, f.data["alone"]) for f in found] == [(2, "kite.jpg", True)]
    assert found[0].message == "photo kite.jpg is alone on the page"


def test_the_last_lines_of_an_article_alone_on_a_page_are_stray():
    long = ('<article class="story" id="a"><header class="article-head"><h1 '
            'class="article-title">Long story</h1></header><p>' + "word " * 290 + "</p></article>")
    pages, found = audit(long + article("b", 1), rules=["stray"])
    assert len(pages.pages) == 3
    assert [(f.page, f.article, f.data["lines"]) for f in found] == [(3, "a", 3)]
    assert found[0].message == ("stray lines: the last 3 line(s) of “Long story” stand alone "
                                "at the top of the page, its text on page 2")


def test_an_under_filled_page_is_found():
    body = article("a", 1) + article("b", 6).replace('class="story"',
                                                     'class="story" style="break-before: page"')
    _, found = audit(body, rules=["fill"])
    assert found[0].page == 1 and 2 not in [f.page for f in found]  # page 2 is full
    assert found[0].message.startswith("under-filled page: ")


def test_a_word_too_long_for_its_column_overflows():
    body = article("a", 1, extra="<p>" + "x" * 90 + "</p>")
    _, found = audit(body, rules=["overflow"])
    assert [f.data["kind"] for f in found] == ["line"]
    assert "past its column" in found[0].message


def test_a_notes_page_and_an_empty_page_are_padding():
    body = (article("a", 2) + '<section class="notes-page" style="break-before: page">'
            '<h2 class="notes-title">Notes</h2></section>'
            '<div style="break-before: page"></div>')
    _, found = audit(body, rules=["padding"])
    assert [(f.page, f.message) for f in found] == [
        (2, "a blank Notes page pads the issue to a multiple of four pages"),
        (3, "an empty page")]


def test_a_one_line_orphan_is_found():
    body = (f'<article class="story" id="a"><p style="height: 74mm">x</p>'
            f'<p class="long">{WORDS * 12}</p></article>')
    _, found = audit(body, css="article.story { column-fill: auto; } p.long { orphans: 1; }",
                     rules=["widows"])
    assert [f.message.split(":")[0] for f in found] == ["orphan"]


def test_an_under_filled_page_says_which_article_could_start_a_new_page_instead():
    """Article b starts low on page 1 and ends a few lines into page 2: the finding names
    it, with how full page 1 stays and page 2 becomes if b starts on a new page — and so
    they are (the repair's ``new_page`` move), with no finding left."""
    body = article("a", 3) + article("b", 3) + article("c", 0)
    _, found = audit(body, rules=["fill"])
    assert [f.page for f in found] == [2]
    assert 0 < found[0].weight < 1  # how far short of 60 % the page falls
    [(name, title, keep, short)] = found[0].data["breaks"]
    assert (name, title) == ("b", "“Story b”") and keep > 0.6 and short > 0.6
    pages, found = audit(body, "#b { break-before: page; }", rules=["fill"])
    assert found == [] and [{i.article for i in p.items} for p in pages.pages] == \
        [{"a"}, {"b", "c"}]


def test_a_box_of_its_own_alone_in_one_column_is_found_and_not_one_across_the_page():
    text = f"<p>{WORDS * 3}</p>"
    def box(css=""):
        return (f'<article class="story kind-box" id="b"><header class="article-head">'
                f'<h1 class="article-title">Box b</h1></header><aside class="box" '
                f'id="bx" style="break-inside: avoid; {css}">{text}</aside></article>')
    pages, found = audit(article("a", 1) + box(), rules=["fill"])
    alone = [f for f in found if f.data.get("kind") == "alone"]
    assert [(f.page, f.article, f.item) for f in alone] == [(1, "b", "bx")]
    assert alone[0].message == ("empty column: the box “Box b” stands alone in column 1, "
                                "the column beside it empty")
    _, found = audit(article("a", 1) + box("column-span: all"), rules=["fill"])
    assert [f for f in found if f.data.get("kind") == "alone"] == []
