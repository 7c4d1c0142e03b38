"""Stage 2 — articles: Markdown files (with optional YAML front matter) to HTML blocks.

Articles are CommonMark with tables, strikethrough and smart punctuation. The body is
kept as a list of top-level blocks (paragraphs, subheads, lists, tables…) so the layout
can put photos, pull quotes and boxes *between* blocks, where each must sit in a
multi-column flow (WeasyPrint only spans direct children of the column container).

Raw HTML is not trusted. By default it is shown as text, with a warning naming the file
and line. With the explicit opt-in (``allow_html=True``, the CLI's ``--allow-html``) a safe
subset passes through :func:`sanitise_html` (the ``nh3`` sanitiser, an allow-list): text
formatting, lists, tables, links and images — never ``link``, ``object``, ``embed``,
``iframe``, ``script``, ``style``, ``base``, ``meta``, SVG or MathML, event handlers, or
``style=`` attributes that could load anything (``url()``, ``@import``, CSS escapes).

Images in articles (Markdown ``![alt](path)`` and, when allowed, ``<img src>``) are
resolved relative to the article file and must stay inside the issue folder (after ``..``
and symlinks); they are opened and checked like every other photo.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .errors import Problems
from .language import LANG_TAG, direction
from .manifest import ArticleSpec, Manifest, Photo, PullQuote, Signature, article_id
from .schema import MAX_WORD, Reader, Where, compose_yaml, confine, field, issue_root_of

MAX_ARTICLE_BYTES = 20 * 1024 * 1024  # ~ 3,000 pages of text

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)

# Typographic quotes per language (markdown-it's smartquotes: “ ” ‘ ’ by default).
QUOTES = {
    "de": "„“‚‘",
    "fr": ["«\u202f", "\u202f»", "‹\u202f", "\u202f›"],
    "es": "«»“”",
    "it": "«»“”",
    "ru": "«»„“",
}


@dataclass(frozen=True, kw_only=True)
class FrontMatter:
    """Keys an article file may carry in its YAML front matter."""

    title: str = field("headline")
    kicker: str = field("small label above the headline")
    deck: str = field("standfirst")
    byline: str = field("byline")
    photos: list[Photo] = field("photos (paths relative to the article file)", [])
    pull_quotes: list[PullQuote] = field("pull quotes", [])
    signature: Signature | None = field("signature block (letters)")
    language: str = field("BCP 47 language tag of this article, e.g. 'ar'")
    dir: Literal["rtl", "ltr"] | None = field("writing direction (default: the language's)")


@dataclass(frozen=True)
class Block:
    """One top-level block of an article body, already rendered to HTML."""

    html: str
    tag: str  # p, h2, h3, ul, ol, table, blockquote, hr, pre…
    line: int  # 1-based line in the source file
    text: str  # plain text, for searching and word counts


@dataclass
class Article:
    """An article ready for the layout: the manifest and the file merged."""

    id: str
    kind: str
    title: str
    source: Path
    blocks: list[Block]
    kicker: str | None = None
    deck: str | None = None
    byline: str | None = None
    photos: list[Photo] = dc_field(default_factory=list)
    pull_quotes: list[PullQuote] = dc_field(default_factory=list)
    signature: Signature | None = None
    within: str | None = None
    after: int | None = None
    span: bool = False
    new_page: bool = False
    boxes: list[Article] = dc_field(default_factory=list)
    language: str = "en"  # BCP 47
    direction: str = "ltr"  # rtl | ltr
    own_language: bool = False  # said by the article itself (else a box takes its host's)

    @property
    def paragraph_count(self) -> int:
        return sum(1 for b in self.blocks if b.tag == "p")


#: Lists and quotes may nest this deep; deeper is refused with its line, never dropped.
MAX_DEPTH = 12
PARSE_NESTING = 400


def check_text_shape(tokens: list[Token], first_line: int, path: Path,
                     problems: Problems) -> bool:
    """Refuse, with the line, what the layout could only drop or clip: nesting deeper
    than :data:`MAX_DEPTH` and words longer than :data:`MAX_WORD` characters."""
    ok = True
    for token in tokens:
        if token.nesting == 1 and token.level // 2 >= MAX_DEPTH and token.type in (
                "bullet_list_open", "ordered_list_open", "blockquote_open"):
            line = (token.map[0] if token.map else 0) + first_line
            problems.error(f"lists or quotes are nested more than {MAX_DEPTH} levels deep; "
                           "flatten them (nothing this deep can be laid out in a column)",
                           file=path, line=line)
            ok = False
            break
    for token in tokens:  # the words that are printed (a link's address is not)
        words = [w for child in token.children or [] if child.type in ("text", "code_inline")
                 for w in child.content.split()]
        if token.type in ("code_block", "fence"):
            words = token.content.split()
        longest = max(words, key=len, default="")
        if len(longest) > MAX_WORD:
            line = (token.map[0] if token.map else 0) + first_line
            problems.error(f"a word of {len(longest):,} characters ({longest[:40]}…) cannot be "
                           f"laid out (at most {MAX_WORD}); break it up, or link a long address "
                           "with [short text](url)", file=path, line=line)
            ok = False
    return ok


def markdown_parser(language: str = "en") -> MarkdownIt:
    """The CommonMark parser with tables, strikethrough, typographic punctuation and
    linkify (bare web and email addresses become links: clickable in the email edition)."""
    options = {"typographer": True, "html": True, "linkify": True}
    quotes = QUOTES.get(language.split("-")[0].lower())
    if quotes:
        options["quotes"] = quotes
    md = MarkdownIt("commonmark", options).enable(
        ["table", "strikethrough", "replacements", "smartquotes", "linkify"])
    # www.example.org → https:// (linkify-it would say http://); emails → mailto:
    md.validateLink = lambda url: not url.lower().startswith(("javascript:", "vbscript:",
                                                              "file:", "data:"))
    md.normalizeLink = _normalise_link(md.normalizeLink)
    # markdown-it stops parsing (silently dropping the rest of the file) past maxNesting;
    # parse deeper and refuse what is too deep ourselves, with its line (MAX_DEPTH).
    md.options["maxNesting"] = PARSE_NESTING
    # linkify-it knows only a few generic top-level domains; NGOs live on these too.
    md.linkify.tlds(["int", "ngo", "ong", "org", "info", "africa", "asia", "io", "app",
                     "dev", "eu", "global", "news", "online", "site"], True)
    return install_renderers(md)


#: Links a short field (title, caption, credit…) may carry.
INLINE_LINK_SCHEMES = ("http:", "https:", "mailto:")
#: What --allow-html lets through in a short field: inline markup only.
INLINE_TAGS = {"em", "strong", "b", "i", "code", "a", "s", "del", "br", "sub", "sup",
               "small", "span", "bdi"}


def inline_renderer(language: str = "en", allow_html: bool = False):
    """A function turning one short text field into safe inline HTML (:class:`Markup`).

    Every short field — titles, decks, kickers, captions, credits, pull quotes, teasers,
    signature, back-page fields — goes through this: inline Markdown only (emphasis, code,
    links), raw HTML shown as text, links only to http, https and mailto, no images. With
    ``allow_html`` the raw HTML is reduced to inline tags by the same sanitiser as articles.
    """
    import nh3
    from markupsafe import Markup

    md = markdown_parser(language)
    md.options["html"] = allow_html
    md.disable("image")
    md.validateLink = lambda url: url.strip().lower().startswith(INLINE_LINK_SCHEMES)

    def keep_link(tag: str, name: str, value: str) -> str | None:
        if name == "href":
            return value if value.strip().lower().startswith(INLINE_LINK_SCHEMES) else None
        return value

    def render(text: str | None) -> Markup | None:
        if not text:
            return None
        html_text = md.renderInline(str(text))
        if allow_html:
            html_text = nh3.clean(html_text, tags=INLINE_TAGS,
                                  attributes={"a": {"href"}, "span": {"lang", "dir"},
                                              "bdi": {"dir"}},
                                  attribute_filter=keep_link, link_rel=None,
                                  url_schemes={"http", "https", "mailto"},
                                  strip_comments=True)
        return Markup(breakable_addresses(html_text))

    return render


def _normalise_link(original):
    def normalise(url: str) -> str:
        if url.startswith("http://www.") and "://" not in url[7:]:
            url = "https://" + url[7:]
        return original(url)
    return normalise


def read_articles(manifest: Manifest, problems: Problems,
                  allow_html: bool = False) -> list[Article]:
    """Read every article of the manifest; boxes are attached to their host article.

    ``allow_html`` lets a sanitised subset of raw HTML through (default: escaped).
    """
    articles: list[Article] = []
    for index, spec in enumerate(manifest.articles):
        article = read_article(spec, index, None, problems, allow_html=allow_html,
                               root=manifest.folder, language=manifest.issue.language)
        if article is not None:
            articles.append(article)
    by_id = {a.id: a for a in articles}
    top: list[Article] = []
    for article in articles:
        host = by_id.get(article.within) if article.within else None
        if host is not None:
            if not article.own_language:  # a box is in its host article's language
                article.language, article.direction = host.language, host.direction
            host.boxes.append(article)
        else:
            top.append(article)
    return top


_LINK_TEXT = re.compile(r"(<a\b[^>]*>)([^<]+)(</a>)")
_ADDRESS = re.compile(r"://|^www\.|@|^[\w-]+(\.[\w-]+)+/", re.I)


def breakable_addresses(fragment: str) -> str:
    """Web and email addresses shown as link text may break only after '/', '.', '@' or
    '-', with no hyphen added: a ``<wbr>`` goes after each of those characters (the layout
    turns hyphenation off inside links), so a reader copying the address from paper never
    gets "www.ex-ample.org". An address reads left to right whatever the text around it:
    the link says ``dir="ltr"`` (isolated by the layout), so in Arabic text its pieces
    are not reordered right to left."""
    def soften(match: re.Match) -> str:
        text = match[2]
        if not _ADDRESS.search(text):
            return match[0]
        parts = re.split(r"(?<=[/.@-])(?=.)", text)
        opening = match[1] if " dir=" in match[1] else match[1][:-1] + ' dir="ltr">'
        return opening + "<wbr>".join(parts) + match[3]
    return _LINK_TEXT.sub(soften, fragment)


_ATX_TITLE = re.compile(r"^ {0,3}#[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RULE = re.compile(r"^ {0,3}=+[ \t]*$")


def leading_title(body: str, title: str | None) -> tuple[str, str | None]:
    """How authors write: an article that starts with ``# Its title`` (or the title
    underlined with ``===``). That heading is the article's title when neither the manifest
    nor the front matter gives one, and is never printed twice: it is taken out of the
    body (its lines left blank, so line numbers stay right) when it is the title. A first
    heading that differs from a given title stays in the text as a subhead."""
    lines = body.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return body, title
    match = _ATX_TITLE.match(lines[first])
    span = 1
    if match is None and first + 1 < len(lines) and _SETEXT_RULE.match(lines[first + 1]) \
            and not lines[first].startswith((" " * 4, "\t")):
        heading, span = lines[first].strip(), 2
    elif match is not None:
        heading = match["text"].strip()
    else:
        return body, title

    def same(a: str, b: str) -> bool:
        return " ".join(re.sub(r"[*_`]", "", a).split()).casefold() == \
            " ".join(re.sub(r"[*_`]", "", b).split()).casefold()

    if title and not same(title, heading):
        return body, title
    lines[first:first + span] = [""] * span
    return "\n".join(lines), title or heading


def read_article(spec: ArticleSpec, index: int, md: MarkdownIt | None, problems: Problems, *,
                 allow_html: bool = False, root: Path | None = None,
                 language: str = "en") -> Article | None:
    """Read one article file, merging its front matter under the manifest's values.

    ``language`` is the issue's; the manifest entry's, then the front matter's, win. With
    ``md`` None the parser is the one for the article's language (its quotation marks).
    """
    path = Path(spec.file)
    root = root if root is not None else issue_root_of(path)
    key = f"articles[{index}].file"
    text = read_text(path, problems, key=key)
    if text is None:
        return None
    before = len(problems.errors)
    fm, body, body_line = split_front_matter(text, path, problems, root=root)
    if len(problems.errors) > before:
        return None  # the front matter's own problems say it all
    if fm and fm.language is not None and not LANG_TAG.match(fm.language):
        line, column = _front_matter_key(text, "language")
        problems.error(f"{fm.language!r} is not a BCP 47 language tag; write e.g. 'en', 'ar', "
                       "'ckb', 'fr-CA'", file=path, line=line, column=column, key="language")
        return None
    language = spec.language or (fm.language if fm else None) or language
    explicit_dir = spec.dir or (fm.dir if fm else None)
    if md is None:
        md = markdown_parser(language)
    title = spec.title or (fm.title if fm else None)
    body, title = leading_title(body, title)
    blocks = render_blocks(md, body, body_line, path, problems, allow_html=allow_html,
                           root=root)
    if not blocks:
        problems.error("the article has no text; write its body below the front matter "
                       "or remove it from the manifest", file=path, line=body_line)
        return None
    if not title:
        problems.error("the article has no title; add 'title:' to its front matter or to "
                       "its entry in the manifest", file=path, line=1,
                       key=f"articles[{index}].title")
        return None
    new_page = spec.new_page if spec.new_page is not None else spec.kind in ("feature", "letter")
    return Article(
        id=article_id(spec), kind=spec.kind, title=title, source=path, blocks=blocks,
        kicker=spec.kicker or (fm.kicker if fm else None),
        deck=spec.deck or (fm.deck if fm else None),
        byline=spec.byline or (fm.byline if fm else None),
        photos=list(_manifest_photos(spec, path) or (fm.photos if fm else [])),
        pull_quotes=list(spec.pull_quotes or (fm.pull_quotes if fm else [])),
        signature=spec.signature or (fm.signature if fm else None),
        within=spec.within, after=spec.after, span=spec.span, new_page=new_page,
        language=language, direction=direction(language, explicit_dir),
        own_language=bool(spec.language or (fm and fm.language) or explicit_dir),
    )


def _front_matter_key(text: str, key: str) -> tuple[int, int]:
    """1-based line and column of a top-level front-matter key's value."""
    for number, line in enumerate(text.splitlines()[:200], start=1):
        found = re.match(rf"{key}\s*:\s*", line)
        if found:
            return number, found.end() + 1
    return 1, 1


