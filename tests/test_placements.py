"""Placement moves: the repair stage moves a photo to another paragraph boundary, the move
travels inside the fit's CSS, and the laid-out pages (and the PDF) put the photo there."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pypdf

from newsletter_pdf import placements
from newsletter_pdf.audit.pagemap import Item, Page, PageMap
from newsletter_pdf.repair import fit_and_repair

from .conftest import DEFAULT_MANIFEST


def test_placement_lines_round_trip_and_no_name_can_end_the_comment():
    line = placements.photo_css("art-a b", "x */ body { color: red } /* .jpg", 3)
    assert line.startswith("/* place: photo ") and line.count("*/") == 1
    css = "\n".join([":root { --line: 13pt; }", line, placements.photo_css("art-c", "c.jpg", 1),
                     placements.photo_css("art-c", "c.jpg", 4)])
    assert placements.read(css) == {("art-a b", "x */ body { color: red } /* .jpg"): 3,
                                    ("art-c", "c.jpg"): 4}  # the later move wins
    assert placements.describe(placements.photo_css("art-c", "c.jpg", 4)) == \
        "moved photo c.jpg after paragraph 4"
    assert placements.describe(":root { --line: 13pt; }") is None


def _paragraphs(n: int) -> str:
    return "\n\n".join(f"Paragraph {i} of the story. " + "Plain words to fill a line. " * 12
                       for i in range(1, n + 1))


def test_a_moved_photo_is_laid_out_after_the_paragraph_it_was_moved_to(make_issue, tmp_path):
    from .conftest import email_renderer

    folder = make_issue(DEFAULT_MANIFEST.replace("caption: The road again.",
                                                 "caption: The road again.\n        after: 1"),
                        files={"articles/news.md": f"---\ntitle: Small News\n---\n\n"
                                                   f"{_paragraphs(6)}\n"})
    laid_out = email_renderer(folder, tmp_path / "out")

    def photo_and_paragraphs(rendered):
        items = [i for page in rendered.layout.pages for i in page.items]
        photo = next(i for i in items if i.kind == "photo" and i.name == "road.jpg")
        firsts = {}
        for i in items:
            if i.kind == "line" and i.name.startswith("Paragraph "):
                firsts.setdefault(int(i.name.split()[1]), i)
        return photo, firsts

    before, firsts = photo_and_paragraphs(laid_out(""))
    assert before.after == 1
    moved = laid_out(placements.photo_css("art-news", "road.jpg", 4))
    photo, firsts = photo_and_paragraphs(moved)
    assert photo.after == 4
    # in the column flow: after paragraph 4's first line, before paragraph 5's
    order = [i for page in moved.layout.pages for i in page.items
             if i is photo or i in firsts.values()]
    assert order.index(photo) == order.index(firsts[5]) - 1 or \
        (photo.container, photo.y) > (firsts[4].container, firsts[4].y)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(_pdf(moved, tmp_path)).pages)
    assert "The road again." in text


def _pdf(rendered, tmp_path):
    path = tmp_path / "moved.pdf"
    path.write_bytes(rendered.pdf)
    return path


def _page(photo_after: int, short: bool) -> PageMap:
    """A page with a photo in column 2 of an article; column 1 short unless moved."""
    def line(y, column):
        return Item("line", "body", "art-a", 0, y, 100, 12, (1, 0, column), 1, "#art-a p")
    items = [line(100 + 12 * k, 0) for k in range(6 if short else 40)]
    items.append(Item("photo", "photo", "art-a", 120, 100, 100, 300, (1, 0, 1), 2,
                      "#art-a figure", "p.jpg", after=photo_after))
    items += [line(400 + 12 * k, 1) for k in range(30)]
    page = Page(2, "article", 50, 1000, 0, 300, items)
    return PageMap([Page(1, "cover", 0, 1000, 0, 300), page])


def test_the_repair_moves_a_photo_beside_a_short_column_and_says_so():
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"column": [{"photo": 2}, {"photo": -1}]}}})
    wanted = placements.photo_css("art-a", "p.jpg", 3)
    calls = []

    def render(css):
        calls.append(css)
        moved = placements.read(css).get(("art-a", "p.jpg"))
        return SimpleNamespace(pages=2, layout=_page(moved or 1, short=moved != 3),
                               problems=None)

    outcome = fit_and_repair(layout, render, wanted=2, multiple=1)
    assert wanted in outcome.css.splitlines()
    assert outcome.findings == []
    assert outcome.log == ["pass 1: page 2: under-filled column: column 1 holds 11% of what "
                           "the column beside it holds → moved photo p.jpg after paragraph 3"]


def test_grow_lines_name_the_photos_and_escape_their_names():
    css = placements.grow_css([("art-a", 'x"y.jpg', 128), ("art-b", "b.jpg", 115)])
    assert css.count("*/") == 1 and '"x\\22 y.jpg"' in css
    assert '#art-b figure[data-photo="b.jpg"] img { max-height: 115mm; }' in css
    assert placements.describe(css) == (
        'grew photo(s) x"y.jpg to 128mm tall, b.jpg to 115mm tall (as tall as their '
        "originals allow at the print edition's ppi)")


def test_a_column_photo_may_grow_only_as_far_as_its_original_allows(make_issue, tmp_path):
    """A 1200 px wide portrait may grow as tall as the column's width and 300 ppi allow
    (its copies are then made for that size); a 400 px one only as far as 300 ppi allows:
    the page map says so, and the grow move asks no more (and leaves alone a photo already
    that tall)."""
    from PIL import Image

    from newsletter_pdf.repair import _grow

    from .conftest import email_renderer

    folder = make_issue(DEFAULT_MANIFEST.replace(
        "        caption: The road again.\n",
        "        caption: The road again.\n      - file: photos/tall.jpg\n"
        "        caption: Tall.\n      - file: photos/small.jpg\n        caption: Small.\n"))
    with Image.open(folder / "photos" / "road.jpg") as im:
        portrait = im.crop((0, 0, im.height * 2 // 3, im.height))
    portrait.resize((1200, 1800)).save(folder / "photos" / "tall.jpg")
    portrait.resize((400, 600)).save(folder / "photos" / "small.jpg")
    (folder / "articles" / "news.md").write_text(
        f"---\ntitle: Small News\n---\n\n{_paragraphs(8)}\n", encoding="utf-8")
    render = email_renderer(folder, tmp_path / "out")
    rendered = render()
    photos = {i.name: i for page in rendered.layout.pages for i in page.items
              if i.kind == "photo"}
    # 1200 px at 300 ppi: 101.6 mm, wider than the 87 mm column: the column's width, 3:2
    assert photos["tall.jpg"].grow == int(87 * 1.5)
    assert photos["small.jpg"].grow == int(400 / 300 * 25.4 * 1.5)  # 300 ppi: 33.9 mm wide
    finding = SimpleNamespace(data={"growable": [
        ("art-news", i.name, i.grow, i.image_h) for i in photos.values() if i.grow]})
    assert _grow({"grow": 70}, finding) == []  # that tall, or as their originals allow, already
    tight = render(":root { --photo-cap: 40mm; }")
    photos = {i.name: i for page in tight.layout.pages for i in page.items
              if i.kind == "photo"}
    finding = SimpleNamespace(data={"growable": [
        ("art-news", i.name, i.grow, i.image_h) for i in photos.values() if i.grow]})
    [css] = _grow({"grow": 70}, finding)
    road = photos["road.jpg"].grow  # a landscape: as tall as the column's width makes it
    assert css.startswith(f"/* grow: road.jpg {road}mm, tall.jpg 70mm, small.jpg 50mm */ ")
    assert '#art-news figure[data-photo="tall.jpg"] img { max-height: 70mm; }' in css
    grown = render(":root { --photo-cap: 40mm; }\n" + css)
    heights = {i.name: i.image_h * 25.4 / 96 for page in grown.layout.pages
               for i in page.items if i.kind == "photo"}
    assert abs(heights["tall.jpg"] - 70) < 1 and abs(heights["small.jpg"] - 50) < 1


def _two_pages(broken: bool) -> PageMap:
    """Article a, then b starting low on page 2 and ending high on page 3 — or, ``broken``,
    b on a page of its own."""
    def lines(article, start, end):
        return [Item("line", "body", article, 0, y, 100, 12, (1, 0, 0), 1, f"#{article} p")
                for y in range(start, end, 12)]
    if broken:
        two, three = lines("art-a", 50, 650), lines("art-b", 50, 900)
    else:
        two, three = lines("art-a", 50, 650) + lines("art-b", 680, 1000), lines("art-b", 50, 250)
    pages = PageMap([Page(1, "cover", 0, 1000, 0, 300), Page(2, "article", 50, 1000, 0, 300, two),
                     Page(3, "article", 50, 1000, 0, 300, three)])
    pages.titles = {"art-a": "A", "art-b": "The b story"}
    return pages


def test_a_short_last_page_gets_the_article_that_started_low_on_the_page_before():
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"default": [{"new_page": 60}]}}})

    def render(css):
        return SimpleNamespace(pages=3, problems=None,
                               layout=_two_pages("#art-b { break-before: page; }" in css))

    outcome = fit_and_repair(layout, render, wanted=3, multiple=1)
    assert outcome.findings == []
    assert outcome.log == ["pass 1: page 3: under-filled page: 79% of it is empty → started "
                           "“The b story” on a new page (the white space ends the page before)"]
    # a page that would be left less full than the move's limit is never left so
    layout.repair["moves"]["fill"]["default"] = [{"new_page": 70}]
    outcome = fit_and_repair(layout, render, wanted=3, multiple=1)
    assert len(outcome.findings) == 1 and outcome.log == []


def test_the_repair_weighs_how_short_a_page_is_not_only_how_many_findings():
    """Mending a short column by emptying a page further is a bad trade: undone."""
    from newsletter_pdf.audit import Finding
    from newsletter_pdf.repair import _score

    def short(weight):
        return Finding("fill", 7, "art-a", "under-filled", weight=weight)
    rendered = SimpleNamespace(pages=8)
    assert _score(rendered, [short(0.77)], 8) > _score(rendered, [short(0.28), short(0.33)], 8)
    assert _score(rendered, [short(0.3)], 8) < _score(rendered, [short(0.33)], 8)


def test_a_css_move_is_reported_in_the_words_the_layout_gives_it():
    """`{css: rule, say: words}`: the rule is rendered, the build's report says the words."""
    gap = ":root { --story-gap: 3; }"
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"default": [{"css": gap, "say": "put more space between articles"}]}}})
    seen = []

    def render(css):
        seen.append(css)
        return SimpleNamespace(pages=3, problems=None, layout=_two_pages(gap in css))

    outcome = fit_and_repair(layout, render, wanted=3, multiple=1)
    assert gap in outcome.css.splitlines() and seen[-1].endswith(gap)
    assert outcome.log == ["pass 1: page 3: under-filled page: 79% of it is empty → put more "
                           "space between articles"]


