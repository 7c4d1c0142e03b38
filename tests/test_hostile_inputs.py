"""Broken and hostile input: one test per hazard, each asserting the exact message.

Every message names the file (and line where there is one) and says what to do.
"""

from __future__ import annotations

import os
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from newsletter_pdf.build import check_issue
from newsletter_pdf.cli import main
from newsletter_pdf.errors import Problems, ValidationError
from newsletter_pdf.images import inspect_image

from .conftest import SAMPLE
from .test_hostile_support import problems_of

HEAD = """\
newsletter: {title: T, organisation: O}
issue: {date: 2024-04-15, period: Q2}
"""


def with_photo(make_issue, name: str, content: bytes) -> Path:
    """The small issue with one extra article photo, ``photos/<name>``."""
    folder = make_issue()
    (folder / "photos" / name).write_bytes(content)
    text = (folder / "issue.yaml").read_text().replace(
        "      - file: photos/road.jpg\n        caption: The road again.\n",
        f"      - file: photos/road.jpg\n        caption: The road again.\n"
        f"      - file: photos/{name}\n")
    (folder / "issue.yaml").write_text(text)
    return folder


def photo_problem(make_issue, name: str, content: bytes) -> str:
    [message] = problems_of(with_photo(make_issue, name, content))
    prefix = "issue.yaml:15:9: articles[0].photos[1].file: "
    assert message.startswith(prefix), message
    return message.removeprefix(prefix)


# -- YAML ----------------------------------------------------------------------------------

def test_yaml_duplicate_key_in_a_list_item(make_issue):
    folder = make_issue(HEAD + "articles:\n  - file: articles/news.md\n    kind: brief\n"
                        "    kind: box\n")
    assert problems_of(folder) == [
        "issue.yaml:6:5: articles[0].kind: duplicate key; the earlier value would be "
        "silently lost — keep only one"]


def test_yaml_tab_after_a_key(make_issue):
    folder = make_issue("newsletter:\n  title:\tT\n")
    assert problems_of(folder) == [
        "issue.yaml:2:9: YAML syntax error: found character '\\t' that cannot start any "
        "token; YAML indentation must use spaces, not tabs"]


def test_yaml_alias_bomb_fails_fast_in_bounded_memory(make_issue):
    """Billion laughs: 9 levels of 9 aliases = 387 million values if expanded."""
    lines = ["lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        name, prev = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"l{level}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    folder = make_issue(HEAD + "\n".join(lines) + "\narticles: *i\n")
    tracemalloc.start()
    started = time.monotonic()
    messages = problems_of(folder)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert messages == [
        "issue.yaml:8:5: the YAML expands to more than 100,000 values through its aliases "
        "(&anchor/*alias): an alias bomb?; write the values out or use fewer aliases"]
    assert elapsed < 2.0
    assert peak < 20 * 2**20


def test_yaml_self_referring_alias(make_issue):
    folder = make_issue(HEAD + "articles: &x [*x]\n")
    assert problems_of(folder) == [
        "issue.yaml:3:11: an alias refers to the value that contains it (a recursive "
        "structure); remove the *alias"]


def test_yaml_absurd_nesting(make_issue):
    folder = make_issue(HEAD + "articles: " + "[" * 3000 + "]" * 3000 + "\n")
    assert problems_of(folder) == [
        "issue.yaml:3:74: the YAML is nested more than 64 levels deep; flatten it"]


def test_yaml_merge_keys_work(make_issue):
    folder = make_issue(HEAD + "x-photo: &p {caption: Shared caption}\narticles:\n"
                        "  - file: articles/news.md\n    photos:\n"
                        "      - {<<: *p, file: photos/road.jpg}\n")
    # x-photo is not a manifest key: reported, but the merge itself is understood
    assert problems_of(folder) == [
        "issue.yaml:3:1: x-photo: unknown key; allowed keys: newsletter, issue, articles, "
        "cover, contents, back_page, footer, layout, print, email, distribution, words"]


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "issue.yaml:1:1: (top level): expected a mapping of manifest settings, "
                   "got a list"),
    ("just words\n", "issue.yaml:1:1: (top level): expected a mapping of manifest settings, "
                     "got text 'just words'"),
    ("\n", "issue.yaml: the manifest is empty; start from the sample in issues/2011-q1"),
    ("# only a comment\n", "issue.yaml: the manifest is empty; start from the sample in "
                           "issues/2011-q1"),
])
def test_yaml_root_not_a_mapping(make_issue, text, message):
    assert problems_of(make_issue(text)) == [message]


