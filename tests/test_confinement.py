"""Confinement: nothing from outside the issue (files or network) can reach the PDF.

A secret is planted *outside* the issue folder and referenced every way there is; each
test proves its bytes, text and image never appear in the PDF (decoded streams, strings,
extracted text, embedded files, image XObjects). Positive controls reference files
*inside* the issue the same ways and prove the same checks do find them — so the tests
can fail.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from pathlib import Path

import pytest

from newsletter_pdf import fetcher as fetcher_module
from newsletter_pdf.build import check_issue
from newsletter_pdf.errors import Problems, ValidationError
from newsletter_pdf.fetcher import ConfinedFetcher, RefusedResource
from newsletter_pdf.render import render_pdf

from .test_hostile_support import PdfFacts, build, pdfs, png_bytes, problems_of

SECRET = b"QZXSECRETQZX"
PUBLIC = b"QZXPUBLICQZX"
SECRET_SIZE = (37, 23)
PUBLIC_SIZE = (41, 19)


@pytest.fixture
def planted(tmp_path, make_issue):
    """An issue, a secret outside it, public twins inside it, and symlinks pointing out."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET + b"\n")
    (outside / "secret.png").write_bytes(png_bytes(*SECRET_SIZE))
    (outside / "secret.css").write_text(f'body::after {{ content: "{SECRET.decode()}" }}')
    folder = make_issue()
    (folder / "public").mkdir()
    (folder / "public" / "public.txt").write_bytes(PUBLIC + b"\n")
    (folder / "public" / "public.png").write_bytes(png_bytes(*PUBLIC_SIZE, rgb=(0, 200, 0)))
    (folder / "public" / "public.css").write_text(
        f'body::after {{ content: "{PUBLIC.decode()}" }}')
    os.symlink(outside / "secret.png", folder / "photos" / "link.png")
    os.symlink(outside / "secret.txt", folder / "public" / "link.txt")
    os.symlink(outside / "secret.css", folder / "public" / "link.css")
    os.symlink(outside, folder / "linked-dir")
    return folder, outside


def vectors(png: str, txt: str, css: str, svg: str) -> str:
    """One HTML page using every way WeasyPrint loads a resource."""
    return f"""<!doctype html><html><head>
      <link rel="stylesheet" href="{css}">
      <link rel="attachment" href="{txt}" title="attached">
      <style>@import url("{css}");
        .bg {{ background: url("{png}"); width: 20mm; height: 20mm }}
        @font-face {{ font-family: X; src: url("{txt}") }}</style>
    </head><body><p>Vectors.</p>
      <img src="{png}" alt="img">
      <div class="bg"></div>
      <div style="background-image: url('{png}'); width: 20mm; height: 20mm"></div>
      <object data="{png}" type="image/png" width="40" height="40"></object>
      <embed src="{png}" type="image/png" width="40" height="40">
      <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
           width="40" height="40"><image xlink:href="{png}" width="40" height="40"/>
           <image href="{png}" width="40" height="40"/></svg>
      <img src="{svg}" alt="svg">
      <a rel="attachment" href="{txt}">attachment link</a>
      <iframe src="{txt}"></iframe>
    </body></html>"""


def hostile_svg(target: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/'
            f'xlink" width="40" height="40"><image xlink:href="{target}" width="40" '
            'height="40"/></svg>')


def assert_secret_absent(pdf: Path) -> None:
    facts = PdfFacts(pdf)
    assert not facts.contains(SECRET)
    assert SECRET_SIZE not in facts.images
    assert not facts.attachments or not any(SECRET in d for d in facts.attachments.values())


def test_control_inside_files_do_reach_the_pdf(planted, tmp_path):
    """The detector works: the same vectors, pointing inside the issue, are found."""
    folder, _ = planted
    (folder / "public" / "public.svg").write_text(hostile_svg("public.png"))
    problems = Problems()
    rendered = render_pdf(vectors("public/public.png", "public/public.txt",
                                  "public/public.css", "public/public.svg"),
                          folder, [folder], problems)
    out = tmp_path / "control.pdf"
    out.write_bytes(rendered.pdf)
    facts = PdfFacts(out)
    assert rendered.refused == []
    assert facts.contains(PUBLIC)
    assert PUBLIC in b"".join(facts.attachments.values())
    assert PUBLIC_SIZE in facts.images


