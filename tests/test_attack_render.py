"""Attacks through the manifest, front matter, layouts and PDFs handed to us (issue 8).

Each class is tested on the real artefact: the PDF's embedded files, annotations and page
boxes via pikepdf, the files on disk, the exact message a user sees.
"""

from __future__ import annotations

import errno
import html.parser
import json
import os
import time
import zlib
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter_pdf.cli import main
from newsletter_pdf.errors import Problems

from .test_hostile_support import build, pdfs, problems_of

ATTACHMENT = '<a rel="attachment" href="recipients.csv">list</a>'
HOSTILE_FIELDS = {
    "title": ATTACHMENT + " <link rel=attachment href=issue.yaml>",
    "kicker": "<a href='javascript:alert(1)'>k</a>",
    "deck": "[local](file:///etc/passwd) <div style='width:5000mm'>wide</div>",
    "byline": "<style>@page { size: 5000mm }</style>By Ann",
}


def front_matter(fields: dict[str, str]) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items()) + \
        "---\n\nA first paragraph of small news.\n"


def link_uris(pdf: pikepdf.Pdf) -> list[str]:
    return [str(annot.A.URI) for page in pdf.pages for annot in page.get("/Annots", [])
            if "/A" in annot and "/URI" in annot.A]


def test_html_in_short_fields_reaches_the_pdf_as_text(make_issue, tmp_path):
    folder = make_issue(files={"articles/news.md": front_matter(HOSTILE_FIELDS),
                               "recipients.csv": "email,name\nann@example.org,Ann\n"})
    text = (folder / "issue.yaml").read_text()
    text = text.replace("caption: The road again.",
                        "caption: \"<img src='photos/road.jpg' style='width:9m'>cap\"\n"
                        "        credit: \"<a href='file:///etc/passwd'>me</a>\"")
    (folder / "issue.yaml").write_text(text)
    for allow_html in (False, True):
        out = tmp_path / f"out{allow_html}"
        result = build(folder, out, preflight=True, allow_html=allow_html)
        [pdf_path] = pdfs(out)
        with pikepdf.open(pdf_path) as pdf:
            assert len(pdf.attachments) == 0
            assert all(u.startswith(("http:", "https:", "mailto:")) for u in link_uris(pdf))
            sizes = {(round(float(p.MediaBox[2])), round(float(p.MediaBox[3])))
                     for p in pdf.pages}
            assert sizes == {(595, 842)}  # A4, whatever a style said
            assert not any("/FileAttachment" == str(a.get("/Subtype"))
                           for p in pdf.pages for a in p.get("/Annots", []))
        assert result.outputs["email"].preflight.ok, result.outputs["email"].preflight.failures
    import pypdf
    words = " ".join(p.extract_text() for p in pypdf.PdfReader(out.parent / "outFalse" /
                                                              pdf_path.name).pages)
    assert '<a rel=“attachment” href=“recipients.csv”>' in words  # shown, not obeyed


def test_preflight_fails_what_no_newsletter_may_carry(sample_email, tmp_path):
    from newsletter_pdf.preflight import preflight_bounded

    def variant(name, change):
        path = tmp_path / f"{name}.pdf"
        with pikepdf.open(sample_email.path) as pdf:
            change(pdf)
            pdf.save(path)
        report = preflight_bounded(path, purpose="email", page_size="A4")
        return [f.split(":")[0] for f in report.failures]

    assert variant("same", lambda pdf: None) == []

    def attach(pdf):
        pdf.attachments["list.csv"] = pikepdf.AttachedFileSpec(pdf, b"a@b.org\n")
    assert variant("attached", attach) == ["embedded files"]

    def script(pdf):
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
    assert variant("script", script) == ["actions"]

    def bad_link(scheme):
        def change(pdf):
            page = pdf.pages[1]
            annot = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                Rect=[0, 0, 10, 10], A=pikepdf.Dictionary(S=pikepdf.Name.URI,
                                                          URI=pikepdf.String(scheme))))
            page.Annots = pdf.make_indirect(pikepdf.Array([*page.get("/Annots", []), annot]))
        return change
    assert variant("file", bad_link("file:///etc/passwd")) == ["link targets"]
    assert variant("js", bad_link("javascript:alert(1)")) == ["link targets"]
    assert variant("tel", bad_link("tel:+96265659660")) == []

    def huge(pdf):
        pdf.pages[2].MediaBox = [0, 0, 14173, 14173]  # 5 m
    assert variant("huge", huge) == ["page size"]