def test_yaml_wrong_types(make_issue):
    folder = make_issue("""\
        newsletter: {title: [T], organisation: {a: b}}
        issue: {date: yesterday, period: Q2, number: true, page_size: A5}
        articles: articles/news.md
        """)
    assert problems_of(folder) == [
        "issue.yaml:1:21: newsletter.title: expected text, got a list",
        "issue.yaml:1:40: newsletter.organisation: expected text, got a mapping",
        "issue.yaml:2:15: issue.date: 'yesterday' is not a date; write it as YYYY-MM-DD, "
        "e.g. 2011-03-31",
        "issue.yaml:2:46: issue.number: expected a whole number, got true/false 'true'",
        "issue.yaml:2:63: issue.page_size: 'A5' is not one of A4, Letter",
        "issue.yaml:3:11: articles: expected a list, got text 'articles/news.md'",
    ]


def test_yaml_python_tags_are_not_executed(make_issue, tmp_path):
    marker = tmp_path / "pwned"
    folder = make_issue(HEAD + f"layout: !!python/object/apply:os.system ['touch {marker}']\n"
                        "articles: [articles/news.md]\n")
    [message] = problems_of(folder)
    assert message.startswith("issue.yaml:3:9: layout: expected text, got a list")
    assert not marker.exists()


def test_yaml_two_documents(make_issue):
    folder = make_issue(HEAD + "articles: [articles/news.md]\n---\nmore: 1\n")
    [message] = problems_of(folder)
    assert message == ("issue.yaml:4:1: YAML syntax error: but found another document; "
                       "fix the YAML syntax")


def test_alias_bomb_in_article_front_matter(make_issue):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]"
              for p, c in zip("abcdefgh", "bcdefghi")]
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n" + "\n".join(lines)
                               + "\n---\n\nText.\n"})
    assert problems_of(folder) == [
        "articles/news.md:7:4: the YAML expands to more than 100,000 values through its "
        "aliases (&anchor/*alias): an alias bomb?; write the values out or use fewer aliases"]


# -- articles -------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ("---\ntitle: T\n---\n\nIt\x92s here.\n".encode("latin-1"),
     "articles/news.md:5:3: not UTF-8 text (byte 0x92); it looks like windows-1252: "
     "re-save the file as UTF-8"),
    ("---\ntitle: T\n---\n\nCafé\n".encode("utf-16"),
     "articles/news.md:1: articles[0].file: news.md is UTF-16 text; re-save the file as UTF-8"),
    (b"PK\x03\x04\x14\x00\x06\x00word/document.xml",
     "articles/news.md: articles[0].file: news.md is a Word (.docx) or other ZIP file, not "
     "Markdown text; save the article as plain text (UTF-8) with a .md name"),
    (b"---\ntitle: T\n---\n\nText\x00with a NUL.\n",
     "articles/news.md:5: articles[0].file: news.md contains NUL bytes: it is a binary "
     "file, not Markdown text; save the article as plain text (UTF-8)"),
])
def test_article_encodings(make_issue, content, message):
    assert problems_of(make_issue(files={"articles/news.md": content})) == [message]


@pytest.mark.parametrize("content, line", [(b"", 1), (b"  \n\n\t\n", 1),
                                           (b"---\ntitle: T\n---\n", 4)])
def test_empty_article(make_issue, content, line):
    assert problems_of(make_issue(files={"articles/news.md": content})) == [
        f"articles/news.md:{line}: the article has no text; write its body below the front "
        "matter or remove it from the manifest"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_article_real_permissions(make_issue):
    folder = make_issue()
    (folder / "articles" / "news.md").chmod(0)
    try:
        assert problems_of(folder) == [
            "issue.yaml:11:11: articles[0].file: file is not readable: articles/news.md; "
            "check its permissions (e.g. chmod a+r articles/news.md)"]
    finally:
        (folder / "articles" / "news.md").chmod(0o644)


def test_unreadable_files_simulated(make_issue, monkeypatch):
    """As root permissions never block reading: simulate what a user sees."""
    folder = make_issue()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False
                        if str(p).endswith("news.md") else real_access(p, mode, **kw))
    assert problems_of(folder) == [
        "issue.yaml:11:11: articles[0].file: file is not readable: articles/news.md; "
        "check its permissions (e.g. chmod a+r articles/news.md)"]


