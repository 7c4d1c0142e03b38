"""A transparent PNG logo keeps its transparency in the print edition: CMYK with a soft mask
in the PDF (PDF/X-4 allows it), printed over the cover's colour band, not on a white box."""

from __future__ import annotations

import io
import subprocess

import pikepdf
import pytest
from PIL import Image, ImageDraw

from newsletter_pdf.build import build_issue
from newsletter_pdf.pdfinspect import inspect_pdf
from newsletter_pdf.photocheck import placements

MANIFEST = """\
newsletter:
  title: Test Newsletter
  organisation: Test Org
  logo_on_dark: images/logo.png
issue:
  date: 2024-04-15
  period: April – June 2024
cover:
  image: photos/road.jpg
  caption: A road.
  alt: A road at dusk.
articles:
  - file: articles/news.md
    photos:
      - file: photos/road.jpg
        caption: The road again.
        alt: A road at dusk.
      - file: images/badge.png
        caption: A badge.
        alt: A white square and a half-transparent orange disc.
"""


def logo_png(size=(900, 300)) -> bytes:
    """Transparent, with a white block in the middle third and a half-transparent (alpha
    160) orange disc on the right."""
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 3, h // 5, 2 * w // 3, 4 * h // 5), fill=(255, 255, 255, 255))
    draw.ellipse((int(w * 0.73), int(h * 0.3), int(w * 0.87), int(h * 0.7)),
                 fill=(217, 130, 43, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from .conftest import SAMPLE

    folder = tmp_path_factory.mktemp("alpha") / "issue"
    for sub in ("articles", "photos", "images"):
        (folder / sub).mkdir(parents=True)
    (folder / "photos" / "road.jpg").write_bytes((SAMPLE / "photos" / "road-storm.jpg")
                                                .read_bytes())
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Small News\n---\n\nA first paragraph of small news.\n\n"
        "A second paragraph.\n", encoding="utf-8")
    (folder / "images" / "logo.png").write_bytes(logo_png())
    (folder / "images" / "badge.png").write_bytes(logo_png((600, 600)))
    (folder / "issue.yaml").write_text(MANIFEST, encoding="utf-8")
    result = build_issue(folder, out_dir=folder.parent / "out", editions=("print",))
    return result.outputs["print"]


def soft_masked(pdf_path, page_number: int) -> list[tuple[str, bytes, int]]:
    """(colour space, decoded soft mask, width) of each soft-masked image drawn on a page."""
    drawn = inspect_pdf(pdf_path)[page_number - 1].images
    with pikepdf.open(pdf_path) as pdf:
        images = [pdf.get_object(i.objgen) for i in drawn]
        return [(str(image.ColorSpace), image.SMask.read_bytes(), int(image.Width))
                for image in images if "/SMask" in image]


def test_logo_and_article_png_keep_their_alpha_as_cmyk_with_a_soft_mask(built):
    # still recognised as our photos after the conversion (the resolution check)
    names = {(p.page, p.source.path.name) for p in placements(built.path, built.sources)}
    badge = next(page for page, name in names if name == "badge.png")  # where the layout put it
    assert (1, "logo.png") in names
    for page in (1, badge):  # the cover's logo, the article's badge
        (space, alpha, width), = soft_masked(built.path, page)
        assert space == "/DeviceCMYK"
        row = alpha[width * (len(alpha) // width // 2):][:width]  # the middle row
        assert (row[width // 10], row[width // 2], row[width * 8 // 10]) == (0, 255, 160)
    report = built.preflight
    assert report.ok, report.failures
    checks = {c.name: (c.status, c.detail) for c in report.checks}
    assert checks["colour"] == ("ok", "CMYK and grey only")
    assert checks["PDF/X"] == ("ok", "PDF/X-4")


def test_logo_prints_over_the_cover_band_not_on_a_white_box(built, tmp_path):
    """Rendered page 1: where the logo is transparent, the band's colour shows."""
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1",
                    str(built.path), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    info = inspect_pdf(built.path)[0]
    logo, = [i for i in info.images if round(i.width_pt / i.height_pt) == 3]
    top = info.media_box[3] - logo.y_pt - logo.height_pt  # 72 dpi: 1 px a point

    def at(fx: float, fy: float) -> tuple[int, int, int]:
        return page.getpixel((round(logo.x_pt - info.media_box[0] + fx * logo.width_pt),
                              round(top + fy * logo.height_pt)))

    band = at(-0.1, 0.5)  # just left of the logo: the masthead band
    assert sum(band) < 450  # a dark brand colour
    for spot in (at(0.1, 0.5), at(0.5, 0.05), at(0.95, 0.9)):  # transparent parts
        assert max(abs(a - b) for a, b in zip(spot, band)) <= 8, (spot, band)
    assert min(at(0.5, 0.5)) >= 245  # the logo's white block
    disc = at(0.8, 0.5)  # orange at alpha 160 over the band: between the two
    assert disc[0] > band[0] + 60 and disc != band