def test_a_single_move_written_as_a_mapping_is_one_move_not_its_keys():
    """`subhead: {css: …, say: …}` is one move; `separated: {photo: [...], default: {…}}`
    is a table by kind (its kind "photo" shares a move's name)."""
    from newsletter_pdf.audit import Finding
    from newsletter_pdf.repair import _move_words, _options

    moves = {"stranded": {"subhead": {"css": "{selector} { break-before: column; }",
                                      "say": "moved the subhead"}},
             "separated": {"photo": [{"photo": -1}],
                           "default": {"css": "{selector} { break-before: avoid; }",
                                       "say": "kept it with the text before it"}}}
    sub = Finding("stranded", 2, "art-a", "stranded", selector="#s", data={"role": "subhead"})
    quote = Finding("separated", 2, "art-a", "apart", selector="#q", data={"kind": "quote"})
    assert [(o, _move_words(o)) for o in _options(moves, sub)] == [
        ("#s { break-before: column; }", "moved the subhead")]
    assert [(o, _move_words(o)) for o in _options(moves, quote)] == [
        ("#q { break-before: avoid; }", "kept it with the text before it")]


def test_a_move_that_frees_room_takes_a_looser_fit_level_to_keep_the_budget():
    """Mending the short column (a CSS move) would lose a page at the designed level; one
    level looser the issue keeps its 2 pages: the move stands, at that level, and says so.
    Without the looser level it is undone, saying how many lines would let it stand."""
    from newsletter_pdf.repair import ladder_css

    layout = SimpleNamespace(audit={}, repair={
        "passes": 2, "ladder": {"start": 1, "levels": [{"--line": "15pt"}, {}]},
        "moves": {"fill": {"column": [{"css": "#art-a { --mend: 1; }", "say": "mended it"}]}}})

    def render(css):
        loose, mended = "--line: 15pt" in css, "--mend: 1" in css
        pages = (2 if loose else 1) if mended else (3 if loose else 2)
        return SimpleNamespace(pages=pages, layout=_page(1, short=not mended), problems=None)

    outcome = fit_and_repair(layout, render, wanted=2, multiple=1)
    assert outcome.findings == []
    assert outcome.css.splitlines() == [ladder_css({"--line": "15pt"}), "#art-a { --mend: 1; }"]
    assert outcome.log == ["pass 1: page 2: under-filled column: column 1 holds 11% of what "
                           "the column beside it holds → mended it, and set the issue at fit "
                           "level 1 of 2 to take up the room it freed (it kept its 2 pages)"]
    layout.repair["ladder"] = {"start": 0, "levels": [{}]}
    outcome = fit_and_repair(layout, render, wanted=2, multiple=1)
    assert len(outcome.findings) == 1
    assert outcome.log[0].startswith("pass 1: tried and undone: page 2: under-filled column")
    assert re.search(r"→ mended it \(it left 1 page, under the budget of 2: about \d+ "
                     r"lines more in the issue, or a photo, would let it stand\)$",
                     outcome.log[0])


