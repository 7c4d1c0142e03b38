"""Content short of its page budget: the layout moves a designer makes before a blank Notes
page — a wide column photo run across both columns (its print copy made for that width),
an article opening a page of its own, the contents set on page 2 — and how one Notes page
is weighed against the holes a longer layout would leave."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from newsletter_pdf import placements
from newsletter_pdf.audit import Finding
from newsletter_pdf.audit.pagemap import Item, Page, PageMap
from newsletter_pdf.repair import _Plan, _scored, _span, fit_and_repair, short_of_budget

from .conftest import DEFAULT_MANIFEST


def test_span_lines_round_trip_and_no_name_can_end_the_comment():
    line = placements.span_css("art-a b", "x */ body { color: red } /* .jpg")
    assert line.count("*/") == 1
    css = "\n".join([":root { --line: 13pt; }", line, placements.span_css("art-c", "c.jpg")])
    assert placements.read_spans(css) == {("art-a b", "x */ body { color: red } /* .jpg"),
                                          ("art-c", "c.jpg")}
    assert placements.describe(placements.span_css("art-c", "c.jpg")) == \
        "ran photo c.jpg across both columns (its original has the pixels for it)"


def test_the_span_move_takes_only_wide_photos_whose_originals_have_the_pixels():
    finding = SimpleNamespace(data={"spannable": [
        ("art-a", "wide.jpg", 190.0, 1.78, 180.0),     # wide enough, pixels for 190 mm
        ("art-a", "square.jpg", 400.0, 1.0, 180.0),    # would be cropped to a strip
        ("art-b", "small.jpg", 120.0, 1.9, 180.0)]})   # 120 mm at the print ppi: too few
    assert _span({"span": 1.6}, finding) == [placements.span_css("art-a", "wide.jpg")]
    assert _span({"span": 0.9}, finding) == [placements.span_css("art-a", "wide.jpg"),
                                             placements.span_css("art-a", "square.jpg")]
    assert _span({"span": "x"}, finding) == []


def _paragraphs(n: int) -> str:
    return "\n\n".join(f"Paragraph {i} of the story. " + "Plain words to fill a line. " * 12
                       for i in range(1, n + 1))


@pytest.fixture
def two_photos(make_issue):
    """A one-article issue with a wide photo (2400 px: 203 mm at 300 ppi) and a narrow one
    (1000 px: 85 mm), both in a column."""
    from PIL import Image

    folder = make_issue(DEFAULT_MANIFEST.replace(
        "        caption: The road again.\n",
        "        caption: The road again.\n        after: 2\n"
        "      - file: photos/wide.jpg\n        caption: Wide.\n        after: 4\n"))
    with Image.open(folder / "photos" / "road.jpg") as im:
        im.crop((0, 100, 1920, 1180)).resize((2400, 1350)).save(folder / "photos" / "wide.jpg")
        im.resize((1000, 560)).save(folder / "photos" / "road.jpg")
    (folder / "articles" / "news.md").write_text(
        f"---\ntitle: Small News\n---\n\n{_paragraphs(8)}\n", encoding="utf-8")
    return folder


def test_a_spanned_column_photo_runs_across_both_columns_and_prints_from_a_copy_for_it(
        two_photos, tmp_path):
    from newsletter_pdf.audit.fill import _spannable
    from newsletter_pdf.build import _prepare, check_issue
    from newsletter_pdf.editions import with_fit_photos
    from newsletter_pdf.errors import Problems

    from .conftest import email_renderer

    render = email_renderer(two_photos, tmp_path / "out")
    before = render()
    photos = {i.name: i for p in before.layout.pages for i in p.items if i.kind == "photo"}
    assert photos["wide.jpg"].wide == int(2400 / 300 * 25.4)
    assert photos["road.jpg"].wide == int(1000 / 300 * 25.4)
    last = before.layout.pages[-1]
    offered = _spannable(before.layout, last)
    assert [name for _, name, *_ in offered] == ["wide.jpg", "road.jpg"]  # nearest first
    [css] = _span({"span": 1.6}, SimpleNamespace(data={"spannable": offered}))
    assert css == placements.span_css("art-news", "wide.jpg")

    after = render(css)
    page = next(p for p in after.layout.pages if any(i.name == "wide.jpg" for i in p.items))
    wide = next(i for i in page.items if i.name == "wide.jpg")
    assert wide.container[-1] == -1  # across both columns, not in one
    assert wide.image_w > 0.95 * (page.right - page.left)
    road = next(i for p in after.layout.pages for i in p.items if i.name == "road.jpg")
    assert road.container[-1] >= 0  # the other stays in its column

    # the print edition's copy of the spanned photo is made for the span's width
    checked = check_issue(two_photos, out_dir=tmp_path / "out")
    edition = _prepare("print", checked.manifest, checked.layout, tmp_path / "out", Problems())
    plain = edition.image_urls[str(two_photos / "photos" / "wide.jpg")]
    edition.extra_css += "\n" + css
    spanned = with_fit_photos("print", edition, checked.manifest, checked.layout,
                                  checked.articles, tmp_path / "out")
    url = spanned.image_urls[str(two_photos / "photos" / "wide.jpg")]
    assert url != plain and edition.image_urls[str(two_photos / "photos" / "wide.jpg")] == plain
    from PIL import Image

    with Image.open(url.removeprefix("file://")) as copy, \
            Image.open(plain.removeprefix("file://")) as column:
        assert copy.width >= round(180 / 25.4 * 300) > column.width
        assert copy.mode == "CMYK"
    assert spanned.image_urls[str(two_photos / "photos" / "road.jpg")] == \
        edition.image_urls[str(two_photos / "photos" / "road.jpg")]
    # and nothing else is touched without a span in the fit
    edition.extra_css = ""
    assert with_fit_photos("print", edition, checked.manifest, checked.layout,
                               checked.articles, tmp_path / "out") is edition


def _issue(starts_low: bool, pages: int) -> SimpleNamespace:
    """Article a on page 2, article b after it — low on page 2, or opening page 3."""
    def lines(article, start, end):
        return [Item("line", "body", article, 0, y, 100, 12, (1, 0, 0), 1, f"#{article} p")
                for y in range(start, end, 12)]
    if starts_low:
        laid = [Page(2, "article", 50, 1000, 0, 300, lines("art-a", 50, 650) +
                     lines("art-b", 680, 900))]
    else:
        laid = [Page(2, "article", 50, 1000, 0, 300, lines("art-a", 50, 650)),
                Page(3, "article", 50, 1000, 0, 300, lines("art-b", 50, 660))]
    layout = PageMap([Page(1, "cover", 0, 1000, 0, 300), *laid,
                      Page(len(laid) + 2, "back", 0, 1000, 0, 300)])
    layout.titles = {"art-a": "A", "art-b": "The b story"}
    layout.kinds = {"art-a": "standard", "art-b": "standard"}
    return SimpleNamespace(pages=pages, problems=None, layout=layout)


def test_an_issue_short_of_its_budget_opens_a_page_for_an_article():
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]}, "notes_pages": 1,
        "moves": {"budget": [{"own_page": ["feature", "standard"]}]}})
    opened = placements.new_page_css("art-b", "“The b story”")

    def render(css):
        return _issue(starts_low=opened not in css, pages=3 if opened not in css else 4)

    outcome = fit_and_repair(layout, render, wanted=4, multiple=1)
    assert opened in outcome.css.splitlines()
    assert outcome.log == ["pass 1: page 2: the issue fills 3 pages, 1 under its budget of 4 "
                           "→ started “The b story” on a new page (the white space ends the "
                           "page before)"]
    # the finding is for the repairs only: never reported
    assert short_of_budget(render(""), 4)[0].advisory
    assert short_of_budget(render(opened), 4) == []
    # only the kinds the layout names open a page
    layout.repair["moves"]["budget"] = [{"own_page": ["feature"]}]
    outcome = fit_and_repair(layout, render, wanted=4, multiple=1)
    assert opened not in outcome.css and outcome.log == []


def test_one_notes_page_weighs_as_an_empty_page_against_the_holes_of_a_longer_layout():
    def laid(pages):
        return SimpleNamespace(pages=pages, layout=PageMap([]), problems=None)

    holes = [Finding("fill", n, "art-a", "under-filled", weight=0.6) for n in (2, 4, 6)]
    one_hole = [Finding("fill", 4, "art-a", "under-filled", weight=0.3)]
    # with no Notes page allowed, the page count comes first
    assert _scored(laid(8), holes, 8) < _scored(laid(7), one_hole, 8)
    # one allowed: 7 pages and a Notes page (weighing 1) beat 8 pages with three holes (1.8)
    assert _scored(laid(7), one_hole, 8, notes=1) < _scored(laid(8), holes, 8, notes=1)
    # but 7 pages with one hole and a Notes page lose to 8 pages with that hole only
    assert _scored(laid(8), one_hole, 8, notes=1) < _scored(laid(7), one_hole, 8, notes=1)
    # and a second Notes page is never chosen over pages
    assert _scored(laid(7), holes, 8, notes=1) < _scored(laid(6), [], 8, notes=1)


def test_an_item_pulled_into_one_gap_is_never_pulled_into_another():
    pull_b = placements.pull_css("art-b", "art-a", "B")
    pull_c = placements.pull_css("art-c", "art-a", "C")
    pull_c2 = placements.pull_css("art-c", "art-x", "C")
    moves = {"fill": {"default": [{"pull": "short"}]}}

    def short(page, pulls):
        return Finding("fill", page, "art-a", "under-filled", item=str(page),
                       data={"pulls": pulls})
    plan = _Plan(moves, 8)
    rendered = SimpleNamespace(pages=7)
    # two gaps in one pass: each gets its own item, though both would take b first
    planned = plan.next([short(2, [("art-b", "B", "art-a"), ("art-c", "C", "art-a")]),
                         short(4, [("art-b", "B", "art-x"), ("art-c", "C", "art-x")])],
                        rendered, [])
    assert [rule for _, rule in planned] == [pull_b, pull_c2]
    # an item pulled before stays where it was pulled
    plan = _Plan(moves, 8)
    planned = plan.next([short(2, [("art-b", "B", "art-a"), ("art-c", "C", "art-a")])],
                        rendered, [pull_b])
    assert [rule for _, rule in planned] == [pull_c]


def test_the_contents_move_is_offered_only_while_the_contents_is_on_the_cover(make_issue,
                                                                                tmp_path):
    from newsletter_pdf.repair import _options

    from .conftest import email_renderer

    move = {"css": ".contents-page.standby { display: block; }", "when": "standby-contents",
            "say": "set the contents on page 2"}
    render = email_renderer(make_issue(), tmp_path / "out")
    assert render().layout.standby_contents
    shown = render(".cover-panel .contents { display: none; } "
                   ".contents-page.standby { display: block; }")
    assert not shown.layout.standby_contents
    assert any(p.kind == "contents" for p in shown.layout.pages)
    for standby, offered in ((True, 1), (False, 0)):
        finding = Finding("fill", 2, "art-news", "under-filled",
                          data={"standby-contents": standby})
        assert len(_options({"fill": {"default": [move]}}, finding)) == offered


def test_a_photo_grown_past_its_copy_gets_a_copy_made_for_its_size(make_issue, tmp_path):
    """Print copies of column photos are made for 100 mm tall (the ladder's tallest cap); a
    portrait the fit grows to 130 mm gets a copy for that size (86.7 mm wide at 300 ppi),
    not its 66.7 mm copy stretched to 230 ppi."""
    from PIL import Image

    from newsletter_pdf.build import _prepare, check_issue
    from newsletter_pdf.editions import with_fit_photos
    from newsletter_pdf.errors import Problems

    folder = make_issue(DEFAULT_MANIFEST.replace("      - file: photos/road.jpg",
                                                 "      - file: photos/tall.jpg"))
    with Image.open(folder / "photos" / "road.jpg") as im:
        im.crop((0, 0, 800, 1200)).resize((1800, 2700)).save(folder / "photos" / "tall.jpg")
    out = tmp_path / "out"
    checked = check_issue(folder, out_dir=out)
    path = str(folder / "photos" / "tall.jpg")
    edition = _prepare("print", checked.manifest, checked.layout, out, Problems())
    edition.extra_css += "\n" + placements.grow_css([("art-news", "tall.jpg", 130)])
    grown = with_fit_photos("print", edition, checked.manifest, checked.layout,
                            checked.articles, out)
    needed = round(130 * 2 / 3 / 25.4 * 300)  # px across 86.7 mm at 300 ppi
    with Image.open(edition.image_urls[path].removeprefix("file://")) as column, \
            Image.open(grown.image_urls[path].removeprefix("file://")) as copy:
        # the column copy has the pixels for 100 mm tall, not for 130 mm; the new one has
        assert round(100 * 2 / 3 / 25.4 * 300) <= column.width < needed
        assert copy.width >= needed and copy.mode == "CMYK"
    # grown no taller than its copy already allows: nothing new
    edition.extra_css = placements.grow_css([("art-news", "tall.jpg", 95)])
    assert with_fit_photos("print", edition, checked.manifest, checked.layout,
                           checked.articles, out) is edition
