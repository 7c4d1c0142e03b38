"""The slug line: a line of job information printed outside the bleed, beside the crop
marks (file, page, issue, printing condition), so a loose proof sheet can be traced.

WeasyPrint cannot place text outside the page area, so the slug lines are set as a small
document of their own (same sheet size, same confinement, the layout's display face
embedded) and laid over each page with pikepdf.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pikepdf

from .errors import Problems
from .render import render_pdf

PT_PER_MM = 72 / 25.4


def add_slug_lines(pdf: bytes, lines: list[str], font: Path | None,
                   problems: Problems) -> bytes:
    """Overlay ``lines[i]`` on page ``i`` of ``pdf``, in the margin beyond the bleed."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        box = [float(v) for v in doc.pages[0].mediabox]
        width_mm = (box[2] - box[0]) / PT_PER_MM
        height_mm = (box[3] - box[1]) / PT_PER_MM
        trim = [float(v) for v in doc.pages[0].obj.get("/TrimBox", doc.pages[0].mediabox)]
        margin_mm = (trim[0] - box[0]) / PT_PER_MM
        face = (f'@font-face {{ font-family: Slug; src: url("{font.resolve().as_uri()}"); }}'
                if font else "")
        pages = "".join(f'<section><p>{html.escape(line)}</p></section>' for line in lines)
        document = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>
{face}
@page {{ size: {width_mm:.3f}mm {height_mm:.3f}mm; margin: 0; }}
body {{ margin: 0; font-family: Slug, sans-serif; font-size: 6pt; line-height: 7pt;
        color: device-cmyk(0 0 0 1); }}
section {{ position: relative; height: {height_mm:.3f}mm; break-after: page; }}
p {{ position: absolute; margin: 0; white-space: nowrap;
     left: {margin_mm + 22:.3f}mm; bottom: {max(margin_mm / 2 - 1.2, 0.5):.3f}mm; }}
</style></head><body>{pages}</body></html>"""
        roots = [font.parent] if font else []
        base = font.parent if font else Path.cwd()
        slugs = render_pdf(document, base, roots, problems, pdf_options={})
        with pikepdf.open(io.BytesIO(slugs.pdf)) as overlay:
            for page, slug_page in zip(doc.pages, overlay.pages):
                # Give the slug page the very same box (WeasyPrint's sheet starts below
                # and left of 0,0 when there is bleed), moving its drawing with it, so the
                # overlay is placed as is and its text coordinates are the page's own.
                slug_page.contents_add(
                    f"1 0 0 1 {box[0]:.4f} {box[1]:.4f} cm".encode(), prepend=True)
                slug_page.mediabox = pikepdf.Array(box)
                for name in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
                    if name in slug_page.obj:
                        del slug_page.obj[name]
                page.add_overlay(slug_page, pikepdf.Rectangle(*box))
        out = io.BytesIO()
        doc.save(out, compress_streams=False)  # finishing compresses the file, once
        return out.getvalue()
