"""A whole right-to-left issue (issues/2011-q1-ar), tested on its real PDFs: bound on the
right, mirrored folios, Arabic fixed words and digits, language tags, imposition."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from newsletter_pdf.impose import impose, printers_order

ROOT = Path(__file__).resolve().parents[1]
ARABIC_ISSUE = ROOT / "issues" / "2011-q1-ar"
A4_WIDTH = 595.28


@pytest.fixture(scope="module")
def built_result(tmp_path_factory):
    from newsletter_pdf.build import build_issue

    return build_issue(ARABIC_ISSUE, out_dir=tmp_path_factory.mktemp("ar"))


@pytest.fixture(scope="module")
def built(built_result):
    return built_result.outputs


def _audit(result) -> list[str]:
    return [w.message for w in result.warnings if w.message.startswith("layout:")]


def test_the_arabic_issue_has_no_layout_findings_in_either_edition(built_result) -> None:
    assert _audit(built_result) == []
    assert {name: b.pages for name, b in built_result.outputs.items()
            if name != "web"} == {"print": 4, "email": 4}


def test_the_bilingual_issue_has_no_layout_findings_in_either_edition(tmp_path) -> None:
    from newsletter_pdf.build import build_issue

    result = build_issue(ROOT / "issues" / "2011-q1-bilingual", out_dir=tmp_path,
                         editions=("print", "email"), preflight=False)
    assert _audit(result) == []
    assert result.outputs["print"].padded == []
    _passes_the_outside_check(result.outputs)


def _passes_the_outside_check(outputs) -> None:
    pytest.importorskip("pdfplumber")
    from .support.pdfcheck import check_pdf

    for edition in ("email", "print"):
        assert [str(f) for f in check_pdf(outputs[edition].path)] == [], edition


def test_the_arabic_issue_passes_the_outside_layout_check(built) -> None:
    _passes_the_outside_check(built)


def _words(pdf: Path, page: int) -> list[tuple[float, float, str]]:
    """(xMin, yMin, text) of every word poppler finds on a page."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                          "-"], capture_output=True, text=True, check=True).stdout
    return [(float(x), float(y), text) for x, y, text in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', xml)]


def test_both_editions_pass_preflight(built) -> None:
    for edition in ("print", "email"):
        report = built[edition].preflight
        assert report.ok, report.failures()
    with pikepdf.open(built["print"].path) as pdf:
        assert len(pdf.pages) == 4


def test_reads_right_to_left_in_arabic(built) -> None:
    with pikepdf.open(built["email"].path) as pdf:
        assert pdf.Root.ViewerPreferences.Direction == "/R2L"
        assert str(pdf.Root.Lang) == "ar"


def test_first_page_is_a_left_page_and_folios_are_mirrored(built) -> None:
    pdf = built["email"].path
    # bound on the right: page 2 is a right-hand page, its folio on the outer (right) edge;
    # page 3 a left-hand page; folios in Arabic-Indic digits, as the Arabic table says
    folio2 = [w for w in _words(pdf, 2) if w[2] == "٢" and w[1] > 780]
    folio3 = [w for w in _words(pdf, 3) if w[2] == "٣" and w[1] > 780]
    assert folio2 and folio2[0][0] > A4_WIDTH / 2
    assert folio3 and folio3[0][0] < A4_WIDTH / 2


def test_fixed_words_and_contents_digits_in_arabic(built) -> None:
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(built["email"].path), "-"],
                          capture_output=True, text=True, check=True).stdout
    # pdftotext gives each right-to-left run in logical order between bidi embedding marks
    text = re.sub("[\u202a-\u202e\u200e\u200f]", "", text)
    assert "في هذا العدد" in text  # the contents' heading (i18n/ar.yaml)
    assert "المجلد" in text and "كانون الثاني – آذار 2011" in text  # the issue line
    assert re.search("[٢٣٤]", text)  # the contents' page numbers
    assert "Volume" not in text and "In this issue" not in text


def test_articles_tagged_arabic(built) -> None:
    langs = set()
    with pikepdf.open(built["email"].path) as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary):
                if node.get("/S") == "/Art" and "/Lang" in node:
                    langs.add(str(node.Lang))
                kids = node.get("/K")
                stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids])
    assert langs == {"ar"}


def test_imposed_right_bound(built, tmp_path: Path) -> None:
    assert printers_order(4, right_bound=True) == [(1, 4), (3, 2)]
    assert printers_order(8, right_bound=True)[0] == (1, 8)
    target = tmp_path / "imposed.pdf"
    impose(built["print"].path, target)  # the binding read from the PDF
    with pikepdf.open(target) as pdf:
        sheet_w = float(pdf.pages[0].mediabox[2])
        placed = {}
        for side, page in enumerate(pdf.pages):
            ops = page.Contents.read_bytes().decode()
            for match in re.finditer(r"([-\d.]+) ([-\d.]+) cm (/P\d+) Do", ops):
                placed[(side, match.group(3))] = float(match.group(1)) < sheet_w / 2
    # sheet 1 front: the cover on the left half, the back page (4) on the right;
    # its back: page 3 left, page 2 right (page 2 faces page 3 from the right)
    assert placed == {(0, "/P1"): True, (0, "/P4"): False, (1, "/P3"): True,
                      (1, "/P2"): False}


def test_words_overridden_by_the_issue(tmp_path: Path) -> None:
    from newsletter_pdf.build import check_issue
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.errors import Problems

    issue = tmp_path / "issue"
    shutil.copytree(ARABIC_ISSUE, issue)
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text() + "\nwords:\n  in_this_issue: محتويات العدد\n"
                        "  digits: western\n")
    checked = check_issue(issue)
    html = compose_html(checked.manifest, checked.articles, checked.layout, Problems())
    assert '<h2 class="contents-title">محتويات العدد</h2>' in html
    assert "arabic-indic" not in html
    assert "المجلد 5 · العدد 1 · كانون الثاني – آذار 2011" in html


def test_message_in_arabic(built, tmp_path: Path) -> None:
    import email
    import email.policy

    from click.testing import CliRunner

    from newsletter_pdf.cli import main

    out = built["email"].path.parent
    result = CliRunner().invoke(main, [
        "send", str(ARABIC_ISSUE), "--to", str(ARABIC_ISSUE / "recipients.example.csv"),
        "-o", str(out), "--no-rebuild", "--dry-run", str(tmp_path / "eml")],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [eml] = (tmp_path / "eml").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == ("نشرة المنظمة الدولية للهجرة في العراق · المجلد 5 · العدد 1 · "
                              "كانون الثاني – آذار 2011")
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("مرحباً أميرة حسن،\n")
    assert "مع أطيب التحيات،" in text and "Dear" not in text
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    [attachment] = msg.iter_attachments()
    assert attachment.get_filename().startswith("نشرة المنظمة الدولية للهجرة في العراق - المجلد 5")


def test_the_back_page_s_one_section_fills_both_columns(built) -> None:
    """The back page has one section: its title runs across the page and its text is
    balanced over both columns — not set in one column beside an empty one."""
    pdf = built["email"].path
    words = _words(pdf, 4)
    text = [(x, y) for x, y, _ in words if 60 < y < 842 / 2]  # above the contact panel
    middle = A4_WIDTH / 2
    right = [y for x, y in text if x > middle + 10]
    left = [y for x, y in text if x < middle - 10]
    assert len(left) > 20 and len(right) > 20  # words in both columns
    assert abs(max(right) - max(left)) < 40  # balanced: both end about the same height
