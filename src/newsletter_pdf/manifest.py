"""Stage 1 — the issue manifest (``issue.yaml``): typed, frozen, validated at load.

Every class below is one mapping of the manifest; each field's ``doc`` is the reference
documentation (``README.md`` shows a complete commented example). :func:`load_manifest`
reports every problem at once, located by file, line, column and key path.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from .errors import Problems, UsageError
from .i18n import ENGLISH_MONTHS, period_quarter, quarter_period
from .language import LANG_TAG
from .schema import FileRef, Reader, Where, compose_yaml, field

MANIFEST_NAME = "issue.yaml"
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
# A file-name stem: nothing that could name a folder or another file (no '/', '..', dots).
SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,78}[A-Za-z0-9])?$")
# CSS object-position with one or two lengths/percentages/keywords: it is written into a
# style attribute, so nothing else may get through.
_POSITION = r"(?:-?\d{1,4}(?:\.\d{1,3})?(?:%|mm|cm|px|pt|in)?|left|right|top|bottom|center)"
FOCUS = re.compile(rf"^{_POSITION}(?: {_POSITION})?$")
# A web address a message links to: http(s), a host, and nothing a URL cannot hold
# (spaces, quotes, angle brackets, backslashes) — it goes into an href and a text body.
WEB_URL = re.compile(r"^https?://[^\s/?#<>\"'`\\]+(?:[/?#][^\s<>\"'`\\]*)?$", re.I)


@dataclass(frozen=True, kw_only=True)
class Colours:
    """Brand colours as #RRGGBB; each becomes a CSS custom property (--brand-…)."""

    primary: str = field("main brand colour: masthead, headlines, rules")
    accent: str = field("second colour: kickers, pull quotes, highlights")
    tint: str = field("pale background of boxes and the back page panels")
    ink: str = field("body text colour (keep it black for print)")


@dataclass(frozen=True, kw_only=True)
class Newsletter:
    """The newsletter's identity, the same every issue."""

    title: str = field("masthead title, e.g. 'IOM Iraq Newsletter'", required=True)
    organisation: str = field("publishing organisation; the PDF's author", required=True)
    tagline: str = field("short line under the masthead")
    slug: str = field("file-name stem; default: the title in lower case with dashes")
    logo: FileRef | None = field("logo (SVG or PNG) for light backgrounds")
    logo_on_dark: FileRef | None = field("logo variant for the cover's dark masthead band")
    colours: Colours | None = field("brand colours overriding the layout's defaults")
    url: str = field("the organisation's web address")


@dataclass(frozen=True, kw_only=True)
class IssueInfo:
    """This issue: numbering, date, language and paper."""

    date: dt.date = field("publication date, YYYY-MM-DD", required=True)
    period: str = field("period covered, e.g. 'January – March 2011' (default: the date's "
                        "quarter, with the layout's month names for the issue's language); "
                        "its first month and year name the quarter in the file names "
                        "(…-2011-q1-print.pdf), else the date does")
    number: int | None = field("issue number")
    volume: int | None = field("volume number")
    language: str = field("BCP 47 language tag: drives hyphenation, direction, the fixed "
                          "words and the PDF /Lang", "en")
    dir: Literal["rtl", "ltr"] | None = field("writing direction of the whole issue, rtl or "
                                              "ltr (default: the language's)")
    page_size: Literal["A4", "Letter"] = field("paper size: A4 or Letter", "A4")
    pages: int | None = field("page budget: the number of pages the issue must fill, cover and "
                              "back page included (default: the nearest multiple of 4 the "
                              "layout can reach)")
    where: Where | None = None


@dataclass(frozen=True, kw_only=True)
class Teaser:
    """A cover teaser pointing at an article (or just the article's id)."""

    SCALAR_FIELD: ClassVar[str] = "article"
    article: str = field("id of the article it points to", required=True)
    text: str = field("teaser text; default: the article's deck")
    where: Where | None = None