@pytest.mark.parametrize("form", ["file-uri", "relative", "absolute", "symlink",
                                  "symlinked-dir"])
def test_render_refuses_every_vector(planted, tmp_path, form):
    folder, outside = planted
    refs = {
        "file-uri": {k: (outside / f"secret.{k}").as_uri() for k in ("png", "txt", "css")},
        "relative": {k: f"../outside/secret.{k}" for k in ("png", "txt", "css")},
        "absolute": {k: str(outside / f"secret.{k}") for k in ("png", "txt", "css")},
        "symlink": {"png": "photos/link.png", "txt": "public/link.txt",
                    "css": "public/link.css"},
        "symlinked-dir": {k: f"linked-dir/secret.{k}" for k in ("png", "txt", "css")},
    }[form]
    # an SVG *inside* the issue that reaches out
    (folder / "public" / "out.svg").write_text(hostile_svg((outside / "secret.png").as_uri()))
    problems = Problems()
    rendered = render_pdf(vectors(refs["png"], refs["txt"], refs["css"], "public/out.svg"),
                          folder, [folder], problems)
    out = tmp_path / f"{form}.pdf"
    out.write_bytes(rendered.pdf)
    assert_secret_absent(out)
    refused = {url for url, _ in rendered.refused}
    assert refused, "nothing was refused: the vectors did not even try"
    assert all(reason == "outside the issue, layout and fonts folders"
               for _, reason in rendered.refused)
    assert (outside / "secret.png").as_uri() in refused  # the SVG's reach too
    for ending in ((".png",), (".txt",), (".css",)):  # attachment, @import, images…
        assert any(url.endswith(ending) for url in refused), ending
    assert all(p.message.startswith("resource refused: ") for p in problems.errors)


def test_special_files_and_schemes_refused(planted):
    folder, _ = planted
    os.mkfifo(folder / "public" / "fifo.png")  # would block a render forever
    fetcher = ConfinedFetcher([folder])
    for url in [(folder / "public" / "fifo.png").as_uri(), (folder / "public").as_uri(),
                "file://otherhost/etc/passwd", "ftp://example.org/x.png",
                "javascript:alert(1)", "file:///dev/urandom", "file:///proc/self/environ"]:
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)
    assert [reason for _, reason in fetcher.refused] == [
        "not a regular file", "not a regular file",
        "file URLs on other hosts are not allowed", "the ftp: scheme is not allowed",
        "the javascript: scheme is not allowed",
        "outside the issue, layout and fonts folders",
        "outside the issue, layout and fonts folders"]
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"


# -- manifest paths ----------------------------------------------------------------------

def test_manifest_paths_confined(planted, tmp_path):
    folder, outside = planted
    manifest = f"""\
        newsletter:
          title: T
          organisation: O
          logo: ../outside/secret.png
        issue: {{date: 2024-04-15, period: Q2}}
        cover:
          image: {outside / "secret.png"}
        articles:
          - file: ../../../../../../../../etc/passwd
          - file: articles/news.md
            photos:
              - photos/link.png
              - linked-dir/secret.png
        back_page:
          sections:
            - file: public/link.txt
        """
    (folder / "issue.yaml").write_text(manifest.replace("        ", "", -1))
    rel = folder
    assert problems_of(folder) == [
        f"issue.yaml:4:9: newsletter.logo: ../outside/secret.png is outside the issue "
        f"folder ({rel}/); copy the file into the issue folder and refer to it from there",
        f"issue.yaml:7:10: cover.image: {outside}/secret.png is outside the issue folder "
        f"({rel}/); copy the file into the issue folder and refer to it from there",
        f"issue.yaml:9:11: articles[0].file: ../../../../../../../../etc/passwd is outside "
        f"the issue folder ({rel}/); copy the file into the issue folder and refer to it "
        "from there",
        f"issue.yaml:12:9: articles[1].photos[0].file: photos/link.png is a symbolic link "
        f"to {outside}/secret.png, outside the issue folder ({rel}/); copy the file itself "
        "into the issue folder",
        f"issue.yaml:13:9: articles[1].photos[1].file: linked-dir/secret.png is a symbolic "
        f"link to {outside}/secret.png, outside the issue folder ({rel}/); copy the file "
        "itself into the issue folder",
        f"issue.yaml:16:13: back_page.sections[0].file: public/link.txt is a symbolic link "
        f"to {outside}/secret.txt, outside the issue folder ({rel}/); copy the file itself "
        "into the issue folder",
    ]


