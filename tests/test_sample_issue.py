"""End-to-end: the sample issue rendered by the real pipeline, asserted on the PDF itself."""

from __future__ import annotations

import re
import shutil
import subprocess

import pikepdf
import pytest
from markdown_it import MarkdownIt

from newsletter_pdf.pdfinspect import inspect_pdf, link_targets, outline_titles

from .conftest import SAMPLE, normalise_words

ARTICLE_TITLES = [
    "Foreword from the Chief of Mission",
    "The Samarra Bombing: Five Years On",
    "The Samarra Bombing: Stories of Displacement",
    "Over 300 Women Attend IOM International Women’s Day Celebrations",
    "New Minister of Displacement and Migration Visits IOM Iraq",
    "IOM Iraq Exhibits at DIHAD 2011",
    "S.A.I.T. Security Training Continues Through 2011",
]


def test_page_count_within_brief(sample_build):
    assert 8 <= sample_build.pages <= 16
    with pikepdf.open(sample_build.path) as pdf:
        assert len(pdf.pages) == sample_build.pages


def test_cover_art_reaches_every_edge(sample_pdf, tmp_path):
    """No white margin on the cover: render it and look at the outermost pixels."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "20", "-f", "1", "-l", "1", str(sample_pdf),
                    str(tmp_path / "cover")], check=True)
    from PIL import Image

    image = Image.open(next(tmp_path.glob("cover*.png"))).convert("RGB")
    w, h = image.size
    page = inspect_pdf(sample_pdf)[0]
    pw, ph = page.media_box[2], page.media_box[3]
    photo = max(page.images, key=lambda i: i.width_pt * i.height_pt)
    # The photo is placed edge to edge, across the full page width…
    assert photo.x_pt <= 0.5 and photo.width_pt >= pw - 0.5
    top = (ph - photo.y_pt - photo.height_pt) / ph * h
    bottom = (ph - photo.y_pt) / ph * h

    def in_photo(y):  # a photo may itself be white at its edge (sky, snow): skip it
        return top - 2 <= y <= bottom + 2

    # (the outermost raster row/column is only partly on the page: test the next one in)
    edges = [(x, y) for x in range(1, w - 1) for y in (1, h - 2)]
    edges += [(x, y) for y in range(1, h - 1) for x in (1, w - 2)]
    outside = [(x, y) for x, y in edges if not in_photo(y)]
    white = [xy for xy in outside if min(image.getpixel(xy)) > 235]
    assert len(outside) > w and not white, f"{len(white)} white edge pixels"


def test_contents_page_numbers_are_where_articles_start(sample_pdf, sample_text):
    cover = sample_text[0]
    starts = {}
    for title in ARTICLE_TITLES:
        first_words = " ".join(normalise_words(title))
        start = next(i + 1 for i, text in enumerate(sample_text[1:], start=1)
                     if first_words in " ".join(normalise_words(text)))
        starts[title] = start
    flat = " ".join(cover.split("IN THIS ISSUE", 1)[1].split())
    for title, page in starts.items():
        # The printed contents line: the title, dot leaders, then the page number.
        pattern = re.escape(" ".join(title.split())[:30]) + r".*?\.{3,}\s*(\d+)"
        match = re.search(pattern, flat)
        assert match, f"{title!r} not in the cover contents"
        assert int(match.group(1)) == page, title
    # The contents entries are links to those very pages.
    targets = {target for source, target in link_targets(sample_pdf) if source == 1}
    assert set(starts.values()) <= targets


def test_every_word_of_every_article_is_in_the_pdf(sample_text):
    """No text lost: each article's words appear, in order, in the PDF's text."""
    md = MarkdownIt("commonmark", {"typographer": True}).enable(["table", "smartquotes"])
    pdf_words = normalise_words("\n".join(sample_text))
    for path in sorted((SAMPLE / "articles").glob("*.md")) + sorted(
            (SAMPLE / "back").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        html = md.render(body)
        for paragraph in re.findall(r"<(?:p|li|h\d)>(.*?)</(?:p|li|h\d)>", html, re.S):
            words = normalise_words(re.sub(r"<[^>]+>", "", paragraph))
            assert _is_subsequence(words, pdf_words), f"{path.name}: {paragraph[:60]!r}"


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    """True if ``needle`` occurs in order in ``haystack`` (other words may interleave:
    captions, footers and the other column can fall between a paragraph's lines)."""
    first = needle[0]
    for start in (i for i, w in enumerate(haystack) if w == first):
        it = iter(haystack[start:start + len(needle) * 6])
        if all(any(w == n for w in it) for n in needle):
            return True
    return False


def test_fonts_are_ours_embedded_and_subset(sample_pdf):
    fonts = {f.name: f for page in inspect_pdf(sample_pdf) for f in page.fonts}
    assert fonts
    for font in fonts.values():
        assert font.embedded and font.subset, font
        family = font.name.split("+", 1)[1]
        assert family.startswith(("Charis", "Lato")), f"unexpected font {family}"
    names = " ".join(fonts)
    for face in ("Charis-SIL", "Charis-SIL-Bold-Italic", "Lato", "Lato-Bold", "Lato-Italic"):
        assert f"+{face}" in names, face


def test_footer_on_every_inside_page_not_on_cover(sample_text):
    title_line = "IOM Iraq Newsletter · Volume 5 · Issue 1 · January – March 2011"
    contact = "IOM Iraq · Tel. +962 6 56 59 660"
    assert title_line not in sample_text[0] and contact not in sample_text[0]
    for number, text in enumerate(sample_text[1:], start=2):
        assert title_line in text, number
        assert contact in text, number
        lines = [line.strip() for line in text.splitlines()]
        footers = [line for line in lines
                   if re.fullmatch(rf"(\d+ )?{re.escape(title_line)}( \d+)?", line)]
        assert len(footers) == 1, number
        footer = footers[0]
        assert str(number) in footer.replace(title_line, " ").split() + lines, number


def test_outline_has_one_entry_per_article(sample_pdf):
    outline = outline_titles(sample_pdf)
    titles = [t for t, _ in outline]
    for title in ARTICLE_TITLES:
        assert titles.count(title) == 1, title
    assert "About PHSS" not in titles  # a box inside an article is not an article entry
    pages = [p for _, p in outline]
    assert pages == sorted(pages) and pages[0] == 2


def test_metadata(sample_pdf):
    with pikepdf.open(sample_pdf) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]) == ("IOM Iraq Newsletter — Volume 5 · Issue 1 · "
                                       "January – March 2011")
        assert str(info["/Author"]) == "International Organization for Migration — Iraq Mission"
        assert str(info["/Subject"]) == "IOM Iraq Newsletter, January – March 2011"
        assert str(pdf.Root.Lang) == "en-GB"