def test_preflight_looks_inside_direct_objects_and_action_chains(sample_email, tmp_path):
    """Hiding an action in a direct (inline) annotation, a /Next chain, a stream or a page
    scale does not get it past preflight: every dictionary of the file is looked at."""
    from newsletter_pdf.preflight import preflight_pdf

    def variant(name, change):
        path = tmp_path / f"{name}.pdf"
        with pikepdf.open(sample_email.path) as pdf:
            change(pdf)
            pdf.save(path)
        return [f.split(":")[0] for f in preflight_pdf(path, "email", page_size="A4").failures]

    def inline_annot(action=None, **extra):
        def change(pdf):
            page = pdf.pages[1]
            annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                       Rect=[0, 0, 10, 10], **extra)
            if action is not None:
                annot.A = action
            page.Annots = pikepdf.Array([*page.get("/Annots", []), annot])
        return change

    name, text = pikepdf.Name, pikepdf.String
    js = pikepdf.Dictionary(S=name.JavaScript, JS=text("app.alert(1)"))
    assert variant("inline-js", inline_annot(js)) == ["actions"]
    assert variant("launch", inline_annot(pikepdf.Dictionary(
        S=name.Launch, F=text("calc.exe")))) == ["actions"]
    assert variant("inline-file", inline_annot(pikepdf.Dictionary(
        S=name.URI, URI=text("file:///etc/passwd")))) == ["link targets"]
    assert variant("upper-js", inline_annot(pikepdf.Dictionary(
        S=name.URI, URI=text(" JaVaScript:alert(1)")))) == ["link targets"]
    assert variant("next", inline_annot(pikepdf.Dictionary(
        S=name.URI, URI=text("https://example.org"), Next=js))) == ["actions"]
    assert variant("annot-aa", inline_annot(AA=pikepdf.Dictionary(E=js))) == ["actions"]

    def file_attachment(pdf):
        spec = pikepdf.Dictionary(F=text("list.csv"), EF=pikepdf.Dictionary(
            F=pdf.make_stream(b"a@b.org\n", Type=name.EmbeddedFile)))
        page = pdf.pages[1]
        page.Annots = pikepdf.Array([*page.get("/Annots", []), pikepdf.Dictionary(
            Subtype=name.FileAttachment, Rect=[0, 0, 10, 10], FS=spec)])
    assert variant("attachment-annot", file_attachment) == ["embedded files", "annotations"]

    def xfa(pdf):
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=text("<xdp/>"))
    assert variant("xfa", xfa) == ["actions"]

    def scaled(pdf):
        pdf.pages[2].obj.UserUnit = 100  # every unit 100 points: a 60 m page
    assert variant("user-unit", scaled) == ["page size"]

    def turned(pdf):
        pdf.pages[2].obj.Rotate = 90
    assert variant("rotated", turned) == ["page size"]


@pytest.mark.parametrize("slug", ["/tmp/abs", "../../x", "a/b", "..", "x.pdf", "ok slug"])
def test_slug_is_a_file_name_stem(make_issue, slug):
    folder = make_issue()
    text = (folder / "issue.yaml").read_text().replace(
        "  organisation: Test Org\n", f"  organisation: Test Org\n  slug: {json.dumps(slug)}\n")
    (folder / "issue.yaml").write_text(text)
    assert problems_of(folder) == [
        f"issue.yaml:4:9: newsletter.slug: {slug!r} is not a file-name stem; use only letters, "
        "digits and dashes (e.g. 'iom-iraq-newsletter'): the PDFs are named after it"]


@pytest.mark.parametrize("focus", ["50% 50%; width: 5000mm", "url(x)", "1px 2px 3px",
                                   "50% 50%\" onload=\"x"])
def test_cover_focus_is_a_position(make_issue, focus):
    folder = make_issue()
    text = (folder / "issue.yaml").read_text().replace(
        "  caption: A road.\n", f"  caption: A road.\n  focus: {json.dumps(focus)}\n")
    (folder / "issue.yaml").write_text(text)
    [message] = problems_of(folder)
    assert message.startswith("issue.yaml:10:10: cover.focus: ")
    assert message.endswith("is not a position; write one or two percentages or keywords, "
                            "e.g. '50% 30%' or 'center top'")


def own_layout(folder: Path) -> Path:
    """A copy of the built-in layout in the issue's layouts/ folder."""
    import shutil

    from newsletter_pdf.layouts import data_dir

    target = folder / "layouts" / "newsletter"
    shutil.copytree(data_dir("layouts") / "newsletter", target)
    return target


