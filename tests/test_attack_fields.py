"""Every text field of the manifest and of the front matter, fed arbitrary strings (issue 8).

Control characters, RFC 2047 encoded words, Unicode separators, HTML, CSS-breaking text and
template syntax go into *every* field at once. The composed HTML (parsed back with an HTML
parser) must hold no element, style or link the layout did not write; a few full builds
check the PDF itself with pikepdf.
"""

from __future__ import annotations

import collections
import datetime
import html.parser
import json
import shutil

import pikepdf
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter_pdf.errors import NewsletterError, Problems

from .conftest import SAMPLE
from .test_hostile_support import build, pdfs, problems_of

#: Elements a short field may add: inline Markdown's (and --allow-html's inline subset).
INLINE = {"em", "strong", "code", "a", "s", "del", "br", "b", "i", "sub", "sup", "small",
          "span", "bdi", "wbr"}
SAFE_LINK = ("http:", "https:", "mailto:", "tel:", "#")
NASTY = [
    '<a rel="attachment" href="recipients.csv">list</a>', "<script>x</script>",
    "</p><div style='width:9m'>", "{{ 7*7 }}{% raw %}", "[x](javascript:alert(1))",
    "<a href=file:///etc/passwd>f</a>", "\u2028\u2029\t\u00a0\u200b", "=?utf-8?q?=0D=0A?=X",
    "*em* `code` [ok](https://example.org)", "'; } @page { size: 9m } x { '",
    "\"><img src=x onerror=alert(1)>", "<svg><use href='file:///etc/passwd'/></svg>",
    "50%; width: 5000mm", "![i](photos/road.jpg)", "<<a>b</a>>", "&lt;script&gt;",
    "www.example.org\\", "mailto:a@b.org?body=x", "\u202eevil\u202c", "# Heading\n\n- list",
]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               max_size=40) | st.sampled_from(NASTY)


def manifest_with(text: str, body: str) -> dict:
    """The small issue's manifest with ``text`` in every short text field it has, and
    ``body`` in the back-page section's Markdown text (a body field: blocks allowed)."""
    return {
        "newsletter": {"title": text, "organisation": text, "tagline": text, "url": text},
        "issue": {"date": datetime.date(2024, 4, 15), "period": text},
        "cover": {"image": "photos/road.jpg", "caption": text, "credit": text, "alt": text,
                  "teasers": [{"article": "news", "text": text}]},
        "contents": {"title": text},
        "articles": [{
            "file": "articles/news.md", "id": "news", "kind": "letter", "kicker": text,
            "deck": text, "byline": text,
            "photos": [{"file": "photos/road.jpg", "caption": text, "credit": text,
                        "alt": text}],
            "pull_quotes": [{"text": text, "attribution": text}],
        }],
        "back_page": {
            "sections": [{"title": text, "text": body}],
            "contact": {"title": text, "address": text,
                        "people": [{"name": text, "role": text, "email": text,
                                    "phone": text}],
                        "details": [{"label": text, "value": text}]},
            "credits": [{"role": text, "name": text, "title": text, "email": text}],
        },
        "footer": {"contact_line": text},
    }


def article_with(text: str) -> str:
    """An article whose front matter carries ``text`` in every field it can hold."""
    front = {"title": text, "signature": {"closing": text, "name": text, "role": text}}
    return ("---\n" + json.dumps(front) + "\n---\n\nA first paragraph of small news.\n\n"
            "A second paragraph.\n")


def write_issue(folder, text: str, body: str | None = None) -> None:
    # Strings YAML cannot carry (a NUL byte, a lone control character) get an escape: the
    # point is what reaches the layout, not PyYAML's own refusal.
    (folder / "issue.yaml").write_text(yaml.safe_dump(
        manifest_with(text, text if body is None else body), allow_unicode=False),
                                       encoding="utf-8")
    (folder / "articles" / "news.md").write_text(article_with(text), encoding="utf-8")