def test_unreadable_image_simulated(tmp_path, monkeypatch):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    real_open = open
    monkeypatch.setitem(__builtins__ if isinstance(__builtins__, dict) else
                        __builtins__.__dict__, "open",
                        lambda p, *a, **k: (_ for _ in ()).throw(PermissionError(13, "no"))
                        if str(p) == str(path) else real_open(p, *a, **k))
    problems = Problems()
    assert inspect_image(path, problems) is None
    assert [str(p) for p in problems.items] == [
        "photo.jpg cannot be read (permission denied); check its permissions, e.g. "
        "chmod a+r"]


def test_article_is_a_folder_or_broken_link(make_issue):
    folder = make_issue()
    (folder / "articles" / "news.md").unlink()
    (folder / "articles" / "news.md").mkdir()
    assert problems_of(folder) == [
        "issue.yaml:11:11: articles[0].file: not a regular file: articles/news.md"]
    (folder / "articles" / "news.md").rmdir()
    os.symlink(folder / "articles" / "gone.md", folder / "articles" / "news.md")
    assert problems_of(folder) == [
        f"issue.yaml:11:11: articles[0].file: articles/news.md is a broken symbolic link "
        f"(to {folder}/articles/gone.md); replace it with the file itself"]


# -- images ----------------------------------------------------------------------------------

def _jpeg() -> bytes:
    return (SAMPLE / "photos" / "road-storm.jpg").read_bytes()


def _png() -> bytes:
    import io
    out = io.BytesIO()
    Image.open(SAMPLE / "photos" / "road-storm.jpg").resize((400, 300)).save(out, "PNG")
    return out.getvalue()