def test_a_layout_template_cannot_include_a_file_outside_its_folder(make_issue, tmp_path):
    folder = make_issue()
    layout = own_layout(folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0", encoding="utf-8")
    (layout / "templates" / "extra.html").symlink_to(secret)
    issue_html = layout / "templates" / "issue.html"
    issue_html.write_text(issue_html.read_text() + "{% include 'extra.html' %}\n")
    [message] = problems_of(folder)
    assert message.startswith("layouts/newsletter/layout.yaml: template refused: ")
    assert "extra.html leads outside its folder" in message
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "root:x" not in result.output
    assert not list((tmp_path / "o").glob("*.pdf")) if (tmp_path / "o").exists() else True


@pytest.mark.parametrize("name,message", [
    ("css/base.css", "layouts/newsletter/layout.yaml: stylesheets: stylesheet refused: "),
    ("layout.yaml", "layouts/newsletter/layout.yaml: layout defaults refused: "),
])
def test_no_layout_file_is_read_through_a_symlink_that_leaves_it(make_issue, tmp_path, name,
                                                                 message):
    """Stylesheets and layout.yaml are confined like the templates: ``check`` refuses a
    symlink out (a layout.yaml pointing at a YAML file of secrets would print its keys)."""
    folder = make_issue()
    layout = own_layout(folder)
    secret = tmp_path / "secret.yaml"
    secret.write_text("smtp_password: hunter2\n", encoding="utf-8")
    (layout / name).unlink()
    (layout / name).symlink_to(secret)
    [problem] = problems_of(folder)
    assert problem.startswith(message), problem
    assert f"{name} leads outside its folder" in problem and "smtp_password" not in problem


@pytest.mark.parametrize("relative", ["../../../../secret.ttf", "Linked.ttf"])
def test_a_font_file_leading_out_of_its_folder_is_not_a_font(make_issue, tmp_path, relative):
    """A layout's font is looked up by its real path too: '..' or a symlink out of the
    fonts folder is not found (check says so), never read into the PDF."""
    secret = tmp_path / "secret.ttf"
    secret.write_bytes(b"not a font, a secret")
    folder = make_issue(files={"layouts/ours/layout.yaml": f"""\
        extends: newsletter
        fonts:
          text: {{family: Ours, files: {{regular: "{relative}"}}}}
        """})
    (folder / "layouts" / "ours" / "fonts").mkdir()
    (folder / "layouts" / "ours" / "fonts" / "Linked.ttf").symlink_to(secret)
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text() + "layout: ours\n")
    problems = [p for p in problems_of(folder) if "fonts.text.files.regular" in p]
    assert len(problems) == 1 and f"font file {relative} (text regular) not found in " \
        in problems[0], problems


def test_an_issue_layout_replacing_the_built_in_one_is_announced(make_issue):
    folder = make_issue()
    own_layout(folder)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    assert (f"layout 'newsletter': using {folder / 'layouts' / 'newsletter'} (it replaces the "
            "built-in layout of that name)") in result.output


@pytest.mark.parametrize("template,message", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "the layout's templates took longer than 3 s and was stopped; look for a loop or a huge "
     "value in the layout's templates (issue.html and what it includes)"),
    ("{{ 'x' * 10**9 }}", "a template tried to build a value of 1,000,000,000 characters"),
    ("{% set n = 10**8 %}{{ 2 ** n }}", "is too large for a template"),
])
def test_template_evaluation_is_bounded(make_issue, tmp_path, template, message):
    folder = make_issue()
    layout = own_layout(folder)
    issue_html = layout / "templates" / "issue.html"
    issue_html.write_text(template + issue_html.read_text())
    started = time.monotonic()
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "o"),
                                       "--edition", "email", "--time-limit", "3"])
    assert result.exit_code == 1
    assert message in result.output
    assert time.monotonic() - started < 30