def _manifest_photos(spec: ArticleSpec, path: Path) -> list[Photo]:
    """The photos the manifest entry itself lists: not those :func:`with_front_matter_photos`
    copied into it from this article's front matter (read afresh from the file, which the
    preview reads again when it is saved)."""
    return [p for p in spec.photos if not (p.where and p.where.file == path)]


def with_article_images(manifest: Manifest, articles: list[Article]) -> Manifest:
    """``manifest`` with what each article's file adds to its entry: its front-matter
    photos (an entry that lists photos keeps its own) and the images its text shows.
    Every stage that checks, prepares or places images reads the manifest's entries: an
    image given only in an article file would otherwise reach the PDFs unprepared (its
    RGB original in the print edition, full size in the email one, a path on the
    editor's disk in the web edition)."""
    read = {a.id: a for top in articles for a in (top, *top.boxes)}
    entries = []
    for spec in manifest.articles:
        article = read.get(article_id(spec))
        if article is not None:
            if article.photos and not spec.photos:
                spec = dataclasses.replace(spec, photos=list(article.photos))
            spec = dataclasses.replace(spec, text_images=text_images(article))
        entries.append(spec)
    return dataclasses.replace(manifest, articles=entries)


#: An image element whose source is a file (as the text's images are resolved): the
#: element's start, the file URL, the closing quote.
IMAGE_SOURCE = re.compile(r'(<img\b[^>]*?\bsrc=")(file:[^"]*)(")')


