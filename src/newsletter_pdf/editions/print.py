"""The print edition: the file for the print shop.

Trim + bleed (TrimBox/BleedBox on every page), PDF/X-4 with a CMYK OutputIntent, text in
pure black ink, brand colours converted into the press profile, photos colour-managed into
CMYK at ≥ 300 ppi (transparent logos as CMYK with their soft mask), pages padded for
saddle stitching, optional crop marks with a slug line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from .base import PdfEdition

if TYPE_CHECKING:
    from ..compose import Edition
    from ..errors import Problem, Problems
    from ..imageprep import Target
    from ..layouts import Layout
    from ..manifest import Manifest, PrintSettings

DEFAULT_PROFILE = "FOGRA39-coated-newsletter-pdf.icc"
# Neutrals as pure black ink (K only), matching base.css's greys.
GREYS_K = {"grey-80": 0.77, "grey-70": 0.71, "grey-60": 0.65, "grey-55": 0.58,
           "grey-50": 0.52, "grey-25": 0.28}


def print_settings(manifest: Manifest) -> PrintSettings:
    """The print settings, with the bleed defaulting to the paper's custom:
    3 mm on ISO paper, 1/8 inch (3.175 mm) on US Letter."""
    from ..manifest import PrintSettings

    settings = manifest.print or PrintSettings()
    if settings.bleed_mm is None:
        bleed = 3.175 if manifest.issue.page_size == "Letter" else 3.0
        settings = dataclasses.replace(settings, bleed_mm=bleed)
    return settings


def press_profile(manifest: Manifest) -> Path:
    """The CMYK output profile: the issue's ``print.icc_profile`` or the shipped FOGRA39."""
    from ..layouts import data_dir

    settings = print_settings(manifest)
    if settings.icc_profile:
        return Path(settings.icc_profile)
    return data_dir("profiles") / DEFAULT_PROFILE


class PrintEdition(PdfEdition):
    name = "print"
    render_order = 20
    needs_page_count = True
    summary = "PDF/X-4, CMYK, bleed, for the print shop"
    column_photo_height = "tallest_column_photo"

    def image_target(self, manifest: Manifest, width_mm: float) -> Target:
        from ..imageprep import Target

        settings = print_settings(manifest)
        return Target(self.name, width_mm, settings.min_ppi, settings.max_ppi, 92,
                      press_profile(manifest))

    def configure(self, edition: Edition, manifest: Manifest, layout: Layout,
                  padding_pages: int) -> None:
        settings = print_settings(manifest)
        profile = press_profile(manifest)
        edition.bleed_mm = settings.bleed_mm
        edition.marks = settings.crop_marks
        edition.padding_pages = padding_pages
        edition.output_condition = settings.output_condition
        edition.extra_css = _print_css(manifest, layout, profile, settings)
        if settings.crop_marks:
            # Marks are drawn outside the bleed: widen the sheet to leave them room; the
            # BleedBox is set back to the real bleed after rendering (finish.py).
            edition.extra_css += (f"\n@page {{ bleed: {max(settings.bleed_mm + 6, 9)}mm; "
                                  "marks: crop; }")
            edition.bleed_box_mm = settings.bleed_mm
        edition.pdf_options = {"pdf_variant": "pdf/x-4"}

    def finish(self, pdf: bytes, manifest: Manifest, layout: Layout, edition: Edition,
               pages: int, problems: Problems) -> bytes:
        """The common finishing, then transparent images (RGB + soft mask, as the renderer
        writes them) converted into press CMYK, their transparency kept."""
        from ..pressimages import press_colour_images

        pdf = super().finish(pdf, manifest, layout, edition, pages, problems)
        return press_colour_images(pdf, press_profile(manifest), edition.sources)

    def svg_url(self, path: Path, manifest: Manifest, cache: Path) -> str | None:
        from ..imageprep import prepare_svg_for_print

        # vector art: recolour into the press profile
        return prepare_svg_for_print(path, press_profile(manifest), cache).resolve().as_uri()

    def roots(self, manifest: Manifest, cache: Path) -> list[Path]:
        return [cache, press_profile(manifest).parent]

    def page_multiple(self, manifest: Manifest) -> int:
        return max(1, print_settings(manifest).pad_to_multiple)

    def padding(self, page_count: int | None, manifest: Manifest) -> int:
        multiple = print_settings(manifest).pad_to_multiple
        if not page_count or multiple <= 1 or page_count % multiple == 0:
            return 0
        return multiple - page_count % multiple

    def preflight(self, path: Path, manifest: Manifest):
        from ..preflight import preflight_bounded

        settings = print_settings(manifest)
        return preflight_bounded(path, purpose="print", budget_bytes=None,
                                 min_ppi=settings.min_ppi, error_ppi=settings.error_ppi,
                                 pad_multiple=settings.pad_to_multiple,
                                 page_size=manifest.issue.page_size)

    def review(self, built, manifest: Manifest) -> list[Problem]:
        """Name each photo printing under the wanted ppi, judged by its original."""
        from ..photocheck import resolution_problems

        settings = print_settings(manifest)
        return resolution_problems(built.path, built.sources, settings.min_ppi,
                                   settings.error_ppi)


def _cmyk(values) -> str:
    return "device-cmyk(" + " ".join(f"{v:.3f}" for v in values) + ")"


def _print_css(manifest: Manifest, layout: Layout, profile: Path,
               settings: PrintSettings) -> str:
    from ..compose import brand_colours
    from ..imageprep import cmyk_of

    colours = brand_colours(manifest, layout)
    props = [f"--brand-{k}: {_cmyk(cmyk_of(v, profile))};" for k, v in colours.items()
             if k != "ink"]
    props.append("--brand-ink: device-cmyk(0 0 0 1);")  # body text: 100 % K, not 4-colour
    props += [f"--{name}: device-cmyk(0 0 0 {k});" for name, k in GREYS_K.items()]
    props += ["--paper: device-cmyk(0 0 0 0);", "--on-dark-soft: device-cmyk(0 0 0 0);",
              f"--bleed: {settings.bleed_mm}mm;"]
    # Must be in the document's own styles (not stylesheets=) or no OutputIntent is written,
    # and must declare its components or WeasyPrint crashes.
    return (f'@color-profile device-cmyk {{ components: cyan, magenta, yellow, black; '
            f'src: url("{profile.resolve().as_uri()}"); }}\n'
            f":root {{ {' '.join(props)} }}")


EDITION = PrintEdition()
