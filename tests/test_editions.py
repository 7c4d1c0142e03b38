"""Print-shop and email editions, verified on the PDFs themselves."""

from __future__ import annotations

import hashlib

import pikepdf
import pytest
from PIL import Image

from newsletter_pdf.build import build_issue
from newsletter_pdf.impose import impose, printers_order
from newsletter_pdf.pdfinspect import inspect_pdf, outline_titles
from newsletter_pdf.preflight import preflight_pdf
from newsletter_pdf.units import MM_PER_PT


def test_print_boxes_bleed_3mm_on_every_page(sample_pdf):
    for page in inspect_pdf(sample_pdf):
        trim, bleed = page.trim_box, page.bleed_box
        assert trim and bleed, page.number
        assert round((trim[2] - trim[0]) * MM_PER_PT, 1) == 210.0
        assert round((trim[3] - trim[1]) * MM_PER_PT, 1) == 297.0
        for i in range(4):
            assert abs(abs(bleed[i] - trim[i]) * MM_PER_PT - 3.0) < 0.05, (page.number, i)


def test_print_is_pdfx4_with_cmyk_output_intent(sample_pdf):
    with pikepdf.open(sample_pdf) as pdf:
        [intent] = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX"
        profile = intent.DestOutputProfile
        assert int(profile.N) == 4
        assert b"FOGRA39" in profile.read_bytes()
        assert pdf.open_metadata().get("pdfxid:GTS_PDFXVersion") == "PDF/X-4"


def test_print_colours_cmyk_and_text_pure_black(sample_pdf):
    pages = inspect_pdf(sample_pdf)
    for page in pages:
        assert not any("RGB" in cs for cs in page.colour_spaces), (page.number,
                                                                   page.colour_spaces)
        assert page.text_colour_spaces <= {"DeviceCMYK"}, page.number
    # body text is 100 % K: the text page's content sets 0 0 0 1 before drawing glyphs
    with pikepdf.open(sample_pdf) as pdf:
        ops = pikepdf.parse_content_stream(pdf.pages[1])
        fills = [tuple(float(v) for v in operands) for operands, op in ops
                 if str(op) in ("k", "sc", "scn") and len(operands) == 4]
    assert (0.0, 0.0, 0.0, 1.0) in fills


def test_print_photos_cmyk_at_300ppi(sample_pdf):
    images = [i for p in inspect_pdf(sample_pdf) for i in p.images]
    assert len(images) == 11
    for image in images:
        assert image.colour_space == "DeviceCMYK"
        assert 300 <= image.ppi, (image.page, round(image.ppi))


def test_print_page_count_padded_to_multiple_of_four(sample_result, sample_pdf):
    built = sample_result.outputs["print"]
    email = sample_result.outputs["email"]
    assert built.pages % 4 == 0 and built.pages >= email.pages
    assert len(built.padded) == built.pages - email.pages
    assert outline_titles(sample_pdf)[-1] == ("About us and contact", built.pages)


def test_email_edition_small_srgb_150ppi(sample_email):
    assert sample_email.size < 3 * 1_048_576
    pages = inspect_pdf(sample_email.path)
    assert not any(p.trim_box and p.trim_box != p.media_box for p in pages)
    images = [i for p in pages for i in p.images]
    assert len(images) == 11
    for image in images:
        assert image.colour_space in ("DeviceRGB", "ICCBased RGB")
        assert 140 <= image.ppi <= 300, (image.page, round(image.ppi))
    assert sample_email.preflight.ok, sample_email.preflight.failures