def image_file(source: str) -> str:
    """The local path of an image source as it stands in the HTML (``file:`` URL, escaped)."""
    from urllib.request import url2pathname

    return url2pathname(unquote(urlsplit(html.unescape(source)).path))


def text_images(article: Article) -> tuple[tuple[Path, Where], ...]:
    """The local image files ``article``'s text shows, in order, each once, with the line
    of the block that first shows it."""
    found: dict[Path, Where] = {}
    for block in article.blocks:
        for match in IMAGE_SOURCE.finditer(block.html):
            found.setdefault(Path(image_file(match[2])),
                             Where(file=article.source, line=block.line))
    return tuple(found.items())


# Files that are not text at all, recognised by their first bytes.
_NOT_TEXT = [
    (b"PK\x03\x04", "a Word (.docx) or other ZIP file"),
    (b"\xd0\xcf\x11\xe0", "an old Word (.doc) file"),
    (b"{\\rtf", "an RTF document"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
]


def read_text(path: Path, problems: Problems, key: str = "") -> str | None:
    """Read a UTF-8 text file; a wrong encoding is reported with its line."""
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            problems.error(f"{path.name} is {size / 2**20:.0f} MB; a text file over "
                           f"{MAX_ARTICLE_BYTES // 2**20} MB is not an article — is it the "
                           "right file?", file=path, key=key)
            return None
        raw = path.read_bytes()
    except OSError as exc:
        problems.error(f"cannot read {path.name}: {exc.strerror}; check it exists and is "
                       "readable", file=path, key=key)
        return None
    for magic, what in _NOT_TEXT:
        if raw.startswith(magic):
            problems.error(f"{path.name} is {what}, not Markdown text; save the article as "
                           "plain text (UTF-8) with a .md name", file=path, key=key)
            return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.error(f"{path.name} is UTF-16 text; re-save the file as UTF-8", file=path,
                       line=1, key=key)
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        problems.error(f"{path.name} contains NUL bytes: it is a binary file, not Markdown "
                       "text; save the article as plain text (UTF-8)", file=path, line=line,
                       key=key)
        return None
    try:
        return raw.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = "windows-1252" if max(raw) < 0xA0 or b"\x92" in raw or b"\x93" in raw \
            else "latin-1"
        problems.error(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); it looks like "
                       f"{guess}: re-save the file as UTF-8", file=path, line=line,
                       column=column)
        return None


