"""The corpus: ten quarterlies nobody tuned the layout to, checked and built once each.

Each issue under ``tests/corpus/`` is built (both editions) once per module into a temporary
folder; the assertions read the real PDFs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pypdf
import pytest
import yaml
from click.testing import CliRunner

from newsletter_pdf.cli import main

from .conftest import normalise_words

CORPUS = Path(__file__).resolve().parent / "corpus"
ISSUES = sorted(p.name for p in CORPUS.iterdir() if (p / "issue.yaml").is_file())


def test_corpus_has_ten_issues():
    # radio-short was written after the layout work, as a new user would, and is kept with
    # what the layout still does wrong with it (KNOWN_AUDIT, KNOWN_FINDINGS); calder-brook,
    # larder-lane and maison-des-pentes were written the same way from the README alone
    # (their first build's verdict: UNSEEN-NOTES.md), then mended and added here
    assert ISSUES == ["briefs-boxes", "calder-brook", "larder-lane", "letter-midpage",
                      "long-feature", "maison-des-pentes", "many-photos", "radio-short",
                      "text-heavy", "us-letter"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every corpus issue, both editions, built once: name -> BuildResult (lazily)."""
    from newsletter_pdf.build import build_issue

    results: dict = {}

    def get(name: str):
        if name not in results:
            out = tmp_path_factory.mktemp(name)
            results[name] = build_issue(CORPUS / name, out_dir=out,
                                        editions=("print", "email"))
        return results[name]

    return get


def article_titles(folder: Path) -> list[str]:
    """Every article's headline: the manifest's title, else the file's front matter title."""
    manifest = yaml.safe_load((folder / "issue.yaml").read_text(encoding="utf-8"))
    titles = []
    for spec in manifest["articles"]:
        title = spec.get("title")
        if not title:
            text = (folder / spec["file"]).read_text(encoding="utf-8")
            title = yaml.safe_load(text.split("---")[1])["title"]
        titles.append(title)
    return titles


