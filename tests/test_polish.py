"""What three issues written unseen showed beyond page filling, tested on a real build of a
small French issue with one Arabic article: each cover teaser and contents entry set in the
direction of its own words (the page numbers in one column), capitals never hyphenated, and
photo-resolution warnings only where the editor can act on them."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageDraw

from newsletter_pdf.build import build_issue

ROOT = Path(__file__).resolve().parents[1]
ARABIC = ROOT / "issues" / "2011-q1-bilingual" / "articles" / "02-dihad-ar.md"
TEASER = ("Une page en arabe pour les familles, écrite par les parents de l’atelier de "
          "français du mardi soir.")
ROLE = "Conseillère en économie sociale et familiale"

FRENCH = "\n\n".join(
    f"Paragraphe {n} : la Maison ouvre ses portes le mardi et le jeudi, et les bénévoles "
    "accueillent les familles du quartier autour d'un café et d'un atelier." for n in range(1, 19))


def _write(folder: Path) -> Path:
    (folder / "articles").mkdir(parents=True)
    (folder / "photos").mkdir()
    (folder / "back").mkdir()
    # The cover: A4's width at 300 ppi, without the bleed (what an editor usually has).
    Image.new("RGB", (2480, 1754), (90, 120, 150)).save(folder / "photos" / "cover.jpg",
                                                        quality=90)
    # A wide white logo with transparency, 2000 px: sharp enough at the cover's 17 mm height.
    logo = Image.new("RGBA", (2000, 420), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((40, 40, 1960, 380), fill=(255, 255, 255, 255))
    logo.save(folder / "photos" / "logo-blanc.png")
    shutil.copy(ARABIC, folder / "articles" / "arabe.md")
    (folder / "articles" / "cuisine.md").write_text(
        "---\ntitle: Le monde entier dans une cuisine\ndeck: Le mardi, on cuisine ensemble.\n"
        f"---\n\n{FRENCH}\n", encoding="utf-8")
    (folder / "back" / "qui.md").write_text("La Maison des Pentes est un centre social.\n",
                                            encoding="utf-8")
    (folder / "issue.yaml").write_text(textwrap.dedent(f"""\
        newsletter:
          title: La Gazette
          organisation: Maison des Pentes
          logo_on_dark: photos/logo-blanc.png
        issue:
          number: 40
          date: 2027-01-04          # out after the quarter it covers
          period: octobre – décembre 2026
          language: fr
        print:
          pad_to_multiple: 0
        cover:
          image: photos/cover.jpg
          caption: La montée.
          alt: Une rue en pente.
          teasers:
            - article: cuisine
            - article: arabe
              text: "{TEASER}"
        articles:
          - file: articles/cuisine.md
            id: cuisine
          - file: articles/arabe.md
            id: arabe
            new_page: true
        back_page:
          sections:
            - title: Qui sommes-nous ?
              file: back/qui.md
          contact:
            people:
              - name: Karim Haddad
                role: Directeur
              - name: Nadia Ouali
                role: {ROLE}
        """), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = _write(tmp_path_factory.mktemp("polish") / "issue")
    return folder, build_issue(folder, out_dir=folder.parent / "out",
                               editions=("print", "email"))


def _lines(page) -> list[list[dict]]:
    """The page's characters grouped in lines (by their baseline), each in x order."""
    lines: dict[int, list[dict]] = {}
    for char in page.chars:  # by baseline (the text matrix): Naskh and Lato boxes differ
        lines.setdefault(round(char["matrix"][5]), []).append(char)
    return [sorted(chars, key=lambda c: c["x0"]) for _, chars in
            sorted(lines.items(), reverse=True)]


@pytest.mark.parametrize("edition", ["print", "email"])
def test_a_french_teaser_for_an_arabic_article_reads_left_to_right(built, edition):
    """Its full stop ends its last line on the right (not ".les parents…"), and its lines
    start at one left edge (set right to left, its short last line would start further
    right)."""
    _, result = built
    with pdfplumber.open(result.outputs[edition].path) as pdf:
        lines = _lines(pdf.pages[0])
    text = ["".join(c["text"] for c in line) for line in lines]
    first = next(i for i, t in enumerate(text) if t.startswith("Une page en arabe"))
    last = next(i for i in range(first, len(text)) if "soir" in text[i])
    assert last > first  # (it wraps)
    assert text[last].rstrip().endswith("soir."), text[first:last + 1]
    starts = [lines[i][0]["x0"] for i in range(first, last + 1)]
    assert max(starts) - min(starts) < 1.0, starts