class Elements(html.parser.HTMLParser):
    """How many of each element, the style attributes and the link targets of a document."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: collections.Counter = collections.Counter()
        self.styles: set[str] = set()
        self.hrefs: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        for name, value in attrs:
            if name == "style":
                self.styles.add(value or "")
            if name == "href":
                self.hrefs.add(value or "")


@pytest.fixture(scope="module")
def composer(tmp_path_factory):
    """Load, read and compose the small issue with ``text`` in every field: the composed
    HTML, or None when validation refused the text (with a located error, no traceback)."""
    from newsletter_pdf.articles import read_articles
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.editions import make_edition
    from newsletter_pdf.layouts import load_layout
    from newsletter_pdf.manifest import load_manifest

    folder = tmp_path_factory.mktemp("fields")
    (folder / "articles").mkdir()
    (folder / "photos").mkdir()
    shutil.copy(SAMPLE / "photos" / "road-storm.jpg", folder / "photos" / "road.jpg")
    write_issue(folder, "Plain words")
    problems = Problems()
    manifest = load_manifest(folder, problems)
    layout = load_layout(manifest, problems)
    edition = make_edition("email", manifest, layout, folder / "build", problems)

    def compose(text: str, allow_html: bool = False, body: str | None = None) -> str | None:
        write_issue(folder, text, body)
        found = Problems()
        try:
            manifest = load_manifest(folder, found)
            if manifest is None or found.errors:
                return None
            articles = read_articles(manifest, found, allow_html=allow_html)
            if found.errors:
                return None
            return compose_html(manifest, articles, layout, found, edition,
                                allow_html=allow_html)
        except NewsletterError:  # a clear, located refusal is a fine answer
            return None

    return compose


def assert_only_the_layouts_elements(plain: Elements, hostile: Elements) -> None:
    for tag, count in hostile.tags.items():
        if tag not in INLINE:  # the layout's own elements: never more of them
            assert count <= plain.tags[tag], (tag, count, plain.tags[tag])
    assert hostile.styles <= plain.styles, hostile.styles - plain.styles
    for href in hostile.hrefs - plain.hrefs:  # the layout's own: stylesheets
        assert href.strip().lower().startswith(SAFE_LINK), href


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, allow_html=st.booleans())
def test_no_field_of_manifest_or_front_matter_adds_an_element(composer, text, allow_html):
    # The back-page section's text is Markdown with blocks: the same in both, so that
    # what differs is what the short fields added.
    plain = Elements(composer("Plain words", allow_html, body=text) or "")
    composed = composer(text, allow_html)
    if composed is not None:
        assert_only_the_layouts_elements(plain, Elements(composed))


@pytest.mark.parametrize("text", NASTY)
def test_each_nasty_string_in_every_field(composer, text):
    """The hand-picked attacks, every one, in every field (not left to chance)."""
    plain = Elements(composer("Plain words", body=text))
    composed = composer(text)
    assert composed is not None, "a validation refused it: the test would prove nothing"
    assert_only_the_layouts_elements(plain, Elements(composed))


@pytest.mark.parametrize("allow_html", [False, True])
def test_a_full_build_with_every_field_hostile(make_issue, tmp_path, allow_html):
    """The real PDF: no attachment, no link outside http/https/mailto (tel: digits), A4."""
    text = " ".join(NASTY[:13])
    folder = make_issue(files={"recipients.csv": "email,name\nann@example.org,Ann\n"})
    write_issue(folder, text)
    # The back page holds one hostile contact and one hostile credit: with every field of
    # it this long, the contact panel would leave no room for the sections above it (an
    # error of its own, tested in test_back_page.py) and no PDF would be written to look
    # at; every back-page field is hostile in the composition tests above.
    manifest = yaml.safe_load((folder / "issue.yaml").read_text(encoding="utf-8"))
    back = manifest["back_page"]
    back["sections"] = [{"title": "About us", "text": text}]
    back["contact"] = {"title": "Contact", "people": [{"name": text, "email": text}]}
    back["credits"] = [{"role": "Editor", "name": text}]
    (folder / "issue.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    out = tmp_path / "out"
    result = build(folder, out, preflight=True, allow_html=allow_html)
    [pdf_path] = pdfs(out)
    with pikepdf.open(pdf_path) as pdf:
        assert len(pdf.attachments) == 0
        uris = [str(a.A.URI) for p in pdf.pages for a in p.get("/Annots", [])
                if "/A" in a and "/URI" in a.A]
        assert all(u.startswith(("http:", "https:", "mailto:", "tel:")) for u in uris), uris
        assert {str(a.get("/Subtype")) for p in pdf.pages for a in p.get("/Annots", [])} \
            <= {"/Link"}
        assert {(round(float(p.MediaBox[2])), round(float(p.MediaBox[3])))
                for p in pdf.pages} == {(595, 842)}
    assert result.outputs["email"].preflight.ok, result.outputs["email"].preflight.failures


@pytest.mark.parametrize("text,shown", [("Bob\x00", "U+0000"), ("\x1b[31mred", "U+001B"),
                                        ("\ud800", "U+D800"), ("a\x85b", "U+0085")])
def test_invisible_characters_are_located_errors(make_issue, text, shown):
    """A YAML escape can write a control character or a lone surrogate into any field:
    refused where it is written (no PDF, HTML or mail header can carry one)."""
    folder = make_issue()
    write_issue(folder, "Plain words")
    manifest = (folder / "issue.yaml").read_text()
    (folder / "issue.yaml").write_text(manifest.replace(
        "tagline: Plain words", "tagline: " + json.dumps(text)))
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: " + json.dumps(text) + "\n---\n\nBody.\n")
    message = f"the text holds the invisible character {shown} (at character "
    found = problems_of(folder)
    assert any(p.startswith("issue.yaml:") and ": newsletter.tagline: " + message in p
               for p in found), found
    assert any(p.startswith("articles/news.md:2:8: title: " + message) for p in found), found


def test_a_huge_word_in_a_short_field_is_refused_not_clipped(make_issue):
    """Like an article's words: a word over 300 characters in any field (a pasted data:
    URL in a deck) is a located error — WeasyPrint would clip it or take minutes over it —
    while a long address behind a short Markdown link is fine."""
    word = "Klmnopqrst" * 400
    long_link = "[the report](https://example.org/" + "a" * 400 + ")"
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\ndeck: Deck " + word +
                               " end\nkicker: '" + long_link + "'\n---\n\nBody.\n"})
    [problem] = problems_of(folder)
    assert problem == ("articles/news.md:3:7: deck: a word of 4,000 characters "
                       "(KlmnopqrstKlmnopqrstKlmnopqrstKlmnopqrst…) cannot be laid out (at "
                       "most 300); break it up, or link a long address with [short text](url)")
