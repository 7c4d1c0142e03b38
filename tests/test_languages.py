"""Languages per article and right-to-left setting, tested on the real PDF of the
bilingual example issue (English articles, each followed by its Arabic version)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from newsletter_pdf.errors import Problems
from newsletter_pdf.language import direction, joined_script

ROOT = Path(__file__).resolve().parents[1]
BILINGUAL = ROOT / "issues" / "2011-q1-bilingual"
ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def bilingual_email(tmp_path_factory) -> Path:
    from newsletter_pdf.build import build_issue

    out = tmp_path_factory.mktemp("bilingual")
    return build_issue(BILINGUAL, out_dir=out, editions=["email"]).outputs["email"].path


def _lines(pdf: Path, page: int) -> list[dict]:
    """Every text line of a page with its box and words (poppler's pdftotext -bbox)."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page),
                          str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = []
    for block in re.findall(r"<block (.*?)</block>", xml, re.S):
        for attrs, body in re.findall(r"<line ([^>]*)>(.*?)</line>", block, re.S):
            box = {k: float(v) for k, v in re.findall(r'(\w+)="([\d.]+)"', attrs)}
            words = re.findall(r">([^<]*)</word>", body)
            lines.append({**box, "text": " ".join(words), "block": id(block)})
    return lines


def test_direction_follows_language_and_dir_overrides() -> None:
    assert direction("ar") == "rtl" and direction("ar-IQ") == "rtl"
    assert direction("ckb") == "rtl" and direction("ku-Arab") == "rtl"
    assert direction("he") == "rtl" and direction("en-GB") == "ltr"
    assert direction("ar", "ltr") == "ltr" and direction("en", "rtl") == "rtl"
    assert joined_script("fa") and not joined_script("he")


def test_arabic_paragraph_is_right_aligned(bilingual_email: Path) -> None:
    # poppler cuts a bidi line into pieces: rebuild each printed line from its pieces
    rows: dict[int, list[dict]] = {}
    for ln in _lines(bilingual_email, 2):  # the Arabic DIHAD article, under its photo
        # (a lone vowel mark is extracted as a "line" of its own: not a line of text)
        if len(ARABIC.findall(ln["text"])) > 2 and ln["yMin"] > 400 and ln["xMin"] > 297:
            rows.setdefault(round(ln["yMax"] / 4), []).append(ln)
    assert len(rows) >= 6  # the Arabic article's first column, under its headline
    rights = [max(round(p["xMax"]) for p in row) for row in rows.values()]
    lefts = [min(round(p["xMin"]) for p in row) for row in rows.values()]
    # every line ends on the right edge; paragraphs' last lines end short on the left
    assert max(rights) - min(rights) <= 2, rights
    assert max(lefts) - min(lefts) > 20, lefts


def test_first_column_is_on_the_right(bilingual_email: Path) -> None:
    lines = _lines(bilingual_email, 2)  # the Arabic DIHAD article, on a page of its own
    # poppler's -bbox output spells right-to-left words in visual order: reversed
    first = next(ln for ln in lines if "مؤتمر"[::-1] in ln["text"])  # column 1's first line
    later = next(ln for ln in lines if "جناحها"[::-1] in ln["text"])  # column 2's first line
    assert first["xMin"] > later["xMax"], (first, later)
    assert abs(first["yMin"] - later["yMin"]) < 30  # side by side, same height


def test_arabic_fonts_embedded_not_a_fallback(bilingual_email: Path) -> None:
    with pikepdf.open(bilingual_email) as pdf:
        fonts = {}
        for page in pdf.pages:
            for _name, font in (page.Resources.get("/Font") or {}).items():
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = descendant.FontDescriptor
                fonts[str(font.BaseFont).split("+")[-1]] = "/FontFile2" in descriptor
    assert fonts.get("Noto-Naskh-Arabic") is True
    assert fonts.get("Noto-Kufi-Arabic-Bold") is True
    assert not [f for f in fonts if "DejaVu" in f or "FreeSans" in f], fonts


def test_composed_article_carries_lang_and_dir() -> None:
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.compose import compose_html

    checked = check_issue(BILINGUAL)
    html = compose_html(checked.manifest, checked.articles, checked.layout, Problems())
    assert re.search(r'<article id="art-dihad-ar" class="[^"]*joined-script[^"]*" '
                     r'lang="ar" dir="rtl">', html)
    assert re.search(r'<article id="art-dihad" class="[^"]*" lang="en-GB" dir="ltr">', html)
    # a box takes its host's language
    assert re.search(r'id="art-about-phss-ar" lang="ar" dir="rtl"', html)


def test_malformed_language_is_located(tmp_path: Path) -> None:
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.errors import ValidationError

    issue = tmp_path / "issue"
    shutil.copytree(BILINGUAL, issue)
    article = issue / "articles" / "02-dihad-ar.md"
    article.write_text(article.read_text().replace("language: ar", "language: a_r"))
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text().replace("    language: ar ", "    language: x "))
    with pytest.raises(ValidationError) as err:
        check_issue(issue)
    text = str(err.value)
    assert (f"{article}:3:11: language: 'a_r' is not a BCP 47 language tag; write e.g. "
            "'en', 'ar', 'ckb', 'fr-CA'") in text
    assert re.search(r"issue\.yaml:\d+:15: articles\[3\]\.language: 'x' is not a BCP 47 "
                     "language tag", text)