def fan_out_pdf(path: Path, depth: int = 12, width: int = 12) -> None:
    """A tiny PDF whose form XObjects each draw the next one ``width`` times: reading its
    content naively visits width**depth forms."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    form = None
    for level in range(depth):
        resources = pikepdf.Dictionary()
        content = b""
        if form is not None:
            resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=form))
            content = b"q /F Do Q " * width
        form = pdf.make_stream(content, Type=pikepdf.Name.XObject,
                               Subtype=pikepdf.Name.Form, BBox=[0, 0, 10, 10],
                               Resources=resources)
        del level
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=form))
    page.Contents = pdf.make_stream(b"q /F Do Q")
    pdf.save(path)


def flate_bomb_pdf(path: Path, megabytes: int = 2048) -> None:
    """A small PDF whose one content stream inflates to ``megabytes`` MB of spaces."""
    compressor = zlib.compressobj(9)
    chunk = b" " * 2**24
    data = b"".join(compressor.compress(chunk) for _ in range(megabytes // 16))
    data += compressor.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    pdf.save(path)


def test_preflight_and_impose_of_a_hostile_pdf_stop_with_a_message(tmp_path, monkeypatch):
    from newsletter_pdf import preflight

    monkeypatch.setattr(preflight, "PDF_TIME_LIMIT", 3.0)
    fan = tmp_path / "fan.pdf"
    fan_out_pdf(fan)
    assert fan.stat().st_size < 10_000
    started = time.monotonic()
    result = CliRunner().invoke(main, ["preflight", str(fan)])
    assert result.exit_code == 1
    assert result.output == (f"error: preflight of {fan} took longer than 3 s and was stopped; "
                             "is it a newsletter PDF? a damaged or hostile file can be endless "
                             "to read\n")
    assert time.monotonic() - started < 30


def test_impose_runs_bounded_too(sample_pdf, tmp_path, monkeypatch):
    from newsletter_pdf import impose, preflight

    monkeypatch.setattr(preflight, "PDF_TIME_LIMIT", 2.0)
    monkeypatch.setattr(impose, "impose", lambda *a: time.sleep(60))  # an endless file
    result = CliRunner().invoke(main, ["impose", str(sample_pdf), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert f"error: imposing {sample_pdf} took longer than 2 s and was stopped" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_flate_bomb_stays_within_the_memory_limit(tmp_path, monkeypatch):
    from newsletter_pdf import preflight

    monkeypatch.setattr(preflight, "PDF_MEMORY_MB", 600)
    bomb = tmp_path / "bomb.pdf"
    flate_bomb_pdf(bomb, megabytes=1024)
    assert bomb.stat().st_size < 3_000_000
    started = time.monotonic()
    result = CliRunner().invoke(main, ["preflight", str(bomb)])
    # Read in bounded memory: either it fits (a report: not a newsletter) or it is stopped.
    assert result.exit_code == 1
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert ("FAIL" in result.output or "ran out of memory (limit 600 MB)" in result.output)
    assert time.monotonic() - started < 60


def test_a_data_image_gets_the_megapixel_check(make_issue, tmp_path):
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\nText.\n\n"
                               f'<img src="data:image/png;base64,{data}" alt="x">\n'})
    with pytest.raises(Exception) as info:
        build(folder, tmp_path / "o", allow_html=True)
    assert "more than 100 megapixels" in str(info.value)


@pytest.mark.parametrize("body,message", [
    ("".join("  " * i + f"- level {i}\n" for i in range(30)) + "\nAfter the list.\n",
     "articles/news.md:17: lists or quotes are nested more than 12 levels deep; flatten them "
     "(nothing this deep can be laid out in a column)"),
    ("Start " + "w" * 300_000 + " end.\n",
     "articles/news.md:5: a word of 300,000 characters (wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww…) "
     "cannot be laid out (at most 300); break it up, or link a long address with "
     "[short text](url)"),
    ("See data:text/plain;base64," + "QUJD" * 50_000 + "\n",
     "articles/news.md:5: a word of 200,023 characters (data:text/plain;base64,QUJDQUJDQUJD"),
])
def test_text_that_would_be_dropped_or_clipped_is_refused(make_issue, body, message):
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\n" + body})
    [problem] = problems_of(folder)
    assert problem.startswith(message)


def test_every_word_must_reach_the_pages(make_issue, tmp_path):
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\nFirst words.\n\n"
                               "Vanishing paragraph here.\n"})
    layout = own_layout(folder)
    css = layout / "css" / "articles.css"
    css.write_text(css.read_text() + "\narticle p:last-of-type { display: none }\n")
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "o"),
                                       "--edition", "email"])
    assert result.exit_code == 1
    assert ("articles/news.md: 3 word(s) of this article did not reach the laid-out pages "
            "(here, paragraph, vanishing); nothing was written.") in result.output
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").glob("*.pdf"))


@pytest.mark.parametrize("code,fix", [
    (errno.ENOSPC, "is full; free some space or build elsewhere (-o DIR)"),
    (errno.EROFS, "is read-only for you; build into a folder you can write (-o DIR), or change "
                  "its permissions"),
])
def test_a_full_or_read_only_disk_names_the_folder_and_the_fix(make_issue, tmp_path,
                                                                monkeypatch, code, fix):
    from newsletter_pdf import atomic

    folder = make_issue()
    out = tmp_path / "o"

    def refuse(source, target):
        raise OSError(code, os.strerror(code), str(target))

    build(folder, out)  # images prepared; now the disk fills up (or turns read-only)
    for pdf in pdfs(out):
        pdf.unlink()
    monkeypatch.setattr(atomic.os, "replace", refuse)
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(out),
                                       "--edition", "email"])
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert result.output.startswith(
        f"error: cannot write {out}/test-newsletter-2024-q2-email.pdf: {os.strerror(code)}; ")
    assert fix in result.output and "Nothing else was changed." in result.output
    assert not list(out.glob("*.pdf")) and not list(out.glob(".*.tmp"))


def test_scratch_of_a_killed_build_is_swept(tmp_path):
    from newsletter_pdf.bounded import sweep_scratch

    dead = tmp_path / "newsletter-render-999999999-abc"
    alive = tmp_path / f"newsletter-render-{os.getpid()}-def"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "font.ttf").write_bytes(b"x" * 1000)
    assert sweep_scratch(tmp_path) == [dead]
    assert not dead.exists() and alive.exists()


# --------------------------------------------------------------------------- property


class Elements(html.parser.HTMLParser):
    """Tags, style attributes and link targets of an HTML document."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.styles: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name == "style":
                self.styles.add(value or "")
            if name == "href":
                self.hrefs.append(value or "")


