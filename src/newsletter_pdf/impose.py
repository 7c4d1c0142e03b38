"""Booklet imposition: 2-up saddle-stitch spreads in printer's order, for proofs and
short runs on an office printer.

For n pages (padded with blanks to a multiple of 4), sheet side k shows, left | right:
front ``n-2k | 2k+1``, back ``2k+2 | n-2k-1`` (1-based). Folded and stacked, the sheets read
1, 2, …, n. A right-to-left issue is bound on the right: every spread is mirrored
(front ``2k+1 | n-2k``), so the cover is the left half of the outer sheet, the spine is on
its right, and page 2 faces page 3 from the right. The binding is read from the PDF
(``/ViewerPreferences /Direction /R2L``, which the build writes for such issues) unless
given. Each page is placed as a Form XObject (its TrimBox, so bleed is cut off), scaled to
fit half the sheet: A4 pages on A3, or with ``booklet='a5'`` an A5 booklet on A4 sheets.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

MM = 72 / 25.4
SHEETS = {"a3": (420 * MM, 297 * MM), "a4": (297 * MM, 210 * MM),
          "tabloid": (17 * 72, 11 * 72), "letter": (11 * 72, 8.5 * 72)}


def printers_order(pages: int, right_bound: bool = False) -> list[tuple[int, int]]:
    """Spreads (left, right) in printing order; 0 means a blank page. ``right_bound``
    mirrors every spread (a right-to-left booklet, stapled on its right edge)."""
    n = pages + (-pages) % 4
    spreads = []
    for k in range(n // 4):
        spreads.append((n - 2 * k, 2 * k + 1))
        spreads.append((2 * k + 2, n - 2 * k - 1))
    if right_bound:
        spreads = [(right, left) for left, right in spreads]
    return [(left if left <= pages else 0, right if right <= pages else 0)
            for left, right in spreads]


def right_bound(pdf: pikepdf.Pdf) -> bool:
    """Whether the PDF says it reads right to left (bound on the right)."""
    prefs = pdf.Root.get("/ViewerPreferences")
    return isinstance(prefs, pikepdf.Dictionary) and prefs.get("/Direction") == "/R2L"


def impose(source: Path, target: Path, booklet: str | None = None,
           binding: str | None = None) -> int:
    """Write the imposed PDF; returns the number of sheet sides. ``binding`` is ``left``
    or ``right``; by default the PDF's reading direction decides."""
    with pikepdf.open(source) as src:
        on_right = right_bound(src) if binding is None else binding == "right"
        first = src.pages[0]
        box = [float(v) for v in (first.obj.get("/TrimBox") or first.mediabox)]
        page_w, page_h = box[2] - box[0], box[3] - box[1]
        if booklet == "a5":
            sheet_w, sheet_h = SHEETS["a4"]
        elif abs(page_w - 8.5 * 72) < 3:
            sheet_w, sheet_h = SHEETS["tabloid"]
        else:
            sheet_w, sheet_h = SHEETS["a3"]
        scale = min(sheet_w / 2 / page_w, sheet_h / page_h)
        out = pikepdf.new()
        forms = {}
        for number, page in enumerate(src.pages, start=1):
            trim = [float(v) for v in (page.obj.get("/TrimBox") or page.mediabox)]
            form = out.copy_foreign(page.as_form_xobject())
            form.BBox = pikepdf.Array(trim)
            forms[number] = (form, trim)
        spreads = printers_order(len(src.pages), on_right)
        for left, right in spreads:
            resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary())
            ops = []
            for slot, number in enumerate((left, right)):
                if not number:
                    continue
                form, trim = forms[number]
                name = pikepdf.Name(f"/P{number}")
                resources.XObject[name] = form
                # left page hugs the spine from the left, right page from the right
                x = (sheet_w / 2 - page_w * scale) if slot == 0 else sheet_w / 2
                y = (sheet_h - page_h * scale) / 2
                ops.append(f"q {scale:.5f} 0 0 {scale:.5f} {x - trim[0] * scale:.3f} "
                           f"{y - trim[1] * scale:.3f} cm {name} Do Q")
            sheet = pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=pikepdf.Array([0, 0, round(sheet_w, 3), round(sheet_h, 3)]),
                Resources=resources,
                Contents=out.make_stream("\n".join(ops).encode()))
            out.pages.append(pikepdf.Page(sheet))
        out.docinfo["/Title"] = f"{src.docinfo.get('/Title', source.stem)} (booklet imposition)"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        out.save(tmp, deterministic_id=True)
        tmp.replace(target)
        return len(spreads)