def split_front_matter(text: str, path: Path, problems: Problems, root: Path | None = None):
    """Return (front matter or None, body, 1-based line where the body starts).

    Photo paths in the front matter are relative to the article file and must stay
    inside ``root`` (default: the issue folder holding the file).
    """
    match = FRONT_MATTER.match(text)
    if not match:
        return None, text, 1
    body_line = text[: match.end()].count("\n") + 1
    yaml_text = match.group(1) or ""
    node = compose_yaml(yaml_text, path, problems, line_offset=1)
    if node is None:
        return None, text[match.end():], body_line
    reader = Reader(path, path.parent, problems, line_offset=1,
                    root=root if root is not None else issue_root_of(path))
    fm = reader.read_dataclass(FrontMatter, node, "")
    return fm, text[match.end():], body_line


def render_blocks(md: MarkdownIt, body: str, first_line: int, path: Path,
                  problems: Problems, *, allow_html: bool = False,
                  root: Path | None = None, where: str = "articles",
                  image_url=None, html_images: bool = True) -> list[Block]:
    """Render Markdown to a list of top-level HTML blocks, each with its source line.

    Raw HTML is escaped (with a warning saying it is not allowed in ``where``) unless
    ``allow_html``, when each block is sanitised. Images are resolved relative to ``path``
    and confined to ``root`` (default: the issue folder holding ``path``); ``image_url``
    (a function of the image's file) gives the URL of a file's prepared copy. Without
    ``html_images``, raw HTML's ``<img>`` tags are left out (the caller says why).
    """
    root = root if root is not None else issue_root_of(path)
    try:
        tokens = md.parse(body)
    except RecursionError:
        problems.error("the text is nested too deeply (lists or quotes hundreds of levels "
                       "deep); flatten it", file=path, line=first_line)
        return []
    check_text_shape(tokens, first_line, path, problems)  # errors; the blocks still count
    if not allow_html:
        _neutralise_raw_html(tokens, first_line, path, problems, where)
    elif not html_images:
        _drop_html_images(tokens)
    prepared = _resolve_images(tokens, first_line, path, root, problems, image_url)
    _shift_headings(tokens)
    blocks: list[Block] = []
    start = 0
    depth = 0
    for i, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            chunk = tokens[start: i + 1]
            start = i + 1
            opener = chunk[0]
            tag = opener.tag or opener.type
            rendered = md.renderer.render(chunk, md.options, {})
            line = (opener.map[0] if opener.map else 0) + first_line
            if allow_html:
                rendered = sanitise_html(rendered, path, line, root, problems)
            # After the sanitiser, which would confine a prepared copy's address to the
            # issue folder and drop it. (File URLs are percent-encoded: nothing to escape.)
            for original, copy in prepared.items():
                rendered = rendered.replace(f'src="{original}"', f'src="{copy}"')
            blocks.append(Block(breakable_addresses(rendered), tag, line, _plain(chunk)))
    return blocks