@dataclass(frozen=True, kw_only=True)
class Cover:
    """The cover page: full-bleed art, caption and teasers."""

    image: FileRef = field("cover photo or artwork, filling the page edge to edge",
                           required=True)
    caption: str = field("cover caption")
    credit: str = field("photo credit, e.g. 'Photo: IOM Iraq'")
    alt: str = field("alternative text describing the image")
    focus: str = field("which part of the art to keep when cropping (CSS object-position)",
                       "50% 50%")
    teasers: list[Teaser] = field("articles to feature on the cover", [])


@dataclass(frozen=True, kw_only=True)
class Contents:
    """The 'In this issue' list."""

    title: str = field("heading of the contents list (default: the layout's words for "
                       "'In this issue' in the issue's language)")
    place: Literal["cover", "page-2"] = field("where it goes: cover (beside the teasers) or "
                                              "page-2 (above the first article; the teasers "
                                              "then take the cover's whole band)", "cover")


@dataclass(frozen=True, kw_only=True)
class Photo:
    """A photo with its caption, placed in an article."""

    SCALAR_FIELD: ClassVar[str] = "file"
    file: FileRef = field("image file (JPEG, PNG or SVG)", required=True)
    caption: str = field("caption printed under the photo")
    credit: str = field("credit, e.g. 'Photo: Jane Doe / IOM'")
    alt: str = field("alternative text for screen readers")
    placement: Literal["top", "span", "column"] = field(
        "top (lead photo under the headline), span (across both columns) or column", "column")
    after: int | None = field("put it after this paragraph of the article (1 = first)")
    where: Where | None = None


@dataclass(frozen=True, kw_only=True)
class PullQuote:
    """A short quotation set large in the column (or just its text)."""

    SCALAR_FIELD: ClassVar[str] = "text"
    text: str = field("the quotation", required=True)
    attribution: str = field("who said it")
    after: int | None = field("put it after this paragraph (default: about a third in)")
    spare: bool = field("keep it for a short page: set only where the layout needs to fill "
                        "a page or column (default: always set)", False)


@dataclass(frozen=True, kw_only=True)
class Signature:
    """The signature block closing a letter."""

    closing: str = field("complimentary close, e.g. 'Sincerely yours,'")
    name: str = field("signatory's name", required=True)
    role: str = field("signatory's role")


@dataclass(frozen=True, kw_only=True)
class ArticleSpec:
    """One article of the issue, in reading order."""

    SCALAR_FIELD: ClassVar[str] = "file"
    file: FileRef = field("Markdown file (CommonMark, optional YAML front matter)",
                          required=True)
    id: str = field("short name used by teasers and boxes; default from the file name")
    kind: Literal["feature", "standard", "letter", "brief", "box"] = field(
        "feature, standard, letter, brief or box", "standard")
    title: str = field("headline (overrides the front matter)")
    kicker: str = field("small label above the headline, e.g. 'Feature'")
    deck: str = field("standfirst under the headline")
    byline: str = field("byline, e.g. 'By Jane Doe'")
    photos: list[Photo] = field("photos of this article", [])
    pull_quotes: list[PullQuote] = field("pull quotes", [])
    signature: Signature | None = field("signature block (letters)")
    within: str = field("boxes: id of the article this box sits inside")
    after: int | None = field("boxes: paragraph of the host article it follows")
    span: bool = field("boxes: run across both columns instead of one", False)
    new_page: bool | None = field("start on a new page (default: features and letters do)")
    language: str = field("BCP 47 language tag of this article, e.g. 'ar' (default: the "
                          "issue's language)")
    dir: Literal["rtl", "ltr"] | None = field("writing direction, rtl or ltr (default: the "
                                              "language's)")
    where: Where | None = None
    #: Not a key: the images the article's text shows (Markdown or allowed raw HTML), each
    #: with where it is, found by the check (articles.with_article_images) so that every
    #: stage that prepares images prepares them too.
    text_images: tuple = ()


@dataclass(frozen=True, kw_only=True)
class Section:
    """A titled block of back-page text, from a Markdown file or inline."""

    title: str = field("heading")
    file: FileRef | None = field("Markdown file with the text; a paragraph of images "
                                 "only, ![Name](logos/x.png) each, is a row of logos")
    text: str = field("the text itself (Markdown), instead of a file")
    where: Where | None = None


