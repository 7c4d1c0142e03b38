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


def test_patched_and_unpatched_pages_are_identical_on_the_sample(sample_result, tmp_path):
    assert sample_result.notes == []  # the engine host applied the patch
    unpatched = build_unpatched(SAMPLE, tmp_path / "unpatched", "email")
    # Builds are byte-reproducible, so identical layouts give identical files.
    assert unpatched.read_bytes() == Path(sample_result.outputs["email"].path).read_bytes()


OTHER_ISSUES = sorted(p.parent for folder in ("issues", "tests/corpus")
                      for p in (ROOT / folder).glob("*/issue.yaml") if p.parent != SAMPLE)


@pytest.mark.parametrize("issue", OTHER_ISSUES, ids=[p.name for p in OTHER_ISSUES])
def test_patched_and_unpatched_pages_are_identical_on_every_other_issue(issue, tmp_path):
    from newsletter_pdf.build import build_issue

    patched = build_issue(issue, out_dir=tmp_path / "patched", editions=("email",),
                          preflight=False).outputs["email"].path
    unpatched = build_unpatched(issue, tmp_path / "unpatched", "email")
    assert unpatched.read_bytes() == Path(patched).read_bytes()


# Pull quotes that cannot be split: the leftover at the balanced height does not fit, and
# WeasyPrint 70.0 grows the columns one pixel per layout of the whole set.
BALANCE_CASE = ("""<!doctype html><html lang="en"><style>
@page { size: A5; margin: 15mm } body { font: 10pt/13pt serif }
.cols { columns: 2; column-gap: 5mm } p { margin: 0 }
blockquote { break-inside: avoid; margin: 2mm 0; font-size: 13pt; line-height: 16pt }
</style><div class="cols"><p>""" + "text " * 60 + "</p>" + "".join(
    f"<blockquote>{'quoted words ' * (4 + 3 * i)}</blockquote>" for i in range(4))
    + "</div></html>")


def layouts_and_pages(patch: bool) -> tuple[int, int, int, list]:
    """Lay out BALANCE_CASE in a new process; count block layouts, Pango layouts made for
    line breaking and lines made, return box positions."""
    code = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT / 'src')!r})
from newsletter_pdf import weasyprint_patch
if {patch!r}:
    assert weasyprint_patch.apply() is None
import weasyprint
from weasyprint.layout import block, inline
from weasyprint.text import line_break
counts = {{}}
def count(module, name):
    original = getattr(module, name)
    def counting(*a, **k):
        counts[name] = counts.get(name, 0) + 1
        return original(*a, **k)
    setattr(module, name, counting)
count(block, "block_box_layout")
count(line_break, "create_layout")
count(inline, "split_inline_box")
doc = weasyprint.HTML(string={BALANCE_CASE!r}).render()
boxes = []
def walk(box):
    boxes.append((type(box).__name__, round(box.position_x, 3), round(box.position_y, 3)))
    for child in getattr(box, 'children', []):
        walk(child)
for page in doc.pages:
    walk(page._page_box)