def elements(text: str) -> Elements:
    parser = Elements()
    parser.feed(text)
    return parser


INLINE = {"em", "strong", "code", "a", "s", "br", "wbr"}
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               max_size=60) | st.sampled_from(
    [ATTACHMENT, "<script>x</script>", "</p><div style='width:9m'>", "{{ 7*7 }}",
     "[x](javascript:alert(1))", "<a href=file:///etc/passwd>f</a>", "\u2028\x00\x0c",
     "=?utf-8?q?=0D=0A?=", "*em* `code` [ok](https://example.org)", "'; } @page { size: 9m"])


@pytest.fixture(scope="module")
def composer(tmp_path_factory):
    """Compose the small issue's HTML with chosen text in every short field."""
    import shutil
    import textwrap

    from newsletter_pdf.articles import read_articles
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.editions import make_edition
    from newsletter_pdf.layouts import load_layout
    from newsletter_pdf.manifest import load_manifest

    from .conftest import DEFAULT_MANIFEST, SAMPLE

    folder = tmp_path_factory.mktemp("compose")
    (folder / "articles").mkdir()
    (folder / "photos").mkdir()
    shutil.copy(SAMPLE / "photos" / "road-storm.jpg", folder / "photos" / "road.jpg")
    (folder / "articles" / "news.md").write_text("---\ntitle: T\n---\n\nBody text.\n",
                                                 encoding="utf-8")
    (folder / "issue.yaml").write_text(textwrap.dedent(DEFAULT_MANIFEST), encoding="utf-8")
    problems = Problems()
    manifest = load_manifest(folder, problems)
    layout = load_layout(manifest, problems)
    edition = make_edition("email", manifest, layout, folder / "build", problems)

    def compose(text: str) -> str:
        import dataclasses

        article = read_articles(manifest, Problems())[0]
        article = dataclasses.replace(article, title=text or "T", kicker=text, deck=text,
                                      byline=text)
        photo = dataclasses.replace(article.photos[0], caption=text, credit=text, alt=text)
        article = dataclasses.replace(article, photos=[photo])
        cover = dataclasses.replace(manifest.cover, caption=text, credit=text, alt=text)
        m = dataclasses.replace(manifest, cover=cover)
        return compose_html(m, [article], layout, Problems(), edition)

    return compose


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_no_field_adds_an_element_a_style_or_a_link(composer, text):
    plain = elements(composer("Plain words"))
    hostile = elements(composer(text))
    assert hostile.tags <= plain.tags | INLINE, hostile.tags - plain.tags
    assert hostile.styles <= plain.styles
    for href in set(hostile.hrefs) - set(plain.hrefs):  # the layout's own: stylesheets
        assert href.startswith(("http:", "https:", "mailto:", "tel:", "#")), href


def test_photo_preparation_is_bounded(make_issue, tmp_path, monkeypatch):
    import io

    from PIL import Image

    from newsletter_pdf import editions

    big = io.BytesIO()
    Image.new("RGB", (8000, 6000), "#4080c0").save(big, "JPEG")  # 144 MB decoded
    folder = make_issue(files={"photos/road.jpg": big.getvalue()})
    monkeypatch.setattr(editions, "PREPARE_TIME_LIMIT", 0.05)  # less than the photo needs
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "o"),
                                       "--edition", "email"])
    assert result.exit_code == 1
    assert ("error: preparing the photos of the email edition took longer than 0.05 s and was "
            "stopped; make the largest photos smaller") in result.output