def test_photos_at_print_resolution_and_never_clipped(sample_pdf):
    pages = inspect_pdf(sample_pdf)
    images = [img for page in pages for img in page.images]
    assert len(images) == 11  # cover + 10 photos
    for img in images:
        assert img.ppi >= 300, (img.page, img.name, round(img.ppi))
    for page in pages:
        for img in page.images:
            if page.number == 1:
                continue
            # inside the page's content area, not cut by the page edge
            assert img.x_pt >= 0 and img.x_pt + img.width_pt <= page.media_box[2]
            assert img.y_pt >= 0 and img.y_pt + img.height_pt <= page.media_box[3]


def test_captions_and_credits_printed(sample_text):
    text = " ".join(" ".join(sample_text).split())
    for caption in ("Two children walk to school in Baghdad just days after a bomb attack.",
                    "The talks took place in IOM’s conference room.",
                    "Participants gather for a group photograph outside IOM Iraq’s support"):
        assert caption in text.replace("\u2010 ", "").replace("\u2010", ""), caption


def test_contact_links_are_clickable(sample_pdf):
    links = {uri for page in inspect_pdf(sample_pdf) for uri in page.links}
    assert {"mailto:mpillinger@iom.int", "https://www.iomiraq.net", "https://www.iom.int",
            "mailto:bchambers@iom.int"} <= links