names = ("block_box_layout", "create_layout", "split_inline_box")
print(json.dumps([counts.get(n, 0) for n in names] + [boxes]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    import json
    calls, pango, lines, boxes = json.loads(result.stdout)
    return calls, pango, lines, boxes


def test_the_balancing_case_lays_out_the_same_boxes_with_fewer_layouts():
    before, pango_before, lines_before, boxes_before = layouts_and_pages(patch=False)
    after, pango_after, lines_after, boxes_after = layouts_and_pages(patch=True)
    assert boxes_after == boxes_before
    assert after < before * 0.9, (before, after)  # 148 -> 126 block layouts here
    # each line is made, and broken by Pango, once per page, not once per height tried
    assert lines_after < lines_before * 0.5, (lines_before, lines_after)
    assert pango_after < pango_before * 0.5, (pango_before, pango_after)


def test_a_remembered_line_is_handed_out_as_a_copy_of_its_own():
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    assert weasyprint_patch.apply() is None
    memo = inline.split_first_line
    assert memo.__wrapped__ is line_break.split_first_line
    import weasyprint

    document = weasyprint.HTML(string="<p>Two words</p>").render()
    box = document.pages[0]._page_box
    while not hasattr(box, "pango_layout"):
        box = box.children[0]

    class Context:  # a layout context: the memory hangs on it
        pass

    context = Context()
    first = memo(box.text, box.style, context, 500, 0)
    second = memo(box.text, box.style, context, 500, 0)
    assert first[1:] == second[1:] and first[0] is not second[0]
    assert first[0].text == second[0].text == "Two words"
    assert len(context._newsletter_lines) == 1


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
            "print(w.source_digest(column.columns_layout) == "
            "'7a05cce3272fc581cf8d9352ebe07d4de51fb742dfccd6d2e86895ac0eca9691')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.splitlines() == [
        "column.columns_layout is not the WeasyPrint 70.0 source it was written for",
        "True"]  # nothing was changed


@pytest.mark.parametrize("key", ["line_break.split_first_line", "inline.get_next_linebox",
                                 "page.make_page", "css.find_stylesheets"])
def test_the_line_memory_is_refused_with_the_rest_when_its_source_changed(key):
    code = ("from newsletter_pdf import weasyprint_patch as w\n"
            f"w.EXPECTED_SHA256[{key!r}] = '0' * 64\n"
            "print(w.apply())\n"
            "from weasyprint.layout import block, column, inline, page\n"
            "from weasyprint.text import line_break\n"
            "from weasyprint import css\n"
            "print(inline.split_first_line is line_break.split_first_line, "
            "not hasattr(inline.get_next_linebox, '__wrapped__') and "
            "not hasattr(page.make_page, '__wrapped__') and "
            "not hasattr(css.CSS, '__wrapped__'), "
            "block.columns_layout is column.columns_layout, "
            "w.source_digest(column.columns_layout) == "
            "w.EXPECTED_SHA256['column.columns_layout'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.splitlines() == [
        f"{key} is not the WeasyPrint 70.0 source it was written for",
        "True True True True"]  # nothing was changed


def test_a_build_with_the_patch_refused_still_works(make_issue, tmp_path):
    env = {**os.environ, "NEWSLETTER_ENGINE_PATCH": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter_pdf.cli", "build", str(make_issue()), "-o",
         str(tmp_path / "o"), "--edition", "email"], env=env, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "o").glob("*-email.pdf"))


def test_a_linked_stylesheet_is_reused_only_while_its_bytes_are_the_same(tmp_path):
    """Built once per process and handed out again while the file is unchanged; built
    anew once it changes; never reused when it holds a rule that writes into the document
    it is read for (@font-face…); a fetch the confinement refuses is WeasyPrint's own."""
    from newsletter_pdf.fetcher import ConfinedFetcher

    built = []

    def build(*args, **kwargs):
        built.append(kwargs["url"].rsplit("/", 1)[1])
        return object()

    stylesheet = weasyprint_patch._reusing_stylesheets(build)
    fetcher = ConfinedFetcher([tmp_path])
    plain, faces = tmp_path / "plain.css", tmp_path / "faces.css"
    plain.write_text("p { color: red }\n@page { margin: 1cm }\n")
    faces.write_text('@font-face { font-family: X; src: url("x.ttf") }\n')

    def ask(path):
        return stylesheet(url=path.as_uri(), url_fetcher=fetcher, media_type="print",
                          _check_mime_type=True)

    first = ask(plain)
    assert ask(plain) is first and built == ["plain.css"]
    plain.write_text("p { color: blue }\n")
    assert ask(plain) is not first and built == ["plain.css"] * 2
    ask(faces), ask(faces)
    assert built[2:] == ["faces.css"] * 2
    outside = tmp_path.parent / "outside.css"
    outside.write_text("p { color: green }\n")
    ask(outside), ask(outside)  # refused by the fetcher: built (and reported) each time
    assert built[4:] == ["outside.css"] * 2


def test_first_line_style_takes_only_the_first_line_of_a_broken_paragraph(tmp_path):
    """A paragraph with a ::first-line rule, broken across a page: its first line is set in
    capitals, the first line of its rest on the next page is not (WeasyPrint 70.0 styled
    both; the patch fixes it)."""
    import weasyprint
    from pypdf import PdfReader

    assert weasyprint_patch.apply() is None
    words = " ".join(f"word{i}" for i in range(900))
    html = ("<style>@page { size: A6; margin: 10mm } body { font: 10pt/12pt serif }"
            "p::first-line { text-transform: uppercase }</style>"
            f"<p>{words}</p>")
    pdf = tmp_path / "broken.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    assert len(pages) >= 2
    assert pages[0].split()[0] == "WORD0"
    assert pages[1].split()[0].startswith("word"), pages[1][:40]  # not WORD…