def test_symlink_inside_the_issue_is_fine(make_issue):
    folder = make_issue()
    os.symlink(folder / "photos" / "road.jpg", folder / "photos" / "alias.jpg")
    text = (folder / "issue.yaml").read_text().replace("image: photos/road.jpg",
                                                       "image: photos/alias.jpg")
    (folder / "issue.yaml").write_text(text)
    assert check_issue(folder).manifest.cover.image.name == "alias.jpg"


def test_front_matter_photos_confined_to_the_issue(planted):
    folder, outside = planted
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: T\nphotos:\n  - ../../outside/secret.png\n---\n\nText.\n")
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text().replace(
        "    photos:\n      - file: photos/road.jpg\n        caption: The road again.\n", ""))
    rel = folder
    assert problems_of(folder) == [
        f"articles/news.md:4:5: photos[0].file: ../../outside/secret.png is outside the issue "
        f"folder ({rel}/); copy the file into the issue folder and refer to it from there"]


# -- Markdown images and raw HTML ---------------------------------------------------------

HOSTILE_HTML = """
<link rel="attachment" href="{o}/secret.txt">
<object data="{o}/secret.png"></object>
<embed src="{o}/secret.png">
<iframe src="{o}/secret.txt"></iframe>
<style>@import url("{o}/secret.css");</style>
<base href="file:///">
<meta http-equiv="refresh" content="0; url=file:///etc/passwd">
<script>document.write("x")</script>
<svg><image href="{o}/secret.png"/></svg>
<p style="background: url('{o}/secret.png')">Styled.</p>
<p style="background: u\\72l('{o}/secret.png')">Escaped.</p>
"""


def _article(folder: Path, body: str) -> None:
    (folder / "articles" / "news.md").write_text(f"---\ntitle: Small News\n---\n\n{body}\n")


def test_markdown_images_resolved_and_confined(planted):
    folder, outside = planted
    _article(folder, "Inside: ![ok](../photos/road.jpg)\n\n"
             "Relative: ![a](../../outside/secret.png)\n\n"
             f"Absolute: ![b]({outside}/secret.png)\n\n"
             "Symlink: ![c](../photos/link.png)\n\n"
             "Missing: ![d](nope.png)\n\n"
             "Scheme: ![e](ftp://example.org/x.png)\n")
    rel = folder
    assert problems_of(folder) == [
        f"articles/news.md:7: image ../../outside/secret.png is outside the issue folder "
        f"({rel}/); copy the file into the issue folder and refer to it from there",
        f"articles/news.md:9: image {outside}/secret.png is outside the issue folder "
        f"({rel}/); copy the file into the issue folder and refer to it from there",
        f"articles/news.md:11: image ../photos/link.png is a symbolic link to "
        f"{outside}/secret.png, outside the issue folder ({rel}/); copy the file itself "
        "into the issue folder",
        f"articles/news.md:13: image file not found: nope.png (image paths are relative to "
        f"the article, {rel}/articles/)",
        "articles/news.md:15: image ftp://example.org/x.png: the ftp: scheme is not "
        "allowed; use a file in the issue folder",
    ]