def test_email_edition_accessible(sample_email):
    with pikepdf.open(sample_email.path) as pdf:
        assert pdf.Root.MarkInfo.Marked
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "en-GB"
        assert pdf.open_metadata().get("pdfuaid:part") == "1"
    report = preflight_pdf(sample_email.path, purpose="email")
    facts = report.document
    assert facts["figures"] >= 11 and facts["figures_with_alt"] == facts["figures"]
    pages = inspect_pdf(sample_email.path)
    links = {u for p in pages for u in p.links}
    assert {"https://www.iomiraq.net", "mailto:mpillinger@iom.int"} <= links
    # web addresses in the articles' own text are links too, not only the contact block
    in_articles = {u for p in pages[1:-1] for u in p.links}
    assert "https://www.iomiraq.net" in in_articles


def test_rebuilds_are_byte_identical(make_issue, tmp_path):
    """Same sources, same bytes: rebuilt in place (the second time from the image cache
    and the layout memo, editions in parallel), and built from a copy of the issue in
    another folder into another output folder."""
    import shutil

    folder = make_issue()
    first = build_issue(folder, out_dir=tmp_path / "out")
    before = {e: b.path.read_bytes() for e, b in first.outputs.items()}
    again = build_issue(folder, out_dir=tmp_path / "out")
    copy = shutil.copytree(folder, tmp_path / "elsewhere" / "issue")
    moved = build_issue(copy, out_dir=tmp_path / "other-out")
    for edition in ("print", "email"):
        digest = hashlib.sha256(before[edition]).hexdigest()
        for result in (again, moved):
            after = result.outputs[edition].path.read_bytes()
            assert hashlib.sha256(after).hexdigest() == digest, edition


def test_user_photos_never_modified(make_issue, tmp_path):
    folder = make_issue()
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    build_issue(folder, out_dir=tmp_path / "out")
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_printers_order():
    assert printers_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert printers_order(6) == [(0, 1), (2, 0), (6, 3), (4, 5)]


def test_impose_sheets_in_printers_order(sample_pdf, tmp_path):
    target = tmp_path / "booklet.pdf"
    sides = impose(sample_pdf, target)
    with pikepdf.open(sample_pdf) as src:
        n = len(src.pages)
    assert sides == n // 2
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) == sides
        box = [float(v) for v in pdf.pages[0].mediabox]
        assert round(box[2] * MM_PER_PT) == 420 and round(box[3] * MM_PER_PT) == 297  # A3
        order = [sorted(int(str(k)[2:]) for k in page.Resources.XObject.keys())
                 for page in pdf.pages]
    assert order == [sorted(pair) for pair in printers_order(n)]
    a5 = tmp_path / "a5.pdf"
    impose(sample_pdf, a5, booklet="a5")
    with pikepdf.open(a5) as pdf:
        box = [float(v) for v in pdf.pages[0].mediabox]
        assert round(box[2] * MM_PER_PT) == 297 and round(box[3] * MM_PER_PT) == 210  # A4


def test_preflight_catches_low_resolution_photo(make_issue, tmp_path):
    small = tmp_path / "small.jpg"
    Image.new("RGB", (240, 160), (120, 90, 60)).save(small)
    folder = make_issue(files={})
    (folder / "photos" / "road.jpg").write_bytes(small.read_bytes())
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("print",))
    report = result.outputs["print"].preflight
    check = next(c for c in report.checks if c.name == "image resolution")
    assert check.status == "fail"
    assert "240×160 px at" in check.detail and "prints sharp only up to 20 mm wide" in \
        check.detail
    named = [str(w).removeprefix(str(folder) + "/") for w in result.warnings
             if w.file and w.file.name == "road.jpg"]
    assert named == ["photos/road.jpg: warning: road.jpg prints at 27 ppi on page 1, too low "
                     "to print well (under print.error_ppi, 150): filling the cover and its "
                     "bleed, it is set 223 mm wide, where 300 ppi needs 2,631 px across and "
                     "this original has 240 — use a larger original"]