def _neutralise_raw_html(tokens: list[Token], first_line: int, path: Path,
                         problems: Problems, where: str = "articles") -> None:
    """Turn raw HTML into visible text and warn, so nothing hidden reaches the PDF: once
    for each line holding a tag, at that line."""
    lines: list[int] = []
    for token in tokens:
        if token.type == "html_block":
            lines.append((token.map[0] if token.map else 0) + first_line)
            token.type = "paragraph_html_as_text"
        if token.children:
            for child, line in zip(token.children, child_lines(token, first_line)):
                if child.type == "html_inline":
                    lines.append(line)
                    child.type = "text"
    for line in dict.fromkeys(lines):
        problems.warn(f"raw HTML is not allowed in {where} and is printed as text; use "
                      "Markdown instead, or build with --allow-html to let a safe subset "
                      "through", file=path, line=line)


_HTML_IMG = re.compile(r"<img\b[^>]*>", re.I)


def _drop_html_images(tokens: list[Token]) -> None:
    """Take every ``<img>`` tag out of the raw HTML, before it is sanitised."""
    for token in tokens:
        if token.type == "html_block":
            token.content = _HTML_IMG.sub("", token.content)
        for child in token.children or []:
            if child.type == "html_inline":
                child.content = _HTML_IMG.sub("", child.content)


