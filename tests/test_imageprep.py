"""The image pipeline: orientation, colour management, odd modes, caching, no side effects."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from newsletter_pdf.editions import DEFAULT_PROFILE
from newsletter_pdf.imageprep import Target, cmyk_of, prepare_image
from newsletter_pdf.layouts import data_dir

PROFILE = data_dir("profiles") / DEFAULT_PROFILE


def email(width_mm=87.0):
    return Target("email", width_mm, 150, 180, 80)


def press(width_mm=87.0):
    return Target("print", width_mm, 300, 450, 92, PROFILE)


def save(path, image, fmt, **kw):
    image.save(path, fmt, **kw)
    return path


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° on display
    src = save(tmp_path / "rotated.jpg", image, "JPEG", exif=exif)
    out = prepare_image(src, email(), tmp_path / "cache")
    assert (out.width, out.height) == (200, 400)


def test_email_downsamples_to_150ppi_and_reencodes(tmp_path):
    src = save(tmp_path / "big.jpg", Image.new("RGB", (3000, 2000), (10, 120, 60)), "JPEG",
               quality=95)
    out = prepare_image(src, email(87.0), tmp_path / "cache")
    assert out.width == round(87 / 25.4 * 150)  # 514 px across 87 mm
    assert out.path.suffix == ".jpg" and out.mode == "RGB"


def test_print_keeps_resolution_under_max_and_converts_to_cmyk(tmp_path):
    src = save(tmp_path / "photo.jpg", Image.new("RGB", (1200, 800), (30, 80, 160)), "JPEG")
    out = prepare_image(src, press(87.0), tmp_path / "cache")  # 350 ppi: kept as it is
    assert (out.width, out.mode) == (1200, "CMYK")
    with Image.open(out.path) as im:
        assert im.mode == "CMYK" and im.info.get("icc_profile")


def test_print_downsamples_far_above_max(tmp_path):
    src = save(tmp_path / "huge.jpg", Image.new("RGB", (4000, 2000), (30, 80, 160)), "JPEG")
    out = prepare_image(src, press(87.0), tmp_path / "cache")  # 1168 ppi → 300 ppi
    assert out.width == round(87 / 25.4 * 300)


def test_embedded_profile_is_respected(tmp_path):
    """A photo tagged Adobe-RGB-like (here: a Lab-based custom profile) converts differently
    from an untagged one with the same pixel values."""
    pixels = Image.new("RGB", (300, 200), (200, 60, 60))
    untagged = save(tmp_path / "untagged.jpg", pixels, "JPEG", quality=95)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    # a profile with a different white point (D50 'sRGB') stands in for a camera profile
    d50 = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB", 5000))
    assert profile and d50
    tagged_bytes = io.BytesIO()
    srgb = ImageCms.createProfile("sRGB")
    pixels.save(tagged_bytes, "JPEG", quality=95,
                icc_profile=ImageCms.ImageCmsProfile(srgb).tobytes())
    tagged = tmp_path / "tagged.jpg"
    tagged.write_bytes(tagged_bytes.getvalue())
    a = prepare_image(untagged, email(), tmp_path / "c1")
    b = prepare_image(tagged, email(), tmp_path / "c2")
    with Image.open(a.path) as ia, Image.open(b.path) as ib:
        pa, pb = ia.getpixel((10, 10)), ib.getpixel((10, 10))
    assert max(abs(x - y) for x, y in zip(pa, pb)) <= 3  # sRGB-tagged == untagged (sRGB)


def test_cmyk_greyscale_16bit_and_alpha_inputs(tmp_path):
    cmyk = save(tmp_path / "cmyk.jpg", Image.new("CMYK", (600, 400), (0, 80, 90, 0)), "JPEG")
    grey = save(tmp_path / "grey.jpg", Image.new("L", (600, 400), 128), "JPEG")
    deep = save(tmp_path / "deep.png", Image.new("I;16", (600, 400), 40000), "PNG")
    logo = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    logo.paste((11, 79, 138, 255), (100, 100, 500, 300))
    alpha = save(tmp_path / "logo.png", logo, "PNG")
    cache = tmp_path / "cache"
    assert prepare_image(cmyk, email(), cache).mode == "RGB"
    assert prepare_image(grey, press(), cache).mode == "L"  # prints on black alone
    assert prepare_image(deep, email(), cache).mode == "L"
    with Image.open(prepare_image(deep, email(), cache).path) as im:
        assert abs(im.getpixel((5, 5)) - 40000 // 256) <= 1
    out = prepare_image(alpha, email(), cache)
    assert out.path.suffix == ".png" and out.mode == "RGBA"  # logos stay lossless
    with Image.open(out.path) as im:
        assert im.getpixel((0, 0))[3] == 0 and im.getpixel((300, 200)) == (11, 79, 138, 255)


def test_cached_by_content_and_parameters_originals_untouched(tmp_path):
    src = save(tmp_path / "p.jpg", Image.new("RGB", (3000, 2000), (90, 90, 20)), "JPEG")
    original = src.read_bytes()
    cache = tmp_path / "cache"
    first = prepare_image(src, email(), cache)
    again = prepare_image(src, email(), cache)
    assert not first.cached and again.cached and again.path == first.path
    other = prepare_image(src, email(120.0), cache)  # other parameters: another file
    assert other.path != first.path and not other.cached
    assert src.read_bytes() == original


def test_brand_colour_to_press_cmyk():
    c, m, y, k = cmyk_of("#0b4f8a", PROFILE)
    assert c > 0.8 and m > 0.4 and y < 0.2  # a deep blue stays blue
    assert cmyk_of("#ffffff", PROFILE) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_print_makes_opaque_pngs_cmyk_jpegs(tmp_path, mode):
    """An opaque PNG (no alpha, or an alpha that is 255 everywhere) is a photo."""
    image = Image.new(mode, (500, 300), (255, 0, 0) if mode == "RGB" else (255, 0, 0, 255))
    src = save(tmp_path / f"t-{mode}.png", image, "PNG")
    out = prepare_image(src, press(40.0), tmp_path / "cache")
    assert (out.mode, out.path.suffix) == ("CMYK", ".jpg")


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_print_keeps_real_transparency(tmp_path, mode):
    """A logo with transparent pixels stays a PNG with its alpha (its colour goes to CMYK
    in the PDF, pressimages.py), never flattened onto a white box."""
    logo = Image.new("RGBA", (500, 300), (255, 255, 255, 0))
    logo.paste((11, 79, 138, 255), (100, 100, 400, 200))
    logo.paste((217, 130, 43, 128), (420, 100, 480, 200))
    source = {"RGBA": logo, "LA": logo.convert("LA"), "P": logo.convert("P")}[mode]
    if mode == "P":
        source.info["transparency"] = source.getpixel((0, 0))
    src = save(tmp_path / f"logo-{mode}.png", source, "PNG")
    out = prepare_image(src, press(40.0), tmp_path / "cache")
    assert out.path.suffix == ".png" and out.mode == ("LA" if mode == "LA" else "RGBA")
    with Image.open(out.path) as im:
        alpha = im.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0 and alpha.getpixel((250, 150)) == 255
        if mode != "P":  # a palette keeps one transparent index, no partial alpha
            assert alpha.getpixel((450, 150)) == 128


def test_a_rebuild_prepares_cached_photos_without_a_child(make_issue, tmp_path, monkeypatch):
    # Every photo in the cache: nothing to decode, so no bounded child is started for it
    # (a first build's photos are prepared in one, time- and memory-limited).
    from newsletter_pdf import bounded
    from newsletter_pdf.build import build_issue

    issue, out = make_issue(), tmp_path / "out"
    started: list[str] = []
    real = bounded.run_bounded

    def spy(func, *, what, **kwargs):
        started.append(what)
        return real(func, what=what, **kwargs)

    monkeypatch.setattr(bounded, "run_bounded", spy)
    first = build_issue(issue, out_dir=out, editions=("print", "email"))
    # one child for both editions: each photo decoded once for both
    assert [w for w in started if w.startswith("preparing the photos")] == [
        "preparing the photos of the print and email editions"]
    started.clear()
    again = build_issue(issue, out_dir=out, editions=("print", "email"))
    assert [w for w in started if w.startswith("preparing the photos")] == []
    for name in ("print", "email"):  # the same photos, the same PDFs
        assert again.outputs[name].path.read_bytes() == first.outputs[name].path.read_bytes()
