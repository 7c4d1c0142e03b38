"""The web edition: a self-contained folder (``web/index.html`` plus its assets).

Built after the PDF editions, from the same manifest, articles, layout and image pipeline;
it links to the PDFs of the same build (copied into the folder). Its preflight checks
that the page needs nothing from another host and stays under its weight budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .base import PdfEdition

if TYPE_CHECKING:
    from ..errors import Problem, Problems
    from ..manifest import Manifest

#: What a reader downloads for the page (HTML, CSS, fonts, the photos a browser picks).
WEIGHT_BUDGET = 1_572_864  # 1.5 MB


class WebEdition(PdfEdition):
    name = "web"
    render_order = 90
    is_pdf = False
    summary = "a responsive web page in a self-contained folder"

    def output_name(self, manifest: Manifest) -> str:
        from ..website import FOLDER

        return f"{FOLDER}/index.html"

    def build(self, checked, out: Path, problems: Problems, pdfs: dict[str, Path]):
        """Write the folder; returns a website.WebBuild."""
        from ..website import build_web

        return build_web(checked.manifest, checked.articles, checked.layout, out, problems,
                         pdfs, allow_html=checked.allow_html)

    def warm(self, checked, out: Path, pdfs: dict[str, Path]) -> None:
        """Prepare the photos (WebP) and font subsets into the cache, as the build will."""
        from ..errors import Problems
        from ..website import warm_web

        warm_web(checked.manifest, checked.articles, checked.layout, out, Problems(), pdfs,
                 allow_html=checked.allow_html)

    def preflight(self, path: Path, manifest: Manifest):
        from ..webcheck import check_site

        return check_site(path.parent, WEIGHT_BUDGET)

    def review(self, built, manifest: Manifest) -> list[Problem]:
        return []


EDITION = WebEdition()