@pytest.mark.parametrize("edition", ["print", "email"])
def test_contents_page_numbers_stay_in_one_column(built, edition):
    """The Arabic entry's page number is at the right end of its line, like every other
    entry's (the column of numbers), with the dot leader between."""
    _, result = built
    with pdfplumber.open(result.outputs[edition].path) as pdf:
        page = pdf.pages[0]
        assert "NUMÉRO" in page.extract_text()  # (the contents is on the cover)
        left, top, right, bottom = page.bbox  # (the print edition's bleed moves it)
        panel = page.crop((left + page.width * 0.4, top + page.height * 0.69, right, bottom))
        lines = [line for line in _lines(panel) if "." * 5 in "".join(c["text"] for c in line)]
    assert len(lines) == 3  # the two articles and the back page
    rights = [line[-1]["x1"] for line in lines]
    assert all(line[-1]["text"].isdigit() for line in lines), rights
    assert max(rights) - min(rights) < 1.0, rights
    arabic = [line for line in lines if any("\u0600" <= c["text"] <= "\u06ff" for c in line)]
    assert len(arabic) == 1
    # the Arabic title at the entry's start (left, as the issue reads), its number right
    assert arabic[0][0]["x0"] < left + page.width * 0.5 < arabic[0][-1]["x0"]


@pytest.mark.parametrize("edition", ["print", "email"])
def test_capitals_are_never_hyphenated(built, edition):
    """The back page's role label in capitals wraps between words, never inside one."""
    _, result = built
    with pdfplumber.open(result.outputs[edition].path) as pdf:
        words = pdf.pages[-1].extract_words()
    # (the two people's labels stand side by side; the role is the right-hand one)
    start = next(w["x0"] for w in words if w["text"].startswith("CONSEILL"))
    role = [w for w in words if w["text"].isupper() and w["x0"] >= start - 0.5]
    lines = {round(w["bottom"]) for w in role}
    assert len(lines) >= 2  # it does wrap in the 55 mm column
    assert [w["text"] for w in role] == ROLE.upper().split(), role