@dataclass(frozen=True, kw_only=True)
class Person:
    """A named contact."""

    name: str = field("full name", required=True)
    role: str = field("role or title")
    email: str = field("email address")
    phone: str = field("phone number")


@dataclass(frozen=True, kw_only=True)
class Detail:
    """One labelled contact detail, e.g. 'Mission phone: +962 …'."""

    label: str = field("label, e.g. 'Mission phone'", required=True)
    value: str = field("phone, fax, email or web address", required=True)


@dataclass(frozen=True, kw_only=True)
class Contact:
    """The back page's contact block."""

    title: str = field("heading (default: the layout's words for 'Contact us')")
    people: list[Person] = field("people to contact", [])
    details: list[Detail] = field("phone, fax, email and web lines", [])
    address: str = field("postal address (line breaks kept)")


@dataclass(frozen=True, kw_only=True)
class Credit:
    """Who made the issue."""

    role: str = field("what they did, e.g. 'Edited by'", required=True)
    name: str = field("their name", required=True)
    title: str = field("their job title")
    email: str = field("their email")


@dataclass(frozen=True, kw_only=True)
class BackPage:
    """The back page: about us, supporters, contact and credits."""

    sections: list[Section] = field("titled text blocks (mission, supporters…)", [])
    contact: Contact | None = field("contact block")
    credits: list[Credit] = field("editor, designer, photographers", [])


@dataclass(frozen=True, kw_only=True)
class Footer:
    """The running footer of inside pages."""

    contact_line: str = field("short contact line printed on every inside page")


@dataclass(frozen=True, kw_only=True)
class PrintSettings:
    """The print-shop edition (PDF/X-4, CMYK, bleed)."""

    bleed_mm: float | None = field(
        "bleed on every edge, in mm (default: 3 mm; 3.175 mm = 1/8 in on Letter paper)")
    crop_marks: bool = field("draw crop marks and a slug line outside the bleed", False)
    icc_profile: FileRef | None = field(
        "your print shop's CMYK ICC profile (default: the built-in FOGRA39 coated)")
    output_condition: str = field("printing condition named in the OutputIntent", "FOGRA39")
    pad_to_multiple: int = field("pad the page count to a multiple of this (0: no padding)", 4)
    min_ppi: int = field("photos whose original prints below this get a warning (a "
                         "warning even with --strict)", 300)
    max_ppi: int = field("photos above this are downsampled to min_ppi … (saves size)", 450)
    error_ppi: int = field("photos below this fail the print preflight (an error with "
                           "--strict)", 150)


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    """The email edition (small, sRGB, accessible)."""

    max_mb: float = field("size budget in MB: over it is a warning (an error with --strict)",
                          3.0)
    ppi: int = field("photos are downsampled to this effective resolution", 150)
    jpeg_quality: int = field("JPEG quality of re-encoded photos (1–95)", 80)


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """Sending the email edition (`newsletter send`)."""

    from_address: str = field("sender address, e.g. newsletter@example.org", required=True)
    from_name: str = field("sender name shown to recipients")
    reply_to: str = field("address replies go to")
    subject: str = field("subject template (Jinja2: {{ name }}, {{ newsletter }}, "
                         "{{ period }} and any CSV column)")
    unsubscribe_mailto: str = field("address for List-Unsubscribe (mailto)")
    unsubscribe_url: str = field("https URL for List-Unsubscribe (one-click)")
    attachment_limit_mb: float = field("a PDF larger than this is linked (with a web_url or "
                                       "pdf_url) or refused", 10.0)
    attach: bool = field("attach the PDF (false: link it; needs web_url or pdf_url)", True)
    web_url: str = field("http(s) address of the issue's web edition: the message links "
                         "to it ('Read it online')")
    pdf_url: str = field("http(s) address of the email PDF when it is not attached "
                         "(default: web_url's folder + the PDF's file name)")
    rate_per_minute: int = field("at most this many messages a minute (0: no limit)", 0)


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """The whole issue manifest."""

    newsletter: Newsletter = field("the newsletter's identity", required=True)
    issue: IssueInfo = field("this issue's number, date and language", required=True)
    articles: list[ArticleSpec] = field("the articles in reading order", required=True)
    cover: Cover | None = field("the cover page")
    contents: Contents | None = field("the contents list")
    back_page: BackPage | None = field("the back page")
    footer: Footer | None = field("the running footer")
    layout: str = field("layout name (a folder under layouts/)", "newsletter")
    print: PrintSettings | None = field("print-shop edition settings")
    email: EmailSettings | None = field("email edition settings")
    distribution: Distribution | None = field("email distribution settings")
    words: dict[str, str] = field("the layout's fixed words for this issue, overriding its "
                                  "table for the issue's language (e.g. notes: Jottings)", {})
    path: Path | None = None  # set by the loader: the manifest file
    locations: dict | None = None  # set by the loader: key path -> Where of its value

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def issue_label(self) -> str:
        """'Issue 1 · January – March 2011' style line."""
        parts = []
        if self.issue.volume is not None:
            parts.append(f"Volume {self.issue.volume}")
        if self.issue.number is not None:
            parts.append(f"Issue {self.issue.number}")
        parts.append(self.issue.period or quarter_period(self.issue.date, ENGLISH_MONTHS))
        return " · ".join(parts)

    @property
    def slug(self) -> str:
        """File-name stem, e.g. ``iom-iraq-newsletter-2011-q1``."""
        base = self.newsletter.slug or slugify(self.newsletter.title)
        # The quarter the issue covers, as its period says ('July – September 2026' is
        # 2026-q3 though the issue is dated 1 October), else its date's.
        year, quarter = period_quarter(self.issue.period or "", self.issue.date)
        return f"{base}-{year}-q{quarter}"


