"""Stage 4b — editions: what differs between the print-shop file and the email file.

One issue, two PDFs, each rendered separately (a reused Document carries the sRGB output
intent into the next file — WEASYPRINT-NOTES):

* **print** — trim + bleed (TrimBox/BleedBox on every page), PDF/X-4 with a CMYK
  OutputIntent, text in pure black ink, brand colours converted into the press profile,
  photos colour-managed into CMYK at ≥ 300 ppi, pages padded for saddle stitching.
* **email** — no bleed or marks, sRGB, photos at ~150 ppi re-encoded by us, tagged PDF/UA-1
  with alt texts, bookmarks and clickable links, under a size budget.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .compose import Edition, brand_colours
from .errors import Problems
from .imageprep import Target, cache_dir_for, cmyk_of, prepare_image, prepare_svg_for_print
from .images import image_references
from .layouts import Layout, data_dir
from .manifest import EmailSettings, Manifest, PrintSettings

DEFAULT_PROFILE = "FOGRA39-coated-newsletter-pdf.icc"
EDITIONS = ("print", "email")
# Print edition neutrals as pure black ink (K only), matching base.css's greys.
GREYS_K = {"grey-80": 0.77, "grey-70": 0.71, "grey-60": 0.65, "grey-55": 0.58,
           "grey-50": 0.52, "grey-25": 0.28}


def print_settings(manifest: Manifest) -> PrintSettings:
    """The print settings, with the bleed defaulting to the paper's custom:
    3 mm on ISO paper, 1/8 inch (3.175 mm) on US Letter."""
    import dataclasses

    settings = manifest.print or PrintSettings()
    if settings.bleed_mm is None:
        bleed = 3.175 if manifest.issue.page_size == "Letter" else 3.0
        settings = dataclasses.replace(settings, bleed_mm=bleed)
    return settings


def email_settings(manifest: Manifest) -> EmailSettings:
    return manifest.email or EmailSettings()


def press_profile(manifest: Manifest) -> Path:
    settings = print_settings(manifest)
    if settings.icc_profile:
        return Path(settings.icc_profile)
    return data_dir("profiles") / DEFAULT_PROFILE


def image_widths(layout: Layout) -> dict[str, float]:
    """The largest width (mm) the layout gives each placement; the layout can say."""
    defaults = {"cover": 216.0, "top": 180.0, "span": 180.0, "column": 87.0, "logo": 60.0,
                "column_height": 70.0}
    defaults.update(layout.options.get("image_widths_mm", {}) or {})
    return defaults


#: Limits for preparing one edition's photos (a hostile file must not take the machine).
PREPARE_TIME_LIMIT = 600.0
PREPARE_MEMORY_MB = 4096


def prepare_edition(name: str, manifest: Manifest, layout: Layout, out_dir: Path,
                    problems: Problems, padding_pages: int = 0) -> Edition:
    """:func:`make_edition` in a limited child process (time and memory): photo
    preparation is bounded like every other stage. The prepared files land in the cache."""
    from .bounded import run_bounded
    from .errors import RenderError

    def prepare():
        found = Problems()
        edition = make_edition(name, manifest, layout, out_dir, found, padding_pages)
        return edition, found.items

    edition, items = run_bounded(
        prepare, what=f"preparing the photos of the {name} edition",
        time_limit=PREPARE_TIME_LIMIT, memory_mb=PREPARE_MEMORY_MB, error=RenderError,
        hint="make the largest photos smaller (under about 25 megapixels each)")
    problems.items.extend(items)
    return edition


def make_edition(name: str, manifest: Manifest, layout: Layout, out_dir: Path,
                 problems: Problems, padding_pages: int = 0) -> Edition:
    """Prepare the images and the settings of one edition."""
    widths = image_widths(layout)
    cache = cache_dir_for(out_dir)
    edition = Edition(name=name)
    if name == "print":
        settings = print_settings(manifest)
        profile = press_profile(manifest)
        edition.bleed_mm = settings.bleed_mm
        edition.marks = settings.crop_marks
        edition.padding_pages = padding_pages
        target = lambda w: Target("print", w, settings.min_ppi, settings.max_ppi, 92,  # noqa
                                  profile)
        edition.extra_css = _print_css(manifest, layout, profile, settings)
        if settings.crop_marks:
            # Marks are drawn outside the bleed: widen the sheet to leave them room; the
            # BleedBox is set back to the real bleed after rendering (build.py).
            edition.extra_css += (f"\n@page {{ bleed: {max(settings.bleed_mm + 6, 9)}mm; "
                                  "marks: crop; }")
            edition.bleed_box_mm = settings.bleed_mm
        edition.pdf_options = {"pdf_variant": "pdf/x-4"}
    else:
        settings = email_settings(manifest)
        target = lambda w: Target("email", w, settings.ppi, settings.ppi + 30,  # noqa
                                  settings.jpeg_quality)
        edition.pdf_options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}
    edition.pdf_options.update({
        "custom_metadata": True,
        "pdf_identifier": _identifier(manifest, name),
    })
    needed: dict[Path, float] = {}  # one file may be placed twice: prepare for the largest
    for path, key, _ in image_references(manifest):
        if path.suffix.lower() == ".svg":
            if name == "print":  # vector art: recolour into the press profile
                edition.image_urls[str(path)] = prepare_svg_for_print(
                    path, profile, cache).resolve().as_uri()
            continue
        placement = "logo" if "logo" in key else "cover" if key == "cover.image" else \
            _placement(manifest, path)
        width = widths[placement]
        if placement == "column":  # a tall photo is capped in height, so it is narrower
            width = min(width, widths.get("column_height", 70.0) * _aspect(path))
        needed[path] = max(width, needed.get(path, 0.0))
    for path, width in needed.items():
        prepared = prepare_image(path, target(width), cache)
        edition.image_urls[str(path)] = prepared.path.resolve().as_uri()
        edition.sources[(prepared.width, prepared.height)] = path
    edition.roots = [cache, profile.parent] if name == "print" else [cache]
    return edition


def _aspect(path: Path) -> float:
    """Width / height as displayed (EXIF orientations 5–8 swap the axes)."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            w, h = h, w
    return w / h if h else 1.0