def _png_claiming(width: int, height: int, rows: int = 10) -> bytes:
    """A tiny PNG whose header claims width×height (the pixel data is short)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + bytes((width + 7) // 8)
    data = zlib.compress(row * min(rows, height), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1,
                                                              0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def _damaged_jpeg() -> bytes:
    import random
    noise = random.Random(1)
    data = bytearray(_jpeg())
    middle = len(data) // 2
    data[middle: middle + 3000] = bytes(noise.randrange(256) for _ in range(3000))
    return bytes(data)


def _svg(body: str, head: str = "") -> bytes:
    return (head + '<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
            + body + "</svg>").encode()


IMAGE_HAZARDS = [
    ("cut.jpg", lambda: _jpeg()[: len(_jpeg()) // 2],
     "cut.jpg is truncated (the file ends too early: an interrupted copy or download); copy "
     "it again from the original"),
    ("cut.png", lambda: _png()[: len(_png()) // 2],
     "cut.png is truncated (the file ends too early: an interrupted copy or download); copy "
     "it again from the original"),
    ("short.png", lambda: _png_claiming(1000, 1000),
     "short.png is truncated (the file ends too early: an interrupted copy or download); "
     "copy it again from the original"),
    ("damaged.jpg", _damaged_jpeg,
     "damaged.jpg is damaged (broken data stream when reading image file); export it again "
     "from the original"),
    ("empty.jpg", lambda: b"", "empty.jpg is empty (0 bytes); copy the photo again"),
    ("notes.jpg", lambda: b"These are my notes, not a photo.\n",
     "notes.jpg is not an image (or is corrupt): its first bytes match no image format; "
     "re-export it as JPEG or PNG"),
    ("header.jpg", lambda: _jpeg()[:3] + bytes(2000),
     "header.jpg looks like JPEG but cannot be read (corrupt); re-export it as JPEG or PNG"),
    ("iphone.jpg", lambda: b"\x00\x00\x00\x18ftypheic" + bytes(200),
     "iphone.jpg is an iPhone HEIC photo, which this tool cannot place; export it as JPEG "
     "(photos) or PNG/SVG (logos and artwork)"),
    ("scan.jpg", lambda: b"%PDF-1.4\n" + bytes(200),
     "scan.jpg is a PDF document, which this tool cannot place; export it as JPEG (photos) "
     "or PNG/SVG (logos and artwork)"),
    ("old.bmp", lambda: b"BM" + bytes(200),
     "old.bmp is a BMP image, which this tool cannot place; export it as JPEG (photos) or "
     "PNG/SVG (logos and artwork)"),
    ("logo.svg", _png, "logo.svg is named .svg but is a PNG image; rename it to logo.png"),
    ("bomb.png", lambda: _png_claiming(50_000, 50_000),
     "bomb.png claims more than 100 megapixels (a decompression bomb?); scale it down or "
     "export it again"),
    ("huge.png", lambda: _png_claiming(12_000, 10_000),
     "huge.png has 12000×10000 pixels (over 100 megapixels); scale it down"),
    ("long.png", lambda: _png_claiming(40_000, 2_000),
     "long.png is 40000×2000 pixels, longer than 30,000 pixels on one side; scale it down"),
    ("strip.png", lambda: _png_claiming(10_000, 100),
     "strip.png is 10000×100 pixels: one side is more than 20 times the other; crop it to a "
     "printable shape"),
    ("ext.svg", lambda: _svg('<image xlink:href="file:///etc/passwd"/>'),
     'ext.svg refers to an external file (href="file:///etc/passwd" on <image>); embed the '
     "image in the SVG or remove the reference"),
    ("web.svg", lambda: _svg('<use href="https://example.org/sprite.svg#a"/>'),
     'web.svg refers to an external file (href="https://example.org/sprite.svg#a" on '
     "<use>); embed the image in the SVG or remove the reference"),
    ("css.svg", lambda: _svg('<rect style="fill: url(/etc/x.svg#g)"/>'),
     "css.svg refers to an external file (url(/etc/x.svg#g) on <rect>); embed it or remove "
     "the reference"),
    ("import.svg", lambda: _svg("<style>@import url(x.css);</style>"),
     "import.svg imports an external stylesheet (@import); embed the styles"),
    ("entity.svg", lambda: _svg("<text>&x;</text>", '<?xml version="1.0"?><!DOCTYPE svg '
                                '[<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
     "entity.svg declares a DOCTYPE or entities, which can hide references to other files; "
     "re-export it without them (e.g. as plain SVG)"),
    ("script.svg", lambda: _svg("<script>alert(1)</script>"),
     "script.svg contains <script>, which is not allowed in images; re-export it without "
     "it"),
    ("onload.svg", lambda: _svg('<rect onload="alert(1)"/>'),
     "onload.svg contains an event handler (onload=) on <rect>; re-export it as plain SVG"),
    ("broken.svg", lambda: _svg("<rect>")[:-3],
     "broken.svg is not a valid SVG file (unclosed token: line 1, column 112); re-export "
     "it"),
    ("html.svg", lambda: b"<?xml version='1.0'?><html><svg/></html>",
     "html.svg is XML but not SVG (its root element is <html>); re-export it"),
]


@pytest.mark.parametrize("name, make, message", IMAGE_HAZARDS,
                         ids=[h[0] for h in IMAGE_HAZARDS])
def test_image_hazard(make_issue, name, make, message):
    assert photo_problem(make_issue, name, make()) == message


DECODE_HAZARDS = [h for h in IMAGE_HAZARDS  # JPEGs: a build's check leaves decoding them
                  if h[0] in ("cut.jpg", "damaged.jpg", "header.jpg", "cut.png")]


@pytest.mark.parametrize("name, make, message", DECODE_HAZARDS,
                         ids=[h[0] for h in DECODE_HAZARDS])
def test_a_build_reports_a_damaged_photo_as_the_check_does(make_issue, tmp_path, name, make,
                                                           message):
    # A build leaves a JPEG's full decode to the photo preparation (which decodes anyway):
    # the error is the check's, word for word and at the same line, and nothing is written
    # (a PNG is still checked chunk by chunk before: cut.png).
    from newsletter_pdf.build import build_issue

    folder = with_photo(make_issue, name, make())
    with pytest.raises(ValidationError) as info:
        build_issue(folder, out_dir=tmp_path / "out", editions=("email",))
    assert [str(p).removeprefix(str(folder) + "/") for p in info.value.problems] == [
        f"issue.yaml:15:9: articles[0].photos[1].file: {message}"]
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_mislabelled_image_is_a_warning(make_issue):
    folder = with_photo(make_issue, "really-a-png.jpg", _png())
    warnings = [str(w).removeprefix(str(folder) + "/") for w in check_issue(folder).warnings]
    assert "issue.yaml:15:9: warning: articles[0].photos[1].file: really-a-png.jpg is a PNG " \
        "image named .jpg; rename it to really-a-png.png" in warnings


def test_safe_svg_passes(make_issue):
    folder = with_photo(make_issue, "fine.svg", _svg(
        '<defs><linearGradient id="g"/></defs><rect fill="url(#g)"/><use href="#g"/>'
        '<image href="data:image/png;base64,iVBORw0KGgo="/>'))
    check_issue(folder)


def _adam7_png(width: int, height: int) -> bytes:
    """An interlaced RGB PNG (Pillow cannot write one): checks the Adam7 arithmetic."""
    pixels = [[((x * 7) % 256, (y * 13) % 256, (x + y) % 256) for x in range(width)]
              for y in range(height)]
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        for y in range(y0, height, dy):
            row = [pixels[y][x] for x in range(x0, width, dx)]
            if row:
                raw += b"\x00" + b"".join(bytes(p) for p in row)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                              2, 0, 0, 1))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(13, 7), (1, 1), (9, 3), (3, 17), (64, 40)])
def test_interlaced_png_accepted(tmp_path, size):
    import io
    data = _adam7_png(*size)
    image = Image.open(io.BytesIO(data))
    assert image.info.get("interlace") == 1 and image.convert("RGB").getpixel(
        (size[0] - 1, size[1] - 1)) == (((size[0] - 1) * 7) % 256, ((size[1] - 1) * 13) % 256,
                                         (size[0] + size[1] - 2) % 256)
    (tmp_path / "i.png").write_bytes(data)
    problems = Problems()
    assert inspect_image(tmp_path / "i.png", problems) is not None, problems.items
    (tmp_path / "i.png").write_bytes(_adam7_png(*size)[:-40])  # IDAT cut short
    problems = Problems()
    assert inspect_image(tmp_path / "i.png", problems) is None


def test_front_matter_photo_inspected(make_issue):
    folder = make_issue(files={
        "articles/news.md": "---\ntitle: T\nphotos:\n  - ../photos/empty.jpg\n---\n\nText.\n",
        "photos/empty.jpg": b""})
    text = (folder / "issue.yaml").read_text().replace(
        "    photos:\n      - file: photos/road.jpg\n        caption: The road again.\n", "")
    (folder / "issue.yaml").write_text(text)
    assert problems_of(folder) == [
        "articles/news.md:4:5: photos[0].file: empty.jpg is empty (0 bytes); copy the photo "
        "again"]


def test_png_pixel_data_checked_without_decoding(tmp_path):
    """A PNG whose chunks are intact (CRCs right) but whose pixel stream is garbage."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    bad = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50, 50, 8, 2, 0, 0,
                                                              0))
           + chunk(b"IDAT", b"\x78\x9c" + bytes(range(200))) + chunk(b"IEND", b""))
    (tmp_path / "bad.png").write_bytes(bad)
    problems = Problems()
    assert inspect_image(tmp_path / "bad.png", problems) is None
    [message] = [str(p) for p in problems.items]
    assert message.startswith("bad.png is damaged (the image data is corrupt (Error -3 while "
                              "decompressing data")
    assert message.endswith("); export it again from the original")


# -- layout and fonts ---------------------------------------------------------------------------

def test_missing_layout(make_issue):
    folder = make_issue()
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text()
                                       + "layout: glossy\n")
    [message] = problems_of(folder)
    assert message.startswith("issue.yaml: layout: layout 'glossy' not found; looked in ")
    assert message.endswith(". Use 'newsletter' or create that folder with a layout.yaml")


def test_missing_font(make_issue):
    folder = make_issue(files={"layouts/ours/layout.yaml": """\
        extends: newsletter
        fonts:
          text: {family: Nowhere Serif, files: {regular: NowhereSerif-Regular.ttf}}
        """})
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text() + "layout: ours\n")
    [message] = problems_of(folder)
    assert message.startswith("layouts/ours/layout.yaml: fonts.text.files.regular: font file "
                              "NowhereSerif-Regular.ttf (text regular) not found in ")
    assert message.endswith("; add it or change the layout's fonts")


# -- the command line: exit 1, no traceback ----------------------------------------------------

def test_cli_hazard_is_exit_1_without_traceback(make_issue):
    folder = with_photo(make_issue, "cut.jpg", _jpeg()[:5000])
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "cut.jpg is truncated" in result.output