def _short_page_then_brief(pulled: bool) -> PageMap:
    """p2: article a, a fifth full; p3: feature f; p4: brief b (12 mm tall). Pulled up, b
    sits under a on p2."""
    def line(article, y, h=4.0):
        return Item("line", "body", article, 10, y, 80, h, (1, 0, 0))
    p2 = Page(2, "article", 0, 200, 0, 100, [line("art-a", y) for y in range(0, 40, 4)])
    p3 = Page(3, "article", 0, 200, 0, 100, [line("art-f", y) for y in range(0, 180, 4)])
    p4 = Page(4, "article", 0, 200, 0, 100, [line("art-f", y) for y in range(0, 120, 4)])
    brief = [line("art-b", y) for y in (0, 4, 8)]
    (p2 if pulled else p4).items.extend(
        [Item(i.kind, i.role, i.article, i.x, i.y + (44 if pulled else 124), i.w, i.h,
              i.container) for i in brief])
    return PageMap([Page(1, "cover", 0, 200, 0, 100), p2, p3, p4],
                   titles={"art-a": "A", "art-f": "F", "art-b": "The brief"},
                   kinds={"art-a": "standard", "art-f": "feature", "art-b": "brief"})


def test_a_short_page_gets_a_later_brief_moved_up_into_its_gap():
    from newsletter_pdf.audit import run_audit

    [finding] = [f for f in run_audit(_short_page_then_brief(False), rules=["fill"])
                 if f.page == 2]
    assert finding.data["pulls"] == [("art-b", "The brief", "art-a")]
    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"default": [{"pull": "short"}]}}})

    def render(css):
        return SimpleNamespace(pages=4, problems=None, layout=_short_page_then_brief(
            "/* pull: art-b after art-a from The%20brief */" in css))

    outcome = fit_and_repair(layout, render, wanted=4, multiple=1)
    assert "pass 1: page 2: under-filled page: 80% of it is empty → moved The brief up into " \
        "the gap (it is short enough to fit there)" in outcome.log