def slugify(text: str, limit: int = 60) -> str:
    """A file-name stem from a title: ASCII letters, digits and dashes, at most ``limit``
    characters (cut at a dash; a long title must not make a name the disk refuses)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[:limit + 1]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut[:limit]).strip("-")
    return slug or "newsletter"


def find_manifest(target: Path) -> Path:
    """Accept an issue folder or its manifest path."""
    target = Path(target)
    if target.is_dir():
        target = target / MANIFEST_NAME
    if not target.is_file():
        raise UsageError(f"no issue manifest at {target}; give an issue folder containing "
                         f"{MANIFEST_NAME} or the manifest's path")
    return target


def load_manifest(target: Path, problems: Problems) -> Manifest | None:
    """Read and validate a manifest; problems go to ``problems`` (None if unusable)."""
    path = find_manifest(target).resolve()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.error(f"cannot read the manifest: {exc.strerror}", file=path)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.error("the manifest is not UTF-8 text; save it as UTF-8", file=path, line=line)
        return None
    node = compose_yaml(text, path, problems)
    if node is None:
        if not problems.errors:
            problems.error("the manifest is empty; start from the sample in issues/2011-q1",
                           file=path)
        return None
    reader = Reader(path, path.parent, problems)
    manifest = reader.read_dataclass(Manifest, node, "")
    if manifest is None:
        return None
    manifest = _replace(manifest, path=path, locations=reader.locations)
    if not reader.dropped:  # cross-references to a dropped entry would only mislead
        _check_semantics(manifest, reader, node)
    return manifest


def _replace(obj, **changes):
    import dataclasses
    return dataclasses.replace(obj, **changes)


def article_id(spec: ArticleSpec) -> str:
    """An article's id: given, or its file name without a leading number."""
    if spec.id:
        return spec.id
    return re.sub(r"^\d+[-_ ]*", "", Path(spec.file).stem) or Path(spec.file).stem


