"""Filling a short page as a designer does: a pull quote from the article (its spare quote,
else a sentence chosen by a fixed rule), and a box of its own run across both columns when
it would stand alone in one."""

from __future__ import annotations

from types import SimpleNamespace

import pypdf
import pytest

from newsletter_pdf import placements
from newsletter_pdf.articles import Block
from newsletter_pdf.audit.pagemap import Item, Page, PageMap
from newsletter_pdf.fillquote import candidates, liftable, sentences
from newsletter_pdf.manifest import PullQuote
from newsletter_pdf.repair import fit_and_repair

from .conftest import DEFAULT_MANIFEST

FILLER = "Plain words fill out the line of this paragraph for the test. " * 4


def _article(paragraphs: list[str], kind: str = "standard", quotes=()):
    blocks = [Block(f"<p>{text}</p>", "p", 1, text) for text in paragraphs]
    return SimpleNamespace(kind=kind, blocks=blocks, pull_quotes=list(quotes))


def test_sentences_are_never_cut_at_an_abbreviation_or_an_initial():
    text = ("Dr. Amal Reed met J. Smith at St. Mary’s on Friday. They planted 40 trees! "
            "Was it worth it? e.g. yes.")
    assert sentences(text) == ["Dr. Amal Reed met J. Smith at St. Mary’s on Friday.",
                               "They planted 40 trees!", "Was it worth it? e.g. yes."]


def test_a_caseless_script_is_never_cut_after_an_acronym():
    text = ("وتجمع كل دورة من دورات S.A.I.T. بين يومين من التدريس المكثف في القاعة. "
            "ويمنح التدريب المشاركين فهماً أفضل.")
    assert sentences(text) == ["وتجمع كل دورة من دورات S.A.I.T. بين يومين من التدريس "
                               "المكثف في القاعة.", "ويمنح التدريب المشاركين فهماً أفضل."]


@pytest.mark.parametrize("sentence, lifted", [
    ("Half an hour a week keeps a young tree alive through a dry July.",
     "Half an hour a week keeps a young tree alive through a dry July."),
    ("Too short to stand alone here.", ""),                       # 6 words
    (" ".join(["word"] * 26).capitalize() + ".", ""),              # 26 words
    ("the tail of a sentence that was cut somewhere before it.", ""),  # no capital
    ("A sentence that stops without any full stop at the end", ""),
    ("Write to office@example.org and we will reply within the week.", ""),
    ("The plan (agreed in May) gives every garden its own water supply.", ""),
    ("She said “we will never stop watering the trees” and laughed at us.",
     "She said ‘we will never stop watering the trees’ and laughed at us."),
    ("“Nobody owns a garden, but everybody owns a Tuesday evening here.”",
     "Nobody owns a garden, but everybody owns a Tuesday evening here."),
    ("He called it \"the best year\" of the twenty-three the network has had.", ""),
])
def test_a_sentence_is_lifted_only_when_it_reads_whole(sentence, lifted):
    assert liftable(sentence) == lifted


def test_the_rule_prefers_a_figure_skips_the_opening_sentence_and_links():
    opening = "The opening sentence of the article is one the reader has just read now."
    article = _article([
        f"{opening} {FILLER}",
        f"Volunteers planted forty trees along the canal path in one weekend. {FILLER}",
        f"Our members raised 18,500 pounds for the tool library this autumn. {FILLER}",
    ])
    article.blocks[1] = Block('<p>Volunteers planted forty trees along the <a href="x">'
                              'canal path</a> in one weekend. x</p>', "p", 1,
                              article.blocks[1].text)
    found = candidates(article)
    assert found[0].text == "Our members raised 18,500 pounds for the tool library this autumn."
    assert found[0].source == 3 and not found[0].spare
    texts = [c.text for c in found]
    assert opening not in texts
    assert not any("canal path" in t for t in texts)  # link text: never lifted


def test_a_spare_quote_comes_first_and_briefs_boxes_and_letters_get_no_sentence():
    spare = PullQuote(text="The river is ours to keep.", attribution="A member", spare=True)
    paragraphs = [f"Sentence number {i} of the story is long enough to lift out. {FILLER}"
                  for i in range(4)]
    assert candidates(_article(paragraphs, quotes=[spare]))[0] == \
        candidates(_article(paragraphs, quotes=[spare]))[0]
    first = candidates(_article(paragraphs, quotes=[spare]))[0]
    assert (first.text, first.attribution, first.spare) == ("The river is ours to keep.",
                                                            "A member", True)
    for kind in ("brief", "box", "letter"):
        assert candidates(_article(paragraphs, kind=kind)) == []
        assert [c.text for c in candidates(_article(paragraphs, kind=kind,
                                                    quotes=[spare]))] == [spare.text]