def child_lines(token: Token, first_line: int) -> list[int]:
    """The source line of each of an inline token's children: the block's first line, one
    more after each line break inside it."""
    line = (token.map[0] if token.map else 0) + first_line
    lines = []
    for child in token.children or []:
        lines.append(line)
        if child.type in ("softbreak", "hardbreak"):
            line += 1
    return lines


def _image_source(src: str, path: Path, root: Path) -> tuple[str | None, str | None, Path | None]:
    """Where an article's image really is: ``(url, problem, local file)``.

    Relative and absolute paths are resolved against the article's folder and must stay
    inside ``root``; ``file:`` URLs likewise; ``data:`` raster images and ``http(s)``
    URLs pass (the renderer refuses remote ones unless --allow-remote).
    """
    src = src.strip()
    scheme = urlsplit(src).scheme.lower() if ":" in src else ""
    if len(scheme) == 1:  # C:\… — a Windows path, not a scheme
        scheme = ""
    if scheme in ("http", "https"):
        return src, None, None
    if scheme == "data":
        if re.match(r"data:image/(png|jpeg|gif|webp)[;,]", src, re.I):
            return src, None, None
        return None, "only PNG, JPEG, GIF or WebP data: images can be embedded", None
    if scheme == "file":
        from urllib.request import url2pathname  # (rare: its import is 15 ms of each build)

        local = url2pathname(unquote(urlsplit(src).path))
    elif scheme:
        return None, (f"{src}: the {scheme}: scheme is not allowed; use a file in the issue "
                      "folder"), None
    else:
        local = unquote(src.split("#", 1)[0].split("?", 1)[0])
    if not local:
        return None, "an image needs a file name", None
    target, reason = confine(path.parent, local, root)
    if target is None:
        return None, reason, None
    if not target.is_file():
        return None, (f"file not found: {local} (image paths are relative to the article, "
                      f"{_display(path.parent)}/)"), None
    return Path(os.path.realpath(target)).as_uri(), None, target


def _display(path: Path) -> str:
    from .errors import display_path
    return display_path(path)


