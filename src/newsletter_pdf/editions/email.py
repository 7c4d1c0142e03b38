"""The email edition: the file readers receive.

No bleed or marks, sRGB, photos at ~150 ppi re-encoded by us, tagged PDF/UA-1 with alt
texts, bookmarks and clickable links, under a size budget. It renders first (small
images) and copyfits; its page count is the issue's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .base import PdfEdition

if TYPE_CHECKING:
    from ..compose import Edition
    from ..imageprep import Target
    from ..layouts import Layout
    from ..manifest import EmailSettings, Manifest


def email_settings(manifest: Manifest) -> EmailSettings:
    """The issue's ``email:`` settings, or the defaults."""
    from ..manifest import EmailSettings

    return manifest.email or EmailSettings()


class EmailEdition(PdfEdition):
    name = "email"
    render_order = 10
    counts_pages = True
    summary = "sRGB, tagged PDF/UA-1, small, for sending"

    def image_target(self, manifest: Manifest, width_mm: float) -> Target:
        from ..imageprep import Target

        settings = email_settings(manifest)
        return Target(self.name, width_mm, settings.ppi, settings.ppi + 30,
                      settings.jpeg_quality)

    def configure(self, edition: Edition, manifest: Manifest, layout: Layout,
                  padding_pages: int) -> None:
        edition.pdf_options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}

    def preflight(self, path: Path, manifest: Manifest):
        from ..preflight import preflight_bounded

        return preflight_bounded(path, purpose="email",
                                 budget_bytes=int(email_settings(manifest).max_mb * 1_048_576),
                                 min_ppi=100, page_size=manifest.issue.page_size)


EDITION = EmailEdition()