def unembedded_fonts(pdf_path: Path) -> set[str]:
    """Names of fonts used on any page without an embedded font program."""
    missing = set()
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            fonts = page.resources.get("/Font", {})
            for font in fonts.values():
                target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                if target.get("/Subtype") == "/Type3":
                    continue
                desc = target.get("/FontDescriptor")
                if desc is None or not any(k in desc for k in
                                           ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(font.get("/BaseFont")))
    return missing


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_checks_clean(name):
    result = CliRunner().invoke(main, ["check", str(CORPUS / name)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_builds_both_editions(name, built):
    result = built(name)
    assert set(result.outputs) == {"print", "email"}
    titles = article_titles(CORPUS / name)
    for edition, out in result.outputs.items():
        assert out.path.is_file()
        assert out.preflight is not None and out.preflight.ok, (edition, out.preflight.failures)
        reader = pypdf.PdfReader(out.path)
        assert len(reader.pages) == out.pages > 2
        assert unembedded_fonts(out.path) == set(), edition
        words = " ".join(normalise_words(" ".join(p.extract_text() or "" for p in reader.pages)))
        for title in titles:
            assert " ".join(normalise_words(title)) in words, (edition, title)


def test_contents_too_long_for_the_cover_panel_moves_to_page_2(built):
    # briefs-boxes lists 20 items, more than the cover's panel holds: the layout's repair
    # sets the whole list on page 2 (it used to lose it, or print its tail over page 2's
    # kicker) and keeps the teasers on the cover
    result = built("briefs-boxes")
    folder = CORPUS / "briefs-boxes"
    listed = [title for title, spec in zip(article_titles(folder), yaml.safe_load(
        (folder / "issue.yaml").read_text(encoding="utf-8"))["articles"])
        if "within" not in spec]  # a box inside an article is not listed
    assert len(listed) == 15
    for edition, out in result.outputs.items():
        reader = pypdf.PdfReader(out.path)
        cover = " ".join(normalise_words(reader.pages[0].extract_text()))
        # the list, up to the first article's kicker
        second = " ".join(normalise_words(reader.pages[1].extract_text())).split(
            "network news")[0]
        assert "this season" not in cover, edition
        for teaser in ("Record seed swap", "The thousandth loan", "Dates for the winter"):
            assert " ".join(normalise_words(teaser)) in cover, (edition, teaser)
        assert second.startswith("this season"), (edition, second[:80])
        for title in listed + ["About us"]:
            assert " ".join(normalise_words(title)) in second, (edition, title)
    assert any("set the contents on page 2 (the cover's panel has no room for all of it)"
               in line for line in result.repairs), result.repairs


def test_us_letter_issue_is_on_letter_paper(built):
    result = built("us-letter")
    with pikepdf.open(result.outputs["email"].path) as pdf:
        box = [float(v) for v in pdf.pages[1].trimbox]
    assert (round(box[2] - box[0]), round(box[3] - box[1])) == (612, 792)


# What the outside check (tests/support/pdfcheck.py) still finds, exactly (a fix or a new
# finding fails the test: add an entry with the measured reason). Only radio-short.
_RADIO = ("radio-short: content never seen by the layout work, about six pages of it (1,013 "
          "words, five photos) for the print edition's eight. Its p2 first came out a one-page "
          "foreword alone: the fill move that pulls a later brief or box up into the gap was "
          "written for it. With the moves for content short of its budget (an article opens "
          "a page of its own, a wide column photo runs across both columns and a portrait "
          "grows to 130 mm, each from a copy made for its size, the contents set on page 2, a "
          "pull quote, looser leading) it fills 7 pages and one Notes page (there were two). "
          "p4, the end of the feature, a brief and a pull quote, stays 49 % full (about 11 "
          "lines short: no photo on it or before it has the pixels to grow or span, and a page "
          "takes one pull quote); p5, the training story, ends at 63 % by the build's measure "
          "(its lowest line or photo: the 130 mm portrait) but its text column beside the "
          "photo is shorter, so the outside check's column average is 56 %. The build says how "
          "many lines to add, or to lower issue.pages")
_MAISON = ("maison-des-pentes: content never seen by the layout work (a French issue with an "
           "Arabic page). Its last article page, p6, holds the last four of its six briefs and "
           "ends half way down (49 % by the outside check's average of the two columns): the "
           "build's audit lets the last page before the back page end from half way down "
           "(audit.min_fill_last: 0.5, advisory to 60 %), the outside check does not. The "
           "issue is about seven and a half pages of content for eight")
KNOWN_FINDINGS: dict[tuple[str, str], tuple[list[str], str]] = {
    ("maison-des-pentes", "print"): (["page 6: under-filled"], _MAISON),
    ("maison-des-pentes", "email"): (["page 6: under-filled"], _MAISON),
    ("radio-short", "print"): (["page 4: under-filled", "page 5: under-filled",
                                "page 7: blank-page"], _RADIO),
    ("radio-short", "email"): (["page 4: under-filled", "page 5: under-filled"], _RADIO),
}

# What the build's own audit still reports (warnings starting "layout:"), both editions,
# exactly (a fix or a new finding fails the test: add an entry with the reason the repairs
# fall short within the layout's declared limits). Nothing today: briefs-boxes' hedges box
# left a hole on p4 because the issue was most of a page short of its 8 (running the box
# across left 7 pages; the build said "about 95 lines more in the issue, or a photo, would
# let it stand"): following that advice it got an article with a photo ("A polytunnel for
# Gorton"), us-letter's last article page (44 % full once p4's empty column was found and
# mended) its SNAP brief a paragraph more; many-photos' last article page (57 %) passes
# the last page's threshold (audit.min_fill_last, see README).
_NOTES = ("layout: print edition: page {}: a blank Notes page pads the issue to a multiple "
          "of four pages (set the page budget (issue.pages) the content can reach, or add "
          "or cut content)")
KNOWN_AUDIT: dict[str, tuple[list[str], str]] = {
    "radio-short": (["page 4: under-filled page", _NOTES.format(7),
                     "layout: the issue fills 7 pages, 1 under its budget of 8, even with "
                     "the loosest fit: add about 87 lines of text or a photo, or lower "
                     "issue.pages (a blank Notes page fills the gap)"], _RADIO),
}


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_has_no_audit_findings(name, built):
    layout = [re.sub(r"^layout: (page \d+: [^:(]+).*", r"\1", w.message)
              for w in built(name).warnings if w.message.startswith("layout:")]
    assert layout == KNOWN_AUDIT.get(name, ([], ""))[0]


@pytest.mark.parametrize("edition", ["email", "print"])
@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_passes_the_outside_layout_check(name, edition, built):
    pytest.importorskip("pdfplumber")
    from .support.pdfcheck import check_pdf

    findings = check_pdf(built(name).outputs[edition].path)
    expected = KNOWN_FINDINGS.get((name, edition), ([], ""))[0]
    assert [f"page {f.page}: {f.kind}" for f in findings] == expected, \
        [str(f) for f in findings]


@pytest.mark.parametrize("edition", ["email", "print"])
def test_sample_issue_passes_the_outside_layout_check(edition, sample_result):
    pytest.importorskip("pdfplumber")
    from .support.pdfcheck import check_pdf

    findings = check_pdf(sample_result.outputs[edition].path)
    assert [str(f) for f in findings] == []


def test_a_standalone_box_with_span_runs_across_both_columns(built):
    """briefs-boxes' "Dates for the winter" is a box of its own with ``span: true``: its
    lines run across the page, past the gutter (it sat in one column, the key ignored)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(built("briefs-boxes").outputs["email"].path) as pdf:
        page = next(p for p in pdf.pages if "Winter pruning workshop" in (p.extract_text() or ""))
        words = page.extract_words()
        first = next(w for w in words if w["text"] == "pruning")
        line = [w for w in words if abs(w["top"] - first["top"]) < 2]
        middle = (page.trimbox[0] + page.trimbox[2]) / 2
        assert max(w["x1"] for w in line) > middle + 40, [w["text"] for w in line]


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_photos_are_prepared_for_the_size_the_fit_sets_them(name, built):
    """A loose fit level sets column photos taller than the designed cap (many-photos'
    portraits: 62-75 mm wide, prepared for 43-52 mm, printed at 210 ppi although their
    originals allow 356-432): photos are prepared for the tallest any level sets them.
    (long-feature's spring-box.jpg is too small an original for its place: that warning,
    the editor's to act on, stays.)"""
    ours = [w.message for w in built(name).warnings if "although its original allows" in
            w.message]
    assert ours == []


def test_radio_short_opens_pages_for_its_stories_and_runs_its_wide_photo_across(built):
    """radio-short, about six pages of content for eight: the layout opens pages for its
    stories (7 pages and one Notes page, not 6 and two), and runs the storm story's wide
    photo across both columns — printed from a copy made for that width (at least the
    print edition's 300 ppi, not the 145 ppi of its column copy)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    result = built("radio-short")
    assert (result.outputs["print"].pages, result.outputs["print"].padded) == (8, [7])
    assert result.outputs["email"].pages == 7
    assert any("ran photo harbour-wall.jpg across both columns" in line
               for line in result.repairs), result.repairs
    for edition, out in result.outputs.items():
        with pdfplumber.open(out.path) as pdf:
            page = next(p for p in pdf.pages if "When the August storm" in
                        (p.extract_text() or ""))
            assert "Nineteen new voices" not in page.extract_text()  # a page of its own
            x0, _, x1, _ = page.trimbox
            photo = max(page.images, key=lambda i: i["x1"] - i["x0"])
            width_in = (photo["x1"] - photo["x0"]) / 72
            assert width_in * 72 > 0.75 * (x1 - x0), edition  # across both columns
            if edition == "print":
                assert photo["srcsize"][0] / width_in >= 300, photo["srcsize"]


def test_radio_short_grows_its_portrait_from_a_copy_made_for_its_size(built):
    """The training story's portrait (1050 x 1700 px) is grown to 130 mm, taller than the
    100 mm print copies of column photos are made for: its copy is made for that size, so
    it prints at its original's 332 ppi (a copy made for 100 mm would print at 255)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    result = built("radio-short")
    assert any("grew photo(s) portrait-lighthouse.jpg to 130mm tall" in line
               for line in result.repairs), result.repairs
    with pdfplumber.open(result.outputs["print"].path) as pdf:
        page = next(p for p in pdf.pages if "Our summer training course" in
                    (p.extract_text() or ""))
        [photo] = page.images
        assert abs((photo["bottom"] - photo["top"]) / 72 * 25.4 - 130) < 1
        assert photo["srcsize"] == (1050, 1700)
