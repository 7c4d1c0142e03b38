"""The back page's sections: sponsors' logos written as Markdown images are prepared like
the cover's logo and set in a row on the back page; a section the back page has no room
for is an error naming its file; raw HTML there is reported at each tag's own line."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pikepdf
import pypdf
import pytest
from PIL import Image, ImageDraw

from newsletter_pdf.build import build_issue, check_issue
from newsletter_pdf.errors import ValidationError
from newsletter_pdf.pdfinspect import inspect_pdf

from .conftest import DEFAULT_MANIFEST

#: Four sponsors' logos: wide ones (1600 × 380, 1709 × 300: the sizes a user brought),
#: a square one; transparent around a coloured plate.
LOGOS = {"bakery": ((1600, 380), (200, 80, 40)), "hardware": ((1270, 400), (40, 90, 160)),
         "dental": ((800, 800), (30, 150, 120)), "union": ((1709, 300), (120, 60, 160))}
NAMES = {"bakery": "Bakery Rosales", "hardware": "Mesa Hardware", "dental": "Smile Dental",
         "union": "Valley Credit Union"}
BACK = """\
back_page:
  sections:
    - title: About the league
      file: back/about.md
    - title: Our sponsors
      file: back/sponsors.md
  contact:
    people:
      - name: Ann Lee
        email: ann@example.org