def test_preflight_catches_missing_bleed_and_rgb(sample_email):
    report = preflight_pdf(sample_email.path, purpose="print")
    failed = {c.name for c in report.checks if c.status == "fail"}
    assert {"bleed", "colour", "output intent", "PDF/X"} <= failed
    assert not report.ok
    [colour] = [c.detail for c in report.checks if c.name == "colour"]
    assert colour.startswith("RGB colour on pages 1–8 (page 1: a 1276×957 px image; ")  # named
    assert colour.endswith(": a print shop wants CMYK; newsletter-pdf's print edition "
                           "converts every photo and colour, so a file it made with RGB in "
                           "it is a bug to report")


def text_pdf(path, content: bytes):
    """A one-page A4 PDF drawing ``content`` with Helvetica, not embedded."""
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(content))
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


def test_preflight_catches_unembedded_font(tmp_path):
    path = text_pdf(tmp_path / "unembedded.pdf", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    report = preflight_pdf(path, purpose="print")
    fonts = next(c for c in report.checks if c.name == "fonts")
    assert (fonts.status, fonts.detail) == ("fail", "not embedded: Helvetica")


def test_preflight_cli_json_and_exit_code(sample_email):
    import json

    from click.testing import CliRunner

    from newsletter_pdf.cli import main

    ok = CliRunner().invoke(main, ["preflight", str(sample_email.path), "--for", "email",
                                   "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    bad = CliRunner().invoke(main, ["preflight", str(sample_email.path), "--for", "print"])
    assert bad.exit_code == 1
    assert "FAIL  bleed" in bad.output


def test_crop_marks_outside_a_true_3mm_bleed(make_issue, tmp_path):
    folder = make_issue()
    with open(folder / "issue.yaml", "a", encoding="utf-8") as manifest:
        manifest.write("print:\n  crop_marks: true\n")
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("print",))
    built = result.outputs["print"]
    assert built.preflight.ok, built.preflight.failures
    pages = inspect_pdf(built.path)
    for page in pages:
        trim, bleed, media = page.trim_box, page.bleed_box, page.media_box
        assert abs((trim[0] - bleed[0]) * MM_PER_PT - 3.0) < 0.05
        assert (trim[0] - media[0]) * MM_PER_PT >= 8.9  # room for the marks
        assert not any("RGB" in cs for cs in page.colour_spaces)
    # the slug line: outside the bleed, one per page, naming the file, page and condition
    from newsletter_pdf.pdfinspect import text_origins

    for number, (page, runs) in enumerate(zip(pages, text_origins(built.path)), start=1):
        [(x, y, _, text)] = [run for run in runs if "test-newsletter-2024-q2-print.pdf" in
                             run[3]]
        assert text.startswith(f"test-newsletter-2024-q2-print.pdf · page {number} of "
                               f"{len(pages)} · April – June 2024 · 2024-04-15 · FOGRA39")
        assert page.media_box[1] < y < page.bleed_box[1]
    # the slug line's forms (named at random by pikepdf) are renamed in order of
    # appearance: built again, elsewhere, the same sources give the same bytes
    again = build_issue(folder, out_dir=tmp_path / "again", editions=("print",))
    assert again.outputs["print"].path.read_bytes() == built.path.read_bytes()


def test_preflight_catches_text_outside_safe_area(tmp_path):
    path = text_pdf(tmp_path / "edge.pdf", b"BT /F1 9 Tf 4 400 Td (Too close) Tj ET")
    check = next(c for c in preflight_pdf(path, purpose="print").checks
                 if c.name == "safe area")
    assert (check.status, check.detail) == (
        "fail", "text closer than 5 mm to the trim on page 1 ('Too close')")


@pytest.mark.parametrize(("content", "where"), [
    # WeasyPrint's way: the page flipped and scaled by transforms, each run placed by Tm
    (b"1 0 0 -1 0 842 cm q 0.75 0 0 0.75 0 0 cm BT /F1 9 Tf 1 0 0 -1 300 1110 Tm "
     b"(At the foot) Tj ET Q", "page 1 ('At the foot')"),
    # text positioned by the line operators, then by the leading
    (b"BT /F1 9 Tf 14 TL 100 400 Td (Fine) Tj 0 -20 Td (Fine too) Tj ET "
     b"BT 300 20 Td (Fine here) Tj T* (Low) Tj ET", "page 1 ('Low')"),
    # in a form drawn through a transform (where pypdf's text reader loses the position,
    # the place is named instead of the words)
    (b"q 1 0 0 1 575 0 cm /Fx Do Q",
     "page 1 (text at 206 mm, 141 mm from the lower left corner)"),
])
def test_preflight_safe_area_follows_the_transforms(tmp_path, content, where):
    path = text_pdf(tmp_path / "edge.pdf", content)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        form = pdf.make_stream(b"BT /F1 9 Tf 10 400 Td (In a form) Tj ET")
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox = [0, 0, 100, 842]
        form.Resources = pdf.pages[0].Resources
        pdf.pages[0].Resources.XObject = pikepdf.Dictionary(Fx=form)
        pdf.save(path)
    check = next(c for c in preflight_pdf(path, purpose="print").checks
                 if c.name == "safe area")
    assert (check.status, check.detail) == (
        "fail", f"text closer than 5 mm to the trim on {where}")


def test_preflight_safe_area_passes_text_well_inside(tmp_path):
    path = text_pdf(tmp_path / "inside.pdf", b"1 0 0 -1 0 842 cm q 0.75 0 0 0.75 0 0 cm "
                    b"BT /F1 9 Tf 1 0 0 -1 100 500 Tm (Inside) Tj ET Q")
    check = next(c for c in preflight_pdf(path, purpose="print").checks
                 if c.name == "safe area")
    assert check.status == "ok"


def test_pdfs_readable_like_any_new_file_and_dated_by_source_date_epoch(make_issue, tmp_path,
                                                                       monkeypatch):
    import os
    import stat

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1300000000")  # 2011-03-13 07:06:40 UTC
    folder = make_issue()
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("email",))
    path = result.outputs["email"].path
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    with pikepdf.open(path) as pdf:
        assert str(pdf.docinfo["/CreationDate"]).startswith("D:20110313070640")


def test_us_letter_issue(make_issue, tmp_path):
    folder = make_issue()
    text = (folder / "issue.yaml").read_text().replace(
        "  period: April – June 2024\n", "  period: April – June 2024\n  page_size: Letter\n")
    (folder / "issue.yaml").write_text(text)
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("print", "email"))
    for edition, built in result.outputs.items():
        assert built.preflight.ok, (edition, built.preflight.failures)
        for page in inspect_pdf(built.path):
            trim = page.trim_box or page.media_box
            assert round((trim[2] - trim[0]) / 72, 2) == 8.5
            assert round((trim[3] - trim[1]) / 72, 2) == 11.0
            if edition == "print":  # the US custom: 1/8 inch bleed
                assert abs((trim[0] - page.bleed_box[0]) - 9.0) < 0.05


def test_editions_are_plug_ins_named_by_the_registry():
    """No stage tests an edition's name: each edition module declares what differs, and
    the registry gives the CLI its choices."""
    import re
    from pathlib import Path

    from newsletter_pdf.cli import build, preflight
    from newsletter_pdf.editions import EDITIONS, REGISTRY

    src = Path(__file__).parent.parent / "src" / "newsletter_pdf"
    branches = [f"{path.relative_to(src)}:{n}" for path in src.rglob("*.py")
                if path.parent.name != "editions"
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if re.search(r'[!=]= "(print|email|web)"', line)]
    assert branches == []
    choices = {p.name: p.type.choices for p in build.params if p.name == "edition"}
    assert list(choices["edition"]) == [*EDITIONS, "all"]
    assert set(EDITIONS) == set(REGISTRY) and {"print", "email"} <= set(EDITIONS)
    purposes = next(p.type.choices for p in preflight.params if p.name == "purpose")
    assert list(purposes) == [n for n, e in REGISTRY.items() if e.is_pdf]
