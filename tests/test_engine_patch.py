"""The column-balancing patch: same pages, fewer layouts, refused where it does not belong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter_pdf import weasyprint_patch

from .conftest import SAMPLE

ROOT = Path(__file__).resolve().parents[1]


def build_unpatched(issue: Path, out: Path, edition: str) -> Path:
    """Build in a new process with the patch turned off (this one is patched)."""
    env = {**os.environ, "NEWSLETTER_ENGINE_PATCH": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter_pdf.cli", "build", str(issue), "-o", str(out),
         "--edition", edition], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "note: column-balancing speed-up not applied: turned off by " \
           "NEWSLETTER_ENGINE_PATCH=0" in result.stderr
    [pdf] = out.glob(f"*-{edition}.pdf")
    return pdf


def test_patched_and_unpatched_pages_are_identical_on_the_sample(sample_email, tmp_path):
    assert weasyprint_patch.applied()
    unpatched = build_unpatched(SAMPLE, tmp_path / "unpatched", "email")
    # Builds are byte-reproducible, so identical layouts give identical files.
    assert unpatched.read_bytes() == Path(sample_email.path).read_bytes()


@pytest.mark.parametrize("issue", sorted(p.parent for p in (ROOT / "issues").glob("*/issue.yaml")
                                         if p.parent != SAMPLE))
def test_patched_and_unpatched_pages_are_identical_on_every_other_issue(issue, tmp_path):
    from newsletter_pdf.build import build_issue

    patched = build_issue(issue, out_dir=tmp_path / "patched", editions=("email",),
                          preflight=False).outputs["email"].path
    unpatched = build_unpatched(issue, tmp_path / "unpatched", "email")
    assert unpatched.read_bytes() == Path(patched).read_bytes()


BALANCE_CASE = """<!doctype html><html lang="en"><style>
@page { size: A5; margin: 15mm }
body { font: 10pt/13pt serif }
.cols { columns: 2; column-gap: 5mm; margin-bottom: 8mm }
figure { break-inside: avoid; margin: 0; height: 40mm; background: #ccc }
</style><div class="cols">
<p>Some text before the figure, long enough to fill a few lines of one column.</p>
<figure></figure><p>Some text after it.</p><figure></figure>
</div><p>After the columns.</p></html>"""


def layouts_and_pages(patch: bool) -> tuple[int, list]:
    """Lay out BALANCE_CASE in a new process; count column layouts, return box positions."""
    code = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT / 'src')!r})
from newsletter_pdf import weasyprint_patch
if {patch!r}:
    assert weasyprint_patch.apply() is None
import weasyprint
from weasyprint.layout import block
calls = [0]
original = block.block_box_layout
def counting(*a, **k):
    calls[0] += 1
    return original(*a, **k)
block.block_box_layout = counting
doc = weasyprint.HTML(string={BALANCE_CASE!r}).render()
boxes = []
def walk(box):
    boxes.append((type(box).__name__, round(box.position_x, 3), round(box.position_y, 3)))
    for child in getattr(box, 'children', []):
        walk(child)
for page in doc.pages:
    walk(page._page_box)
print(json.dumps([calls[0], boxes]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    import json
    calls, boxes = json.loads(result.stdout)
    return calls, boxes


def test_the_balancing_case_lays_out_the_same_boxes_with_fewer_layouts():
    before, boxes_before = layouts_and_pages(patch=False)
    after, boxes_after = layouts_and_pages(patch=True)
    assert boxes_after == boxes_before
    assert after < before * 0.6, (before, after)  # 74 -> 40 block layouts here


def test_the_patch_refuses_another_weasyprint_version(monkeypatch):
    import weasyprint

    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    assert weasyprint_patch._apply() == (
        "it was written for WeasyPrint 70.0, this is 71.0 (builds work, column balancing is "
        "slower)")


def test_the_patch_refuses_a_changed_source():
    code = ("from newsletter_pdf import weasyprint_patch as w\n"
            "w.EXPECTED_SHA256['column.columns_layout'] = '0' * 64\n"
            "print(w.apply())\n"
            "from weasyprint.layout import block, column\n"
            "print(w.source_digest(block.block_box_layout) == "
            "w.EXPECTED_SHA256['block.block_box_layout'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.splitlines() == [
        "column.columns_layout is not the WeasyPrint 70.0 source it was written for",
        "True"]  # nothing was changed, not even the function that did match


def test_a_build_with_the_patch_refused_still_works(make_issue, tmp_path):
    env = {**os.environ, "NEWSLETTER_ENGINE_PATCH": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter_pdf.cli", "build", str(make_issue()), "-o",
         str(tmp_path / "o"), "--edition", "email"], env=env, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "o").glob("*-email.pdf"))