def _placement(manifest: Manifest, path: Path) -> str:
    for spec in manifest.articles:
        for photo in spec.photos:
            if Path(photo.file) == path:
                return "span" if photo.placement in ("top", "span") else "column"
    return "span"


def _identifier(manifest: Manifest, edition: str) -> bytes:
    """A fixed file identifier: the same sources give byte-identical PDFs."""
    return hashlib.md5(f"{manifest.slug}/{edition}".encode()).hexdigest().encode()


def _cmyk(values) -> str:
    return "device-cmyk(" + " ".join(f"{v:.3f}" for v in values) + ")"


def _print_css(manifest: Manifest, layout: Layout, profile: Path,
               settings: PrintSettings) -> str:
    colours = brand_colours(manifest, layout)
    props = [f"--brand-{k}: {_cmyk(cmyk_of(v, profile))};" for k, v in colours.items()
             if k != "ink"]
    props.append("--brand-ink: device-cmyk(0 0 0 1);")  # body text: 100 % K, not 4-colour
    props += [f"--{name}: device-cmyk(0 0 0 {k});" for name, k in GREYS_K.items()]
    props += ["--paper: device-cmyk(0 0 0 0);", "--on-dark-soft: device-cmyk(0 0 0 0);",
              f"--bleed: {settings.bleed_mm}mm;"]
    # Must be in the document's own styles (not stylesheets=) or no OutputIntent is written,
    # and must declare its components or WeasyPrint crashes (WEASYPRINT-NOTES).
    return (f'@color-profile device-cmyk {{ components: cyan, magenta, yellow, black; '
            f'src: url("{profile.resolve().as_uri()}"); }}\n'
            f":root {{ {' '.join(props)} }}")
