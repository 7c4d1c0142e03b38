"""The email that shows the issue: cover thumbnail inline, contents with teasers, the web
edition's link, and the PDF linked instead of attached when it is too large or not wanted.
Every message is written by ``newsletter send --dry-run`` and parsed back with ``email``."""

from __future__ import annotations

import email
import email.policy
import html
import io
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from PIL import Image

from newsletter_pdf.cli import main
from newsletter_pdf.errors import ValidationError

from .conftest import SAMPLE
from .mail_support import run_send

WEB = "https://iomiraq.example/newsletter/2011-q1/"
TITLES = [  # the sample's articles in reading order, as written in their files
    "Foreword from the Chief of Mission",
    "The Samarra Bombing: Five Years On",
    "The Samarra Bombing: Stories of Displacement",
    "Over 300 Women Attend IOM International Women's Day Celebrations",
    "New Minister of Displacement and Migration Visits IOM Iraq",
    "IOM Iraq Exhibits at DIHAD 2011",
    "S.A.I.T. Security Training Continues Through 2011",
]
TEASERS = [  # the cover's teaser for Samarra, the decks of the others that have one
    "Five years after the al-Askari mosque attack, 1.6 million Iraqis are still displaced.",
    "Behind the statistics are individual families still living with the consequences",
    "Women from Erbil and Baghdad came together to discuss their rights",
]
STRUCTURE = ["multipart/alternative", "text/plain", "multipart/related", "text/html",
             "image/jpeg"]


