#!/usr/bin/env python3
"""Measure the column-balancing patch on an issue's own HTML: layouts, render time, pages.

Usage: .venv/bin/python scripts/measure_balancing.py [ISSUE] [RUNS]

Composes the email edition of ISSUE (default: the sample), then lays it out and writes it
RUNS times (default 3) in a fresh process with and without the patch, and prints for each:
the number of block layouts WeasyPrint ran inside multi-column boxes, the median layout
and write times, the page count, and whether the pages are the same (box positions).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from newsletter_pdf import weasyprint_patch
if sys.argv[3] == "1":
    assert weasyprint_patch.apply() is None
import weasyprint
from weasyprint.layout import block
from newsletter_pdf.fetcher import ConfinedFetcher
spec = json.loads(Path(sys.argv[2]).read_text())
calls = [0]
original = block.block_box_layout
def counting(*a, **k):
    if a[0].in_column:
        calls[0] += 1
    return original(*a, **k)
block.block_box_layout = counting
layout_times, write_times = [], []
for _ in range(int(sys.argv[4])):
    calls[0] = 0
    t = time.perf_counter()
    doc = weasyprint.HTML(string=spec["html"], base_url=spec["base"],
                          url_fetcher=ConfinedFetcher([Path(r) for r in spec["roots"]])).render()
    layout_times.append(time.perf_counter() - t)
    t = time.perf_counter()
    doc.write_pdf()
    write_times.append(time.perf_counter() - t)
boxes = []
def walk(box):
    boxes.append((type(box).__name__, round(box.position_x, 2), round(box.position_y, 2)))
    for child in getattr(box, "children", []):
        walk(child)
for page in doc.pages:
    walk(page._page_box)
print(json.dumps({"layouts": calls[0], "layout_s": statistics.median(layout_times),
                  "write_s": statistics.median(write_times), "pages": len(doc.pages),
                  "boxes": hash(tuple(map(tuple, boxes)))}))
"""


def compose(issue: Path) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.editions import make_edition
    from newsletter_pdf.errors import Problems

    checked = check_issue(issue)
    out = Path(tempfile.mkdtemp(prefix="balancing-"))
    edition = make_edition("email", checked.manifest, checked.layout, out, Problems())
    html = compose_html(checked.manifest, checked.articles, checked.layout, Problems(), edition)
    roots = [checked.manifest.folder, *checked.layout.roots, *edition.roots]
    return {"html": html, "base": checked.manifest.folder.as_uri() + "/",
            "roots": [str(r) for r in roots]}


def main() -> None:
    issue = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "issues" / "2011-q1"
    runs = sys.argv[2] if len(sys.argv) > 2 else "3"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump(compose(issue), spec)
    results = {}
    for patched in ("0", "1"):
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "src"), spec.name,
                              patched, runs], capture_output=True, text=True, env=env,
                             check=True)
        results[patched] = json.loads(out.stdout)
    os.unlink(spec.name)
    before, after = results["0"], results["1"]
    print(f"issue: {issue}")
    print(f"{'':12} {'column layouts':>15} {'layout s':>9} {'write s':>8} {'pages':>6}")
    for name, r in (("unpatched", before), ("patched", after)):
        print(f"{name:12} {r['layouts']:>15} {r['layout_s']:>9.2f} {r['write_s']:>8.2f} "
              f"{r['pages']:>6}")
    print(f"layout time ratio: {after['layout_s'] / before['layout_s']:.2f}; "
          f"same pages: {before['boxes'] == after['boxes'] and before['pages'] == after['pages']}")


if __name__ == "__main__":
    main()