def test_the_composer_sets_a_pulled_item_after_the_article_it_names():
    from newsletter_pdf.compose import _pulled

    views = [{"id": i} for i in ("art-a", "art-f", "art-b", "art-c")]
    assert [v["id"] for v in _pulled(list(views), placements.read_pulls(
        placements.pull_css("art-b", "art-a", "B") + placements.pull_css("art-c", "art-b", "C")
    ))] == ["art-a", "art-b", "art-c", "art-f"]
    # only ever moved up, and only while both are there
    assert _pulled(list(views), [("art-a", "art-c"), ("art-x", "art-a")]) == views


def test_text_set_over_other_text_is_mended_even_past_the_page_budget():
    """A cover panel too small for its contents (their rest printed over page 2's top) is a
    defect, not a matter of taste: setting the contents on page 2 is kept though the issue
    then runs a page further past its budget."""
    layout = SimpleNamespace(audit={}, repair={
        "passes": 2, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"panel": {"cover-bottom": [{"css": ".cover-panel .contents { display: none; }",
                                              "say": "set the contents on page 2"}]}}})

    def render(css):
        moved = "display: none" in css
        pages = PageMap([Page(n, "article", 0, 200, 0, 100, [
            Item("line", "body", "art-a", 10, 0, 80, 190, (1, 0, 0))]) for n in range(1, 12)],
            panels=[] if moved else [(1, "cover-bottom", 0.0, "About us")])
        return SimpleNamespace(pages=11 if moved else 10, problems=None, layout=pages)

    outcome = fit_and_repair(layout, render, wanted=8, multiple=1)
    assert outcome.rendered.pages == 11
    assert [f for f in outcome.findings if f.rule == "panel"] == []
    assert any(line.endswith("→ set the contents on page 2") for line in outcome.log)