def parsed(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def words_of(markup: str) -> str:
    """The text a reader sees in an HTML body, quotes made straight, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return " ".join(text.replace("’", "'").split())


def plain(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory, sample_email):
    """The sample issue copied, with its email PDF already built (shared with the
    session's build) in the copy's build folder."""
    root = tmp_path_factory.mktemp("mailbody")
    folder = root / "issue"
    shutil.copytree(SAMPLE, folder)
    out = root / "out"
    out.mkdir()
    shutil.copy2(sample_email.path, out / Path(sample_email.path).name)
    return folder, out, Path(sample_email.path)


def send_sample(sample_copy, tmp_path, distribution_extra: str = "", args=()):
    """Dry-run the sample with extra ``distribution:`` keys; (result, [messages])."""
    folder, out, pdf = sample_copy
    issue = tmp_path / "issue"
    shutil.copytree(folder, issue)
    manifest = issue / "issue.yaml"
    text = manifest.read_text(encoding="utf-8")
    for line in distribution_extra.splitlines(keepends=True):  # replace a key, else add it
        key = line.split(":")[0]
        text, n = re.subn(rf"(?m)^{re.escape(key)}:.*\n", line, text)
        text += "" if n else line
    manifest.write_text(text, encoding="utf-8")
    eml = tmp_path / "eml"
    result = CliRunner().invoke(main, [
        "send", str(issue), "--to", str(issue / "recipients.example.csv"), "-o", str(out),
        "--no-rebuild", "--dry-run", str(eml), *args], catch_exceptions=False)
    return result, [parsed(p) for p in sorted(eml.glob("*.eml"))] if eml.is_dir() else []


def test_sample_message_shows_the_cover_and_the_contents(sample_copy, tmp_path):
    result, messages = send_sample(sample_copy, tmp_path, f"  web_url: {WEB}\n")
    assert result.exit_code == 0, result.output
    assert len(messages) == 3
    msg = messages[0]
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", *STRUCTURE, "application/pdf"]
    html_body = msg.get_body(("html",)).get_content()
    text_body = msg.get_body(("plain",)).get_content()

    # The thumbnail: an inline JPEG part whose Content-ID the HTML shows.
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/jpeg"]
    cid = image["Content-ID"]
    assert re.fullmatch(r"<cover\.[0-9a-f]{16}@iomiraq\.example>", cid)
    assert image.get_content_disposition() == "inline"
    assert f'src="cid:{cid[1:-1]}"' in html_body
    data = image.get_content()
    with Image.open(io.BytesIO(data)) as im:
        assert (im.format, im.size, im.mode) == ("JPEG", (600, 400), "RGB")
    assert 10_000 < len(data) < 80_000
    assert 'alt="A footpath crossing a green mountain meadow towards rocky peaks."' in html_body
    # The inbox's preview line: the first teaser, hidden in the body.
    assert re.search(r'<div style="display:none;[^"]*">Five years after the al-Askari', html_body)

    # The contents: every title, in order, with its teaser, in both bodies.
    seen_html, seen_text = words_of(html_body), plain(text_body)
    for title in TITLES:
        assert title in seen_html and title in seen_text, title
    assert [seen_text.index(t) for t in TITLES] == sorted(seen_text.index(t) for t in TITLES)
    for teaser in TEASERS:
        assert teaser in seen_html and teaser in seen_text, teaser
    assert "About PHSS" not in seen_text  # a box inside an article, not a contents entry

    # Read it online, and each title links to its article in the web edition.
    assert f'href="{WEB}"' in html_body and "Read it online" in seen_html
    assert f"Read it online\n{WEB}\n" in text_body
    assert f'href="{WEB}#art-samarra"' in html_body and f"{WEB}#art-samarra" in text_body

    # The PDF is still attached, byte for byte, and the message says so.
    [attachment] = msg.iter_attachments()
    assert attachment.get_content() == sample_copy[2].read_bytes()
    assert "is attached to this message as a PDF" in seen_html
    assert "is attached to this message as a PDF" in seen_text
    # Personalised per recipient as before.
    assert text_body.startswith("Dear Amira Hassan,\n")
    assert messages[1].get_body(("plain",)).get_content().startswith("Dear ")


def test_over_the_limit_with_a_web_url_links_the_pdf_instead(sample_copy, tmp_path):
    result, messages = send_sample(sample_copy, tmp_path,
                                   f"  web_url: {WEB}index.html\n"
                                   "  attachment_limit_mb: 0.2\n")
    assert result.exit_code == 0, result.output
    pdf_name = sample_copy[2].name
    link = f"{WEB}{quote(pdf_name)}"
    assert f"the PDF linked, not attached: {link}" in result.output
    msg = messages[0]
    assert [p.get_content_type() for p in msg.walk()] == STRUCTURE  # nothing attached
    assert list(msg.iter_attachments()) == []
    html_body = msg.get_body(("html",)).get_content()
    text_body = msg.get_body(("plain",)).get_content()
    assert f'href="{link}"' in html_body and f"\n{link}\n" in text_body
    for body in (words_of(html_body), plain(text_body)):
        assert "The PDF is not attached to this message: download it" in body
        assert "Download the PDF (" in body
        assert "attached to this message as a PDF" not in body


def test_over_the_limit_without_a_url_is_refused_as_before(sample_copy, tmp_path):
    result, messages = send_sample(sample_copy, tmp_path, "  attachment_limit_mb: 0.2\n")
    assert result.exit_code == 1 and messages == []
    pdf = sample_copy[1] / sample_copy[2].name
    size = pdf.stat().st_size
    shown = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{round(size / 1024)} KB"
    assert result.output.strip().splitlines()[-1] == (
        f"error: {pdf} is {shown}, over the attachment limit of 0.2 MB "
        "(distribution.attachment_limit_mb); lower email.ppi or email.jpeg_quality and "
        "rebuild")


def test_attach_false_links_the_pdf_at_its_own_address(sample_copy, tmp_path):
    url = "https://files.iomiraq.example/2011/q1.pdf"
    result, messages = send_sample(sample_copy, tmp_path,
                                   f"  attach: false\n  pdf_url: {url}\n")
    assert result.exit_code == 0, result.output
    msg = messages[0]
    assert list(msg.iter_attachments()) == []
    html_body = msg.get_body(("html",)).get_content()
    assert f'href="{url}"' in html_body
    assert "Read it online" not in words_of(html_body)  # no web_url: no such link
    assert f"\n{url}\n" in msg.get_body(("plain",)).get_content()


def test_attach_false_without_an_address_is_a_located_error(sample_copy, tmp_path):
    result, messages = send_sample(sample_copy, tmp_path, "  attach: false\n")
    assert result.exit_code != 0 and messages == []
    lines = (Path(tmp_path / "issue" / "issue.yaml").read_text(encoding="utf-8")
             .splitlines())
    line = lines.index("  attach: false") + 1
    assert (f"issue.yaml:{line}:11: distribution.attach: the PDF is not attached, so the "
            "message must link to it: add web_url (the web edition's address) or pdf_url "
            "(the PDF's)") in result.output


@pytest.mark.parametrize("key, value", [
    ("web_url", "javascript:alert(1)"), ("web_url", "ftp://example.org/x"),
    ("web_url", "www.iomiraq.net"), ("web_url", "https://exa mple.org/"),
    ("web_url", '"https://example.org/\\"onmouseover=x"'), ("web_url", "https://"),
    ("pdf_url", "data:application/pdf;base64,JVBERi0K")])
def test_web_url_must_be_an_http_address(make_issue, key, value):
    from newsletter_pdf.build import check_issue

    folder = make_issue(files={})
    manifest = folder / "issue.yaml"
    manifest.write_text(manifest.read_text() + "distribution:\n  from_address: a@example.org"
                        f"\n  {key}: {value}\n", encoding="utf-8")
    line = len(manifest.read_text().splitlines())
    with pytest.raises(ValidationError) as info:
        check_issue(folder)
    [problem] = info.value.problems
    shown = value.strip('"').replace('\\"', '"')
    assert str(problem) == (
        f"{manifest}:{line}:12: distribution.{key}: {shown!r} is not a web address; write "
        "it in full with http:// or https://, e.g. 'https://example.org/newsletter/2011-q1/' "
        "(no spaces, quotes or angle brackets)")


def test_pdf_address_from_the_web_edition_address():
    from newsletter_pdf.mailbody import pdf_url
    from newsletter_pdf.manifest import Distribution

    def url(**keys):
        return pdf_url(Distribution(from_address="a@example.org", **keys), "News 1.pdf")

    assert url() == ""
    assert url(web_url="https://ex.org/n/2011-q1/") == "https://ex.org/n/2011-q1/News%201.pdf"
    assert url(web_url="https://ex.org/n/2011-q1") == "https://ex.org/n/2011-q1/News%201.pdf"
    assert url(web_url="http://ex.org/n/2011-q1/index.html#top") == (
        "http://ex.org/n/2011-q1/News%201.pdf")
    assert url(web_url="https://ex.org") == "https://ex.org/News%201.pdf"
    assert url(web_url="https://ex.org/", pdf_url="https://cdn.ex.org/a.pdf") == (
        "https://cdn.ex.org/a.pdf")


def test_hostile_titles_are_escaped_and_words_come_from_the_issue_language(issue, tmp_path):
    folder = tmp_path / "hostile"
    shutil.copytree(issue.folder, folder)
    (folder / "articles" / "news.md").write_text(
        '---\ntitle: "<script>alert(1)</script> & News"\n'
        'deck: "A deck with <img src=x onerror=alert(1)> and *emphasis*"\n---\n\n'
        "A first paragraph of small news.\n", encoding="utf-8")
    manifest = folder / "issue.yaml"
    text = manifest.read_text(encoding="utf-8").replace("date: 2024-04-15",
                                                        "date: 2024-04-15\n  language: fr")
    manifest.write_text(text + "  web_url: https://example.org/n/?a=1&b=2\n", encoding="utf-8")
    issue.folder = folder
    csv = issue.recipients([("ann@example.org", "Ann <Lee>")])
    result = run_send(issue, csv, "--dry-run", str(tmp_path / "eml"))
    assert result.exit_code == 0, result.output
    [eml] = (tmp_path / "eml").glob("*.eml")
    msg = parsed(eml)
    html_body = msg.get_body(("html",)).get_content()
    text_body = msg.get_body(("plain",)).get_content()
    assert "<script>" not in html_body and "<img src=x" not in html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; News" in html_body
    assert "A deck with &lt;img src=x onerror=alert(1)&gt; and <em>emphasis</em>" in html_body
    assert 'href="https://example.org/n/?a=1&amp;b=2"' in html_body
    assert "* <script>alert(1)</script> & News\n" in text_body
    assert "A deck with <img src=x onerror=alert(1)> and emphasis" in text_body
    # French: the word table's words, in both bodies, the name escaped in the HTML.
    assert text_body.startswith("Bonjour Ann <Lee>,\n")
    assert "Bonjour Ann &lt;Lee&gt;," in html_body
    for body in (words_of(html_body), plain(text_body)):
        assert "Dans ce numéro" in body and "Lire en ligne" in body
        assert "Le nouveau numéro de Test Newsletter" in body
        assert "Dear" not in body and "Read it online" not in body


@pytest.mark.parametrize("with_pdf", [True, False])
def test_spliced_bytes_are_the_library_s_own(tmp_path, with_pdf):
    """build_bytes() splices the encoded PDF and image into a message serialised with
    stand-ins: the result is byte for byte what the email package writes itself."""
    from newsletter_pdf.mail import InlineImage, MessageFactory, Recipient, Sender, Templates

    folder = tmp_path / "email"
    folder.mkdir()
    (folder / "body.txt").write_text("Hi {{ name }}\n", encoding="utf-8")
    (folder / "body.html").write_text('<p>Hi {{ name }}</p><img src="cid:{{ cid }}">\n',
                                      encoding="utf-8")
    image = InlineImage(bytes(range(256)) * 300, "cover.0123@example.org")
    factory = MessageFactory(templates=Templates([folder], subject_override="News"),
                             sender=Sender(from_address="news@example.org"),
                             pdf=b"%PDF-1.7\n" + bytes(range(256)) * 4000 if with_pdf else None,
                             filename="n.pdf", distribution="d" * 16,
                             context={"cid": image.cid}, images=[image])
    recipient = Recipient(email="ann@example.org", name="Ann",
                          fields={"email": "ann@example.org", "name": "Ann"})

    def undated(data: bytes) -> bytes:
        data = re.sub(rb"\r\nDate: [^\r]*", b"", data)
        return re.sub(rb"={15}\d+==", b"=boundary=", data)  # random per serialisation

    fast = factory.build_bytes(recipient)
    assert undated(fast) == undated(factory.build(recipient).as_bytes())
    msg = email.message_from_bytes(fast, policy=email.policy.default)
    [part] = [p for p in msg.walk() if p.get_content_type() == "image/jpeg"]
    assert part.get_content() == image.data and part["Content-ID"] == f"<{image.cid}>"
    assert len(list(msg.iter_attachments())) == (1 if with_pdf else 0)


def test_an_issue_without_a_cover_sends_no_image(issue, tmp_path):
    folder = tmp_path / "nocover"
    shutil.copytree(issue.folder, folder)
    manifest = folder / "issue.yaml"
    text = manifest.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^cover:\n(?:  .*\n)+", "", text)
    assert n == 1
    manifest.write_text(text, encoding="utf-8")
    issue.folder = folder
    result = run_send(issue, issue.recipients([("ann@example.org", "Ann")]), "--dry-run",
                      str(tmp_path / "eml"))
    assert result.exit_code == 0, result.output
    [eml] = (tmp_path / "eml").glob("*.eml")
    msg = parsed(eml)
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
        "application/pdf"]
    html_body = msg.get_body(("html",)).get_content()
    assert "cid:" not in html_body and "<img" not in html_body
    assert "Small News" in words_of(html_body)
