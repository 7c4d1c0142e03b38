"""Stage 2 — articles: Markdown files (with optional YAML front matter) to HTML blocks.

Articles are CommonMark with tables, strikethrough and smart punctuation. The body is
kept as a list of top-level blocks (paragraphs, subheads, lists, tables…) so the layout
can put photos, pull quotes and boxes *between* blocks, where each must sit in a
multi-column flow (WeasyPrint only spans direct children of the column container).

Raw HTML is not trusted: it is shown as text, with a warning naming the file and line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .errors import Problems
from .manifest import ArticleSpec, Manifest, Photo, PullQuote, Signature, article_id
from .schema import Reader, compose_yaml, field

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
    boxes: list["Article"] = dc_field(default_factory=list)

    @property
    def paragraph_count(self) -> int:
        return sum(1 for b in self.blocks if b.tag == "p")


def markdown_parser(language: str = "en") -> MarkdownIt:
    """The CommonMark parser with tables, strikethrough and typographic punctuation."""
    options = {"typographer": True, "html": True}
    quotes = QUOTES.get(language.split("-")[0].lower())
    if quotes:
        options["quotes"] = quotes
    md = MarkdownIt("commonmark", options).enable(
        ["table", "strikethrough", "replacements", "smartquotes"])
    return install_renderers(md)


def read_articles(manifest: Manifest, problems: Problems) -> list[Article]:
    """Read every article of the manifest; boxes are attached to their host article."""
    md = markdown_parser(manifest.issue.language)
    articles: list[Article] = []
    for index, spec in enumerate(manifest.articles):
        article = read_article(spec, index, md, problems)
        if article is not None:
            articles.append(article)
    by_id = {a.id: a for a in articles}
    top: list[Article] = []
    for article in articles:
        host = by_id.get(article.within) if article.within else None
        if host is not None:
            host.boxes.append(article)
        else:
            top.append(article)
    return top


def read_article(spec: ArticleSpec, index: int, md: MarkdownIt,
                 problems: Problems) -> Article | None:
    """Read one article file, merging its front matter under the manifest's values."""
    path = Path(spec.file)
    key = f"articles[{index}].file"
    text = read_text(path, problems, key=key)
    if text is None:
        return None
    before = len(problems.errors)
    fm, body, body_line = split_front_matter(text, path, problems)
    if len(problems.errors) > before:
        return None  # the front matter's own problems say it all
    blocks = render_blocks(md, body, body_line, path, problems)
    title = spec.title or (fm.title if fm else None)
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
        photos=list(spec.photos or (fm.photos if fm else [])),
        pull_quotes=list(spec.pull_quotes or (fm.pull_quotes if fm else [])),
        signature=spec.signature or (fm.signature if fm else None),
        within=spec.within, after=spec.after, span=spec.span, new_page=new_page,
    )


def read_text(path: Path, problems: Problems, key: str = "") -> str | None:
    """Read a UTF-8 text file; a wrong encoding is reported with its line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.error(f"cannot read {path.name}: {exc.strerror}; check it exists and is "
                       "readable", file=path, key=key)
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
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


def split_front_matter(text: str, path: Path, problems: Problems):
    """Return (front matter or None, body, 1-based line where the body starts)."""
    match = FRONT_MATTER.match(text)
    if not match:
        return None, text, 1
    body_line = text[: match.end()].count("\n") + 1
    yaml_text = match.group(1) or ""
    node = compose_yaml(yaml_text, path, problems, line_offset=1)
    if node is None:
        return None, text[match.end():], body_line
    reader = Reader(path, path.parent, problems, line_offset=1)
    fm = reader.read_dataclass(FrontMatter, node, "")
    return fm, text[match.end():], body_line


def render_blocks(md: MarkdownIt, body: str, first_line: int, path: Path,
                  problems: Problems) -> list[Block]:
    """Render Markdown to a list of top-level HTML blocks, each with its source line."""
    tokens = md.parse(body)
    _neutralise_raw_html(tokens, first_line, path, problems)
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
            blocks.append(Block(rendered, tag, line, _plain(chunk)))
    return blocks


def _neutralise_raw_html(tokens: list[Token], first_line: int, path: Path,
                         problems: Problems) -> None:
    """Turn raw HTML into visible text and warn, so nothing hidden reaches the PDF."""
    for token in tokens:
        if token.type == "html_block":
            line = (token.map[0] if token.map else 0) + first_line
            problems.warn("raw HTML is not allowed in articles and is printed as text; "
                          "use Markdown instead", file=path, line=line)
            token.type = "paragraph_html_as_text"
        if token.children:
            for child in token.children:
                if child.type == "html_inline":
                    line = (token.map[0] if token.map else 0) + first_line
                    problems.warn("raw HTML is not allowed in articles and is printed as "
                                  "text; use Markdown instead", file=path, line=line)
                    child.type = "text"


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