def _short_column(quoted: bool) -> PageMap:
    """Column 1 holds paragraph 1 only (short) beside a photo in column 2; a pull quote after
    paragraph 1 fills it."""
    def line(y, column, para):
        return Item("line", "body", "art-a", 0, y, 100, 12, (1, 0, column), para, "#art-a p",
                    para=para)
    items = [line(100 + 12 * k, 0, 1) for k in range(6)]
    if quoted:
        items.append(Item("quote", "quote", "art-a", 0, 180, 100, 300, (1, 0, 0), 9, "q"))
    items.append(Item("photo", "photo", "art-a", 120, 100, 100, 300, (1, 0, 1), 2,
                      "#art-a figure", "p.jpg", after=1))
    items += [line(400 + 12 * k, 1, 2 + k // 10) for k in range(30)]
    pages = PageMap([Page(1, "cover", 0, 1000, 0, 300), Page(2, "article", 50, 1000, 0, 300,
                                                              items)])
    pages.titles = {"art-a": "The a story"}
    pages.quotes = {"art-a": [("Words from the second paragraph, set large.", 2, False),
                              ("Words from the third paragraph, set large here.", 3, False)]}
    return pages


def test_a_short_column_gets_a_pull_quote_away_from_its_sentence_and_the_log_says_so():
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"column": [{"quote": "column"}]}}})

    def render(css):
        return SimpleNamespace(pages=2, problems=None,
                               layout=_short_column("art-a" in placements.read_quotes(css)))

    outcome = fit_and_repair(layout, render, wanted=2, multiple=1)
    assert outcome.findings == []
    # the second paragraph's sentence would sit right after it: the third's is chosen
    assert placements.read_quotes(outcome.css) == {
        "art-a": [(1, "column", "Words from the third paragraph, set large here.")]}
    assert outcome.log == [
        "pass 1: page 2: under-filled column: column 1 holds 11% of what the column beside "
        "it holds → set a pull quote from “The a story” after paragraph 1: “Words from the "
        "third paragraph, set large here.”, a sentence of its text (to choose the words, "
        "give the article a pull quote with 'spare: true')"]


def test_quote_lines_round_trip_and_no_text_can_end_the_comment():
    line = placements.quote_css("art-x */ y", 3, "span", "Say */ {color: red}", "“T”", True)
    assert "*/" not in line[:-2]
    assert placements.read_quotes(line) == {"art-x */ y": [(3, "span", "Say */ {color: red}")]}
    assert placements.describe(line) == ("set a pull quote from “T” across both columns after "
                                         "paragraph 3: “Say */ {color: red}”, its spare pull "
                                         "quote")


def _story(n: int) -> str:
    return "\n\n".join(f"Paragraph {i} begins here. The harbour crew counted {i * 7} boats "
                       f"on the slipway this week. " + "Plain words to fill a line. " * 10
                       for i in range(1, n + 1))


def test_a_fill_quote_is_laid_out_after_its_paragraph_and_only_while_the_text_has_it(
        make_issue, tmp_path):
    from .conftest import email_renderer

    folder = make_issue(DEFAULT_MANIFEST, files={
        "articles/news.md": f"---\ntitle: Small News\n---\n\n{_story(6)}\n"})
    laid_out = email_renderer(folder, tmp_path / "out")

    plain = laid_out("")
    offered = plain.layout.quotes["art-news"]
    assert offered and offered[0][0] == "The harbour crew counted 7 boats on the slipway " \
                                        "this week."  # a figure, nearest 16 words, earliest
    text, source, _ = offered[0]
    quoted = laid_out(placements.quote_css("art-news", 3, "column", text, "“Small News”"))
    items = [i for page in quoted.layout.pages for i in page.items if i.article == "art-news"]
    quote = [i for i in items if i.kind == "quote"]
    assert len(quote) == 1 and source not in (3, 4)
    lines = [i for i in items if i.kind == "line" and i.role == "body"]
    before = max(k for k, i in enumerate(items) if i in lines and i.para == 3)
    after = min(k for k, i in enumerate(items) if i in lines and i.para == 4)
    assert before < items.index(quote[0]) < after
    pdf = tmp_path / "q.pdf"
    pdf.write_bytes(quoted.pdf)
    words = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert words.count("counted 7 boats") == 2  # the text and the quote
    # a sentence the article no longer has (an edit after the memo) is never printed
    stale = laid_out(placements.quote_css("art-news", 3, "column", "Gone from the text now "
                                          "but once there.", "“Small News”"))
    assert not any(i.kind == "quote" for page in stale.layout.pages for i in page.items)


def test_never_two_fill_quotes_on_one_page_in_one_pass():
    from newsletter_pdf.audit import Finding
    from newsletter_pdf.repair import _Plan

    def short(article, kind, page=3):
        return Finding("fill", page, article, "short", data={
            "kind": kind, "quotes": [(article, 1, f"Words of {article}.", False, "T", 6)]})
    plan = _Plan({"fill": {"column": [{"quote": "column"}],
                           "default": [{"quote": "column"}]}}, 8)
    findings = [short("art-a", "column"), short("art-b", "page"), short("art-c", "page", 4)]
    planned = plan.next(findings, SimpleNamespace(pages=8), [])
    assert [(f.article, placements.read_quotes(rule)) for f, rule in planned] == [
        ("art-a", {"art-a": [(1, "column", "Words of art-a.")]}),
        ("art-c", {"art-c": [(1, "column", "Words of art-c.")]})]
    # art-b's turn comes in the next pass
    again = plan.next(findings, SimpleNamespace(pages=8), [])
    assert [f.article for f, _ in again] == ["art-b"]


def test_a_spare_quote_is_accepted_by_check_and_kept_out_of_the_flow(make_issue):
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.errors import Problems

    folder = make_issue(DEFAULT_MANIFEST + """\
    pull_quotes:
      - text: Set where the page needs it.
        spare: true
      - text: Set always, as before.
""", files={"articles/news.md": f"---\ntitle: Small News\n---\n\n{_story(4)}\n"})
    checked = check_issue(folder)
    html = compose_html(checked.manifest, checked.articles, checked.layout, Problems())
    assert "Set always, as before." in html
    assert html.count("Set where the page needs it.") == 1  # offered (data-fill-quotes) only
    assert 'data-fill-quotes="[[&#34;Set where the page needs it.&#34;, 0, true]' in html