def test_markdown_image_inside_the_issue_is_printed(make_issue, tmp_path):
    folder = make_issue()
    (folder / "photos" / "small.png").write_bytes(png_bytes(*PUBLIC_SIZE, rgb=(0, 200, 0)))
    _article(folder, "A paragraph.\n\n![A small picture](../photos/small.png)\n")
    build(folder, tmp_path / "out")
    [pdf] = pdfs(tmp_path / "out")
    assert PUBLIC_SIZE in PdfFacts(pdf).images


def test_raw_html_escaped_by_default_and_secret_absent(planted, tmp_path):
    folder, outside = planted
    _article(folder, "Before.\n" + HOSTILE_HTML.format(o=outside) + "\nAfter.\n")
    checked = check_issue(folder)
    warnings = [str(w).replace(str(folder) + "/", "") for w in checked.warnings]
    assert "articles/news.md:7: warning: raw HTML is not allowed in articles and is " \
        "printed as text; use Markdown instead, or build with --allow-html to let a safe " \
        "subset through" in warnings
    build(folder, tmp_path / "out")
    [pdf] = pdfs(tmp_path / "out")
    assert_secret_absent(pdf)
    assert "secret.txt" in PdfFacts(pdf).text  # shown as text, not loaded


def test_opt_in_html_is_sanitised_and_secret_absent(planted, tmp_path, monkeypatch):
    folder, outside = planted
    _article(folder, "Before <b>bold</b> and <i style=\"color: red\">red</i>.\n"
             + HOSTILE_HTML.format(o=outside) + "\nAfter.\n")
    checked = check_issue(folder, allow_html=True)
    html = "".join(b.html for a in checked.articles for b in a.blocks)
    for forbidden in ("<link", "<object", "<embed", "<iframe", "<style", "<base", "<meta",
                      "<script", "<svg", "url(", "secret"):
        assert forbidden not in html
    assert "<b>bold</b>" in html and '<i style="color:red">red</i>' in html
    warnings = [str(w).replace(str(folder) + "/", "") for w in checked.warnings]
    assert any(w.startswith("articles/news.md:7: warning: raw HTML outside the safe subset "
                            "was removed: <base>, <embed>, <iframe>, <image>, <link>, "
                            "<meta>, <object>, <script>, <style>, <svg>") for w in warnings)
    build(folder, tmp_path / "out", allow_html=True)
    [pdf] = pdfs(tmp_path / "out")
    assert_secret_absent(pdf)
    assert "bold" in PdfFacts(pdf).text


def test_opt_in_html_images_confined(planted, monkeypatch):
    folder, outside = planted
    _article(folder, f'Text <img src="{outside}/secret.png"> and '
             '<img src="../photos/link.png"> and <img src="../photos/road.jpg">.\n')
    rel = folder
    with pytest.raises(ValidationError) as info:
        check_issue(folder, allow_html=True)
    assert [str(p).removeprefix(str(folder) + "/") for p in info.value.problems] == [
        f"articles/news.md:5: image {outside}/secret.png is outside the issue folder "
        f"({rel}/); copy the file into the issue folder and refer to it from there",
        f"articles/news.md:5: image ../photos/link.png is a symbolic link to "
        f"{outside}/secret.png, outside the issue folder ({rel}/); copy the file itself "
        "into the issue folder",
    ]


def test_svg_logo_with_external_reference(planted):
    folder, outside = planted
    (folder / "logo.svg").write_text(hostile_svg((outside / "secret.png").as_uri()))
    text = (folder / "issue.yaml").read_text().replace(
        "  organisation: Test Org\n", "  organisation: Test Org\n  logo: logo.svg\n")
    (folder / "issue.yaml").write_text(text)
    assert problems_of(folder) == [
        f'issue.yaml:4:9: newsletter.logo: logo.svg refers to an external file '
        f'(href="{(outside / "secret.png").as_uri()}" on <image>); embed the image in the '
        "SVG or remove the reference"]


# -- the network ---------------------------------------------------------------------------