"""


def logo(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle([4, 4, size[0] - 5, size[1] - 5], radius=40,
                                           fill=(*colour, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sponsors(logos: list[str], text: str = "Thank you to the businesses whose support "
             "keeps our fees low.") -> str:
    return text + "\n\n" + "\n".join(f"![{NAMES[n]}](../logos/{n}.png)" for n in logos) + "\n"


def back_issue(make_issue, sponsors_md: str, page_size: str = "A4") -> Path:
    manifest = DEFAULT_MANIFEST.replace("  period:", f"  page_size: {page_size}\n  period:")
    files: dict[str, str | bytes] = {
        f"logos/{n}.png": logo(size, colour) for n, (size, colour) in LOGOS.items()}
    files["back/about.md"] = ("We are a small league run by volunteers for children aged "
                              "5 to 14. Every child plays, whatever their family can "
                              "afford.\n")
    files["back/sponsors.md"] = sponsors_md
    folder = make_issue(manifest=manifest + BACK, files=files)
    return folder


@pytest.fixture(scope="module")
def logos_built(tmp_path_factory):
    """The issue with four logos on its back page (US Letter), print, email and web."""
    from .conftest import SAMPLE

    folder = tmp_path_factory.mktemp("backlogos") / "issue"
    (folder / "articles").mkdir(parents=True)
    (folder / "photos").mkdir()
    (folder / "photos" / "road.jpg").write_bytes((SAMPLE / "photos" / "road-storm.jpg")
                                                 .read_bytes())
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Small News\n---\n\nA first paragraph of small news.\n\nA second "
        "paragraph.\n", encoding="utf-8")
    (folder / "logos").mkdir()
    (folder / "back").mkdir()
    for name, (size, colour) in LOGOS.items():
        (folder / "logos" / f"{name}.png").write_bytes(logo(size, colour))
    (folder / "back" / "about.md").write_text(
        "We are a small league run by volunteers for children aged 5 to 14.\n",
        encoding="utf-8")
    (folder / "back" / "sponsors.md").write_text(sponsors(list(LOGOS)), encoding="utf-8")
    manifest = DEFAULT_MANIFEST.replace("  period:", "  page_size: Letter\n  period:")
    (folder / "issue.yaml").write_text(textwrap.dedent(manifest) + BACK, encoding="utf-8")
    result = build_issue(folder, out_dir=folder.parent / "out")
    return folder, result


def back_page_images(pdf: Path) -> list:
    pages = inspect_pdf(pdf)
    return pages[-1], [i for i in pages[-1].images]


def test_logos_are_set_in_a_row_on_the_back_page_at_one_height(logos_built):
    folder, result = logos_built
    for name in ("print", "email"):
        pdf = result.outputs[name].path
        reader = pypdf.PdfReader(pdf)
        last = reader.pages[-1].extract_text()
        # the section's heading and words are there, on the back page, beside "About"
        assert "Our sponsors" in last and "keeps our fees low" in last
        assert "About the league" in last and "Contact us" in last
        assert not any("sponsors" in p.extract_text() for p in reader.pages[:-1])
        page, images = back_page_images(pdf)
        assert len(images) == 4, name
        sizes = sorted((round(i.width_pt * 25.4 / 72, 1), round(i.height_pt * 25.4 / 72, 1))
                       for i in images)
        # 12 mm tall, or 40 mm wide and less tall (the wide ones); their shapes kept
        assert sizes == [(12.0, 12.0), (38.1, 12.0), (40.0, 7.0), (40.0, 9.5)], name
        trim = page.trim_box if name == "print" else page.media_box
        for image in images:
            assert trim[0] <= image.x_pt and image.x_pt + image.width_pt <= trim[2], name
    # no warning about them: sharp enough, prepared for where they are set
    assert not [w for w in result.warnings if w.file and w.file.parent.name == "logos"]


def test_logos_are_prepared_like_the_cover_logo(logos_built):
    """Print: CMYK with their transparency kept (a soft mask), never the RGB original at
    its pixel size; email: sRGB, resized; web: a copy in the folder, sized by the page."""
    folder, result = logos_built
    def placed(name: str) -> list:
        path = result.outputs[name].path
        _, images = back_page_images(path)
        with pikepdf.open(path) as pdf:
            objects = [pdf.get_object(i.objgen) for i in images]
            return [(o.get("/SMask") is not None, str(o.get("/ColorSpace")), int(o.Width))
                    for o in objects]

    printed = placed("print")
    assert [(mask, space) for mask, space, _ in printed] == [(True, "/DeviceCMYK")] * 4
    assert max(w for _, _, w in printed) < 1000  # a copy, not the 1,709 px original
    emailed = placed("email")
    assert all(mask and "CMYK" not in space for mask, space, _ in emailed)
    assert max(w for _, _, w in emailed) <= 300  # about 150 ppi at 40 mm
    html = result.outputs["web"].path.read_text(encoding="utf-8")
    assert html.count('class="logo"') == 4 and "file:" not in html
    assert 'alt="Valley Credit Union"' in html


def refused(folder, tmp_path) -> list[str]:
    """The problems a build of ``folder`` stops with (relative to it); it writes no PDF."""
    with pytest.raises(ValidationError) as info:
        build_issue(folder, out_dir=tmp_path / "out", editions=("email",))
    assert not list((tmp_path / "out").glob("*.pdf"))
    return [str(p).removeprefix(str(folder) + "/") for p in info.value.problems]


def test_a_section_the_back_page_has_no_room_for_is_an_error_naming_its_file(
        make_issue, tmp_path):
    folder = back_issue(make_issue, sponsors(list(LOGOS) * 12))
    assert refused(folder, tmp_path) == [
        "back/sponsors.md: the back page has no room for all of this section: it runs 181 mm "
        "past the space above the contact panel and onto a page of its own; cut about 42 "
        "line(s) of its text or 12 row(s) of its logos (16 mm a row), or move some of it "
        "into an article (or shorten the contact block and the credits below it). Nothing "
        "was written"]


def test_raw_html_in_a_back_page_section_is_reported_at_each_tags_line(make_issue):
    folder = back_issue(make_issue, "Thanks to <b>our</b> sponsors\nand <i>friends</i>.\n")
    checked = check_issue(folder)
    message = ("warning: raw HTML is not allowed in back-page sections and is printed as "
               "text; use Markdown instead, or build with --allow-html to let a safe subset "
               "through")
    assert back_warnings(folder, checked) == [f"back/sponsors.md:1: {message}",
                                              f"back/sponsors.md:2: {message}"]
    assert back_warnings(folder, check_issue(folder, allow_html=True)) == []


def back_warnings(folder: Path, checked) -> list[str]:
    return [str(w).removeprefix(str(folder) + "/") for w in checked.warnings
            if w.file and w.file.parent.name == "back"]


def test_an_img_tag_or_a_remote_logo_on_the_back_page_is_refused_with_what_to_do(
        make_issue, tmp_path):
    folder = back_issue(make_issue, "Thanks.\n\n<img src=\"../logos/bakery.png\" "
                        "height=\"40\">\n\n![Web](https://example.org/logo.png)\n")
    with pytest.raises(ValidationError) as info:
        check_issue(folder, allow_html=True)
    assert [str(p).removeprefix(str(folder) + "/") for p in info.value.problems] == [
        "back/sponsors.md:5: image https://example.org/logo.png: a logo on the back "
        "page must be a file of the issue (it is prepared for print like the cover's logo); "
        "save it in the issue folder and write ![Name](file)"]
    # the <img> tag alone: left out, said so; the Markdown logo beside it is set
    (folder / "back" / "sponsors.md").write_text(
        "Thanks <b>all</b>.\n\n<img src=\"../logos/bakery.png\" height=\"40\">\n\n"
        "![Smile Dental](../logos/dental.png)\n", encoding="utf-8")
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("email",),
                         allow_html=True)
    assert back_warnings(folder, result) == [
        "back/sponsors.md:3: warning: an <img> tag in a back-page section is left out: it "
        "would not be prepared for print (its colours, its size); write the logo as "
        "Markdown, ![Name](file): it is then prepared like the cover's logo and set in the "
        "logos' row"]
    _, images = back_page_images(result.outputs["email"].path)
    assert [(round(i.width_pt * 25.4 / 72), round(i.height_pt * 25.4 / 72))
            for i in images] == [(12, 12)]
    text = pypdf.PdfReader(result.outputs["email"].path).pages[-1].extract_text()
    assert "Thanks all." in text and "<b>" not in text


def test_a_logo_without_its_sponsors_name_is_a_warning(make_issue):
    folder = back_issue(make_issue, "Thanks.\n\n![](../logos/bakery.png)\n")
    assert back_warnings(folder, check_issue(folder)) == [
        "back/sponsors.md:3: warning: the logo ../logos/bakery.png has no name: write the "
        "sponsor's name between the brackets, ![Name](file), for readers using screen "
        "readers (the email edition is tagged)"]


def test_a_section_running_under_the_contact_panel_is_an_error_too(make_issue, tmp_path):
    """Short of breaking onto another page, a long section runs under the contact panel,
    its last lines hidden by the panel's tint: said, with the lines to cut."""
    text = ("The league was founded by parents who wanted every child to play, and it still "
            "runs on their time and goodwill.")
    folder = back_issue(make_issue, "\n\n".join(f"Paragraph {i}: {text}" for i in range(21)))
    assert refused(folder, tmp_path) == [
        "back/sponsors.md: the back page has no room for all of this section: it runs 24 mm "
        "past the space above the contact panel; cut about 6 line(s) of its text, or move "
        "some of it into an article (or shorten the contact block and the credits below "
        "it). Nothing was written"]