def _resolve_images(tokens: list[Token], first_line: int, path: Path, root: Path,
                    problems: Problems, image_url=None) -> dict[str, str]:
    """Markdown images: confine, check and point them at the real file; with
    ``image_url``, the real file's URL -> its prepared copy's, to put in its place."""
    from .images import inspect_image

    prepared: dict[str, str] = {}
    for token in tokens:
        for child, line in zip(token.children or [], child_lines(token, first_line)):
            if child.type != "image":
                continue
            src = child.attrGet("src") or ""
            url, problem, local = _image_source(str(src), path, root)
            if url is None:
                problems.error(f"image {problem}", file=path, line=line)
                child.type = "text"
                child.content = child.content or ""
                child.children = None
                continue
            if local is not None and inspect_image(local, problems, file=path,
                                                   line=line) is None:
                child.type = "text"
                child.children = None
                continue
            child.attrSet("src", url)
            if image_url and local is not None:
                prepared[url] = image_url(local)
    return prepared


# The opt-in raw HTML subset: formatting, lists, tables, links and images. Anything not
# listed is removed (its text kept); script and style lose their content too.
HTML_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
    "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
}
HTML_ATTRIBUTES = {
    "*": {"class", "lang", "dir", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "reversed", "type"}, "li": {"value"},
    "time": {"datetime"}, "code": {"class"},
}
STYLE_PROPERTIES = {
    "color", "background-color", "font-weight", "font-style", "font-variant",
    "font-size", "text-align", "text-decoration", "text-transform", "letter-spacing",
    "vertical-align", "white-space", "border", "border-color", "border-style",
    "border-width", "padding", "margin", "width", "height",
}
# Whatever could load a resource or smuggle one past a naive filter.
UNSAFE_STYLE = re.compile(r"url\s*\(|\\|@|image|element\s*\(|attr\s*\(|expression|"
                          r"/\*|src\s*\(", re.I)
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:", "#")


def sanitise_html(fragment: str, path: Path, line: int, root: Path,
                  problems: Problems) -> str:
    """Reduce ``fragment`` to the safe subset; what was removed is reported as a warning."""
    import nh3

    dropped: list[str] = []

    def attribute(tag: str, name: str, value: str) -> str | None:
        if name == "style":
            if UNSAFE_STYLE.search(value):
                dropped.append(f'style="{value}" on <{tag}>')
                return None
            return value
        if tag == "a" and name == "href":
            if value.strip().lower().startswith(LINK_SCHEMES):
                return value
            dropped.append(f"link {value}")
            return None
        if tag == "img" and name == "src":
            url, problem, local = _image_source(value, path, root)
            if url is None:
                problems.error(f"image {problem}", file=path, line=line)
                return None
            if local is not None:
                from .images import inspect_image
                if inspect_image(local, problems, file=path, line=line) is None:
                    return None
            return url
        return value

    before = _tags(fragment)
    clean = nh3.clean(
        fragment, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES, attribute_filter=attribute,
        clean_content_tags={"script", "style", "template", "noscript", "title", "textarea",
                            "xmp", "iframe", "noembed", "noframes", "object", "svg",
                            "math"},
        url_schemes={"http", "https", "mailto", "tel", "file", "data"},
        link_rel=None, strip_comments=True, filter_style_properties=STYLE_PROPERTIES)
    removed = sorted(before - HTML_TAGS)
    if removed or dropped:
        what = ", ".join([f"<{t}>" for t in removed] + dropped)
        problems.warn(f"raw HTML outside the safe subset was removed: {what}", file=path,
                      line=line)
    return clean


def _tags(fragment: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<\s*([A-Za-z][A-Za-z0-9-]*)", fragment)}


def _shift_headings(tokens: list[Token]) -> None:
    """# and ## become subheads (h2); deeper levels h3: the article title is the h1."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = int(token.tag[1])
            token.tag = "h2" if level <= 2 else "h3"
            if token.type == "heading_open":
                token.attrSet("class", "subhead" if level <= 2 else "minor-head")


def _plain(tokens: list[Token]) -> str:
    parts = []
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            parts.append(" ")
        elif token.type in ("code_block", "fence", "paragraph_html_as_text"):
            parts.append(token.content)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _render_html_as_text(self, tokens, idx, options, env):
    return f"<p class=\"raw-html\">{html.escape(tokens[idx].content)}</p>\n"


def install_renderers(md: MarkdownIt) -> MarkdownIt:
    md.add_render_rule("paragraph_html_as_text", _render_html_as_text)
    return md