class _Server:
    """A local HTTP server that counts requests (it must usually receive none)."""

    def __init__(self, handler_body):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                handler_body(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    def serve_png(handler):
        body = png_bytes(*SECRET_SIZE)
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    s = _Server(serve_png)
    yield s
    s.close()


def _remote_page(server) -> str:
    return (f'<link rel="stylesheet" href="{server.url("/a.css")}">'
            f'<link rel="attachment" href="{server.url("/a.txt")}">'
            f'<img src="{server.url("/a.png")}"><p>Remote.</p>')


def test_no_network_without_allow_remote(server, tmp_path, make_issue):
    folder = make_issue()
    problems = Problems()
    rendered = render_pdf(_remote_page(server), folder, [folder], problems)
    assert server.hits == []
    assert {reason for _, reason in rendered.refused} == {
        "remote resources are off; pass --allow-remote"}
    assert str(problems.errors[0]) == (
        f"resource refused: {server.url('/a.css')} (remote resources are off; pass "
        "--allow-remote)")


def test_allow_remote_still_refuses_loopback(server, make_issue):
    folder = make_issue()
    rendered = render_pdf(_remote_page(server), folder, [folder], Problems(),
                          allow_remote=True)
    assert server.hits == []
    assert {reason for _, reason in rendered.refused} == {
        "127.0.0.1 is a local or private address"}


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("172.16.5.5", False),
    ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("fd00::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("100.64.0.1", False),
    ("224.0.0.1", False), ("93.184.216.34", True), ("2606:2800:220:1::1", True)])
def test_public_address_classification(address, public):
    assert fetcher_module.is_public_address(address) is public


def test_dns_rebinding_caught_at_connect(server):
    """The name resolved to a public address, the connection went to loopback: refused
    before a single byte of request was sent."""
    fetcher = ConfinedFetcher([], allow_remote=True)
    fetcher._check_host = lambda url: None  # DNS said "public"
    with pytest.raises(RefusedResource):
        fetcher.fetch(server.url("/a.png"))
    assert server.hits == []
    [(_, reason)] = fetcher.refused
    assert reason.endswith("connected to 127.0.0.1, a local or private address")


def test_redirects_not_followed(monkeypatch):
    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", "http://127.0.0.1:1/secret")
        handler.end_headers()

    s = _Server(redirect)
    try:
        monkeypatch.setattr(fetcher_module, "is_public_address", lambda a: True)
        fetcher = ConfinedFetcher([], allow_remote=True)
        with pytest.raises(RefusedResource):
            fetcher.fetch(s.url("/start"))
        assert s.hits == ["/start"]
        assert fetcher.refused == [(s.url("/start"), "redirects are not followed (HTTP 302 "
                                    "to http://127.0.0.1:1/secret)")]
    finally:
        s.close()


def test_remote_timeout(monkeypatch):
    def slow(handler):
        time.sleep(3)

    s = _Server(slow)
    try:
        monkeypatch.setattr(fetcher_module, "is_public_address", lambda a: True)
        fetcher = ConfinedFetcher([], allow_remote=True, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RefusedResource):
            fetcher.fetch(s.url("/slow"))
        assert time.monotonic() - started < 2.5
        [(_, reason)] = fetcher.refused
        assert reason == "cannot fetch it: timed out"
    finally:
        s.close()


def test_remote_allowed_when_public(monkeypatch):
    """The positive path works (with the address check pretending loopback is public)."""
    def ok(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.wfile.write(b"hello")

    s = _Server(ok)
    try:
        monkeypatch.setattr(fetcher_module, "is_public_address", lambda a: True)
        fetcher = ConfinedFetcher([], allow_remote=True)
        assert fetcher.fetch(s.url("/x")).read() == b"hello"
        assert s.hits == ["/x"]
    finally:
        s.close()


def test_check_issue_refuses_nothing_valid(make_issue):
    """Sanity: the planted-secret machinery does not break an ordinary issue."""
    check_issue(make_issue())
    with pytest.raises(ValidationError):
        check_issue(make_issue("newsletter: 3\n"))