def test_layout_styles_in_capitals_do_not_hyphenate():
    """Every style of the built-in layout (PDF and web) that sets text in capitals says
    hyphens: manual: hyphens are inherited, so a label inside hyphenated text would split."""
    rule = re.compile(r"([^{}]+)\{([^{}]*)\}")
    found = []
    for css in sorted((ROOT / "layouts" / "newsletter").rglob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", css.read_text(encoding="utf-8"), flags=re.S)
        for selector, body in rule.findall(text):
            if re.search(r"text-transform:\s*uppercase", body):
                found.append(selector.strip())
                assert re.search(r"hyphens:\s*(manual|none)", body), (css.name, selector)
    assert len(found) >= 9, found  # kicker, byline, credits, labels, contents titles…


def test_only_the_cover_is_named_and_the_warning_says_what_to_do(built):
    """The 2,000 px logo prints sharp at its 17 mm height (its copy is made for the width
    that height gives it, 81 mm): no warning. The 2,480 px cover, 216 mm wide with its
    bleed, is 292 ppi: named as just under the 300 wanted, with the pixels that reach it."""
    folder, result = built
    photos = [str(w).removeprefix(str(folder) + "/") for w in result.warnings
              if w.file and w.file.parent == folder / "photos"]
    assert photos == [
        "photos/cover.jpg: warning: cover.jpg prints at 292 ppi on page 1, just under the 300 "
        "ppi wanted (print.min_ppi); many print shops accept this, and the difference hardly "
        "shows: filling the cover and its bleed, it is set 216 mm wide, where 300 ppi needs "
        "2,552 px across and this original has 2,480 — to reach 300 ppi, use a larger original"]
    assert all(w.advisory for w in result.warnings if w.file == folder / "photos" / "cover.jpg")


def test_a_copy_a_rounding_short_of_the_wanted_ppi_is_not_named(monkeypatch):
    """A grown portrait's copy made for 70 mm at 300 ppi prints at 299.97 ppi (its height
    rounded to whole pixels): that is 300 ppi as printed, not a warning that contradicts
    itself ("prints at 300 ppi … below 300")."""
    from newsletter_pdf import photocheck

    source = photocheck.PhotoSource(Path("portrait.jpg"), 1400, 2000, 70.0, "column")
    placed = photocheck.Placement(5, source, 827, 70.0, 100.0, 299.97)
    monkeypatch.setattr(photocheck, "placements", lambda *_: [placed])
    assert photocheck.resolution_problems(Path("x.pdf"), {}, 300, 150) == []
    # Really short (a layout setting a column photo taller than its copy was made for):
    # named as the layout's fault, in the dimension that is short.
    short = photocheck.Placement(5, source, 827, 70.0, 110.0, 272.7)
    monkeypatch.setattr(photocheck, "placements", lambda *_: [short])
    assert [p.message for p in photocheck.resolution_problems(Path("x.pdf"), {}, 300, 150)] \
        == ["portrait.jpg prints at 273 ppi on page 5 although its original allows 462 ppi: "
            "the layout sets it 70 × 110 mm but has its copy made for 70 × 100 mm. Nothing "
            "to change in the photo or the issue; for the layout's author: its layout.yaml "
            "must allow column photos 110 mm tall (options.image_widths_mm.column_height; "
            "with a built-in layout, report it as a bug)"]


def test_the_files_are_named_for_the_quarter_the_period_says(built):
    """Dated 4 January 2027 but covering October – December 2026: the files say 2026-q4,
    as the editor who wrote the period expects (the date alone would say 2027-q1)."""
    folder, result = built
    assert sorted(p.name for p in (folder.parent / "out").glob("*.pdf")) == [
        "la-gazette-2026-q4-email.pdf", "la-gazette-2026-q4-print.pdf"]
    assert result.outputs["print"].path.name == "la-gazette-2026-q4-print.pdf"


@pytest.mark.parametrize(("period", "named"), [
    ("July – September 2026", (2026, 3)),             # dated 1 October: still q3
    ("Jul–Sep 2026", (2026, 3)),
    ("Sept – Nov 2026", (2026, 3)),
    ("December 2025 – February 2026", (2025, 4)),     # the first month's quarter and year
    ("octobre – décembre 2026", (2026, 4)),
    ("abril – junio 2026", (2026, 2)),
    ("كانون الثاني – آذار ٢٠٢٦", (2026, 1)),           # Arabic month names and digits
    ("Marseille, mai 2026", (2026, 2)),               # 'Mar' inside a word is no month
    ("Winter 2026", (2026, 4)),                       # no month: the date's quarter
    ("", (2026, 4)),
])
def test_a_period_names_its_quarter(period, named):
    import datetime as dt

    from newsletter_pdf.i18n import period_quarter

    assert period_quarter(period, dt.date(2026, 10, 1)) == named


def test_teasers_alone_take_the_whole_cover_band(make_issue):
    """With the contents on page 2, three teasers stand side by side across the band (not
    in its left 62 mm with the right half empty)."""
    articles = "".join(f"""
          - file: articles/news.md
            id: a{n}
            title: Teaser number {n}""" for n in range(1, 4))
    manifest = f"""\
        newsletter: {{title: Test Newsletter, organisation: Test Org}}
        issue: {{date: 2024-04-15, period: April – June 2024}}
        cover:
          image: photos/road.jpg
          caption: A road.
          teasers: [a1, a2, a3]
        contents: {{place: page-2}}
        articles:{articles}
        """
    folder = make_issue(manifest)
    result = build_issue(folder, out_dir=folder.parent / "out", editions=("email",))
    with pdfplumber.open(result.outputs["email"].path) as pdf:
        page = pdf.pages[0]
        words = page.extract_words()
        lefts = [next(w["x0"] for w in words if w["text"] == str(n)
                      and any(v["text"] == "number" and abs(v["top"] - w["top"]) < 1
                              for v in words)) for n in (1, 2, 3)]
        width = page.width
    assert lefts == sorted(lefts)
    assert lefts[2] > width * 0.6  # the third teaser in the right-hand third


def test_a_lead_photo_is_never_cropped_to_a_strip(make_issue):
    """A 4:3 lead photo whose frame a repair caps at 34 mm (as the stray-lines move does)
    keeps at least 45 % of its height (options.max_crop: 0.55): its frame is 61 mm tall
    across the 180 mm measure, a 3:1 band, not a 5.3:1 strip."""
    folder = make_issue(files={
        "layouts/strip/layout.yaml": "name: strip\nextends: newsletter\n",
        "layouts/strip/templates/issue.html":
            '{% extends "!newsletter/issue.html" %}{% block head %}<style>'
            ".story figure.photo.span img { max-height: 34mm; }</style>{% endblock %}"})
    Image.new("RGB", (2000, 1500), (90, 140, 90)).save(folder / "photos" / "lead.jpg")
    (folder / "issue.yaml").write_text(textwrap.dedent("""\
        newsletter: {title: Test Newsletter, organisation: Test Org}
        issue: {date: 2024-04-15, period: April – June 2024}
        layout: strip
        articles:
          - file: articles/news.md
            kind: feature
            photos:
              - file: photos/lead.jpg
                placement: top
                caption: The weir and the river below it.
        """), encoding="utf-8")
    result = build_issue(folder, out_dir=folder.parent / "out", editions=("email",))
    with pdfplumber.open(result.outputs["email"].path) as pdf:
        page = pdf.pages[0]
        image = page.images[0]
        caption = next(w for w in page.extract_words() if w["text"] == "weir")
    # object-fit: cover draws the photo whole, centred on its frame, and clips it: the
    # frame's foot is 1.6 mm above the caption, its centre the photo's
    centre = (image["top"] + image["bottom"]) / 2
    frame_mm = 2 * (caption["top"] - 1.6 * 72 / 25.4 - centre) * 25.4 / 72
    assert 180 * 0.75 * 0.45 - 2 <= frame_mm <= 180 * 0.75 * 0.45 + 4, frame_mm
