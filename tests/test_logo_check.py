"""The cover's logo must show on its masthead band: a logo drawn for light paper (dark
lettering on a transparent ground) is reported, with the light version to give instead."""

from __future__ import annotations

from PIL import Image, ImageDraw

from newsletter_pdf.build import check_issue
from newsletter_pdf.contrast import contrast, luminance

from .conftest import DEFAULT_MANIFEST


def _logo(path, ink):
    """A 400 x 120 px logo: lettering-like bars in ``ink`` on a transparent ground."""
    image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for x in range(10, 390, 30):
        draw.rectangle((x, 20, x + 18, 100), fill=ink)
    image.save(path)


def _with_logos(make_issue, **logos):
    lines = "".join(f"  {key}: photos/{name}\n" for key, name in logos.items())
    manifest = DEFAULT_MANIFEST.replace("  organisation: Test Org\n",
                                        "  organisation: Test Org\n" + lines)
    folder = make_issue(manifest)
    for name in logos.values():
        _logo(folder / "photos" / name, (20, 20, 20, 255) if "dark" in name
              else (255, 255, 255, 255))
    return folder


def warnings_of(folder):
    return [str(w).replace(f"{folder}/", "") for w in check_issue(folder).warnings
            if "masthead band" in str(w)]


def test_a_dark_logo_alone_is_reported_with_the_light_version_to_give(make_issue):
    folder = _with_logos(make_issue, logo="dark.png")
    assert warnings_of(folder) == [
        "issue.yaml:4:9: warning: newsletter.logo: dark.png is hard to see on the cover's "
        "masthead band: its colours stand 2.2:1 against the band's #0b4f8a (at least 3:1 "
        "reads); give a light version of it (white or pale lettering) as "
        "newsletter.logo_on_dark"]


def test_a_light_version_for_the_band_is_not_reported(make_issue):
    assert warnings_of(_with_logos(make_issue, logo="dark.png",
                                   logo_on_dark="white.png")) == []
    assert warnings_of(_with_logos(make_issue, logo="white.png")) == []


def test_a_dark_version_for_the_band_is_reported_as_such(make_issue):
    [warning] = warnings_of(_with_logos(make_issue, logo="white.png",
                                        logo_on_dark="dark-too.png"))
    assert warning.startswith("issue.yaml:5:")
    assert warning.endswith("newsletter.logo_on_dark: dark-too.png is hard to see on the "
                            "cover's masthead band: its colours stand 2.2:1 against the "
                            "band's #0b4f8a (at least 3:1 reads); make this version lighter "
                            "(white or pale lettering on a transparent ground)")


def test_contrast_is_wcags():
    assert round(contrast(luminance("#ffffff"), luminance("#000000")), 1) == 21.0
    assert round(contrast(luminance("#fff"), luminance("#0b4f8a")), 1) == 8.4