def test_arabic_text_without_its_language_is_refused(tmp_path: Path) -> None:
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.errors import ValidationError

    issue = tmp_path / "issue"
    shutil.copytree(BILINGUAL, issue)
    article = issue / "articles" / "02-dihad-ar.md"
    article.write_text(article.read_text().replace("language: ar\n", ""))
    with pytest.raises(ValidationError) as err:
        check_issue(issue)
    assert (f"{article}:5: text font: Arabic characters (أ ق ي م ؤ ت) are in no font the "
            "layout has for this text (Charis SIL); the machine's fallback font would print "
            "them, or empty boxes") in str(err.value)


def test_extracted_text_reads_in_logical_order(bilingual_email: Path) -> None:
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(bilingual_email), "-"],
                          capture_output=True, text=True, check=True).stdout
    text = re.sub("[\u202a-\u202e\u200e\u200f]", "", text)  # bidi embedding marks
    for phrase in ("مؤتمر ومعرض دبي الدولي للإغاثة والتطوير",
                   "في المساعدة على رفع مستوى المساعدات الإنسانية والإنمائية الدولية",
                   "المنظمة الدولية للهجرة في العراق تشارك في"):
        assert phrase in text, phrase


def test_font_coverage_is_the_fonts_cmap_and_follows_a_changed_file(tmp_path):
    """The check's code points of a font (HarfBuzz) are exactly fontTools' best cmap, on
    every font the project ships (Arabic, Latin, display), and a font file replaced in
    place (the preview checks again on each save) is read again."""
    from fontTools.ttLib import TTFont

    from newsletter_pdf.language import font_coverage

    fonts = sorted(p for p in (ROOT / "fonts").rglob("*") if p.suffix in (".ttf", ".otf"))
    assert len(fonts) >= 8
    for path in fonts:
        with TTFont(str(path), lazy=True) as font:
            assert font_coverage(path) == frozenset(font.getBestCmap()), path.name
    arabic = next(p for p in fonts if "Arabic" in p.name)
    assert 0x0627 in font_coverage(arabic)  # ALEF
    font = tmp_path / "Face.ttf"
    font.write_bytes(arabic.read_bytes())
    assert 0x0627 in font_coverage(font)
    font.write_bytes((ROOT / "fonts" / "lato" / "Lato-Regular.ttf").read_bytes())
    os.utime(font, ns=(1, 1))  # another file now, whatever the clock says
    assert 0x0627 not in font_coverage(font) and ord("é") in font_coverage(font)