def _check_semantics(m: Manifest, reader: Reader, root) -> None:
    """Cross-field checks the types cannot express."""
    p = reader.problems
    lang = m.issue.language
    if not LANG_TAG.match(lang):
        p.error(f"{lang!r} is not a BCP 47 language tag; write e.g. 'en', 'en-GB', 'fr', 'ar'",
                **_at((m.locations or {}).get("issue.language", m.issue.where), "issue.language"))
    if m.newsletter.colours:
        for name in ("primary", "accent", "tint", "ink"):
            value = getattr(m.newsletter.colours, name)
            if value is not None and not HEX_COLOUR.match(value):
                p.error(f"{value!r} is not a colour; write it as #RRGGBB, e.g. '#0b4f8a'",
                        file=m.path, key=f"newsletter.colours.{name}")
    slug = m.newsletter.slug
    if slug is not None and not SLUG.match(slug):
        p.error(f"{slug!r} is not a file-name stem; use only letters, digits and dashes "
                "(e.g. 'iom-iraq-newsletter'): the PDFs are named after it",
                **_at((m.locations or {}).get("newsletter.slug"), "newsletter.slug"))
    budget = m.issue.pages
    if budget is not None and not 2 <= budget <= 400:
        p.error(f"a page budget of {budget} pages is not possible; write a page count from 2 "
                "to 400, e.g. 8, or leave 'pages' out",
                **_at((m.locations or {}).get("issue.pages", m.issue.where), "issue.pages"))
    if m.cover and m.cover.focus is not None and not FOCUS.match(m.cover.focus.strip()):
        p.error(f"{m.cover.focus!r} is not a position; write one or two percentages or "
                "keywords, e.g. '50% 30%' or 'center top'",
                **_at((m.locations or {}).get("cover.focus"), "cover.focus"))
    if m.distribution:
        for name in ("web_url", "pdf_url"):
            value = getattr(m.distribution, name)
            if value is not None and not WEB_URL.match(value):
                p.error(f"{value!r} is not a web address; write it in full with http:// or "
                        "https://, e.g. 'https://example.org/newsletter/2011-q1/' (no spaces, "
                        "quotes or angle brackets)",
                        **_at((m.locations or {}).get(f"distribution.{name}"),
                              f"distribution.{name}"))
    ids: dict[str, int] = {}
    for i, spec in enumerate(m.articles):
        aid = article_id(spec)
        if aid in ids:
            p.error(f"two articles have the id {aid!r} (also articles[{ids[aid]}]); give one "
                    "of them an 'id:'", **_at(spec.where, f"articles[{i}].id"))
        ids[aid] = i
        if spec.language is not None and not LANG_TAG.match(spec.language):
            p.error(f"{spec.language!r} is not a BCP 47 language tag; write e.g. 'en', "
                    "'ar', 'ckb', 'fr-CA'",
                    **_at((m.locations or {}).get(f"articles[{i}].language", spec.where),
                          f"articles[{i}].language"))
        if Path(spec.file).suffix.lower() not in (".md", ".markdown", ".txt"):
            p.error("articles must be Markdown files (.md)",
                    **_at(spec.where, f"articles[{i}].file"))
    if not m.articles:
        p.error("an issue needs at least one article", file=m.path, key="articles")
    for i, spec in enumerate(m.articles):
        if spec.within is not None:
            if spec.kind != "box":
                p.error("only boxes (kind: box) can sit within another article",
                        **_at(spec.where, f"articles[{i}].within"))
            elif spec.within not in ids:
                p.error(f"no article has the id {spec.within!r}"
                        + _suggest(spec.within, list(ids)),
                        **_at(spec.where, f"articles[{i}].within"))
            elif m.articles[ids[spec.within]].kind == "box":
                p.error("a box cannot sit inside another box",
                        **_at(spec.where, f"articles[{i}].within"))
        if spec.signature is not None and spec.kind != "letter":
            p.warn("a signature is only printed on letters (kind: letter)",
                   **_at(spec.where, f"articles[{i}].signature"))
    if m.cover:
        for i, teaser in enumerate(m.cover.teasers):
            if teaser.article not in ids:
                p.error(f"no article has the id {teaser.article!r}"
                        + _suggest(teaser.article, list(ids)),
                        **_at(teaser.where, f"cover.teasers[{i}].article"))
    if m.back_page:
        for i, section in enumerate(m.back_page.sections):
            if (section.file is None) == (section.text is None):
                p.error("give either 'file' or 'text'",
                        **_at(section.where, f"back_page.sections[{i}]"))


def _at(where: Where | None, key: str) -> dict:
    if where is None:
        return {"key": key}
    return {"file": where.file, "line": where.line, "column": where.column, "key": key}


def _suggest(name: str, choices: list[str]) -> str:
    import difflib
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known ids: {', '.join(choices)}"
