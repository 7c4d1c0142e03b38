"""Stage 4 — composition: articles, photos and back page into one HTML document.

This is where a newsletter's *flow* is decided: which photos, pull quotes and boxes go
between which paragraphs of an article. Everything that must sit in the two-column flow is
emitted as a direct child of the article's column container (WeasyPrint spans only direct
children, issue #980), in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from . import __version__, fillquote, placements
from .articles import (
    IMAGE_SOURCE,
    Article,
    breakable_addresses,
    image_file,
    inline_renderer,
    markdown_parser,
)
from .errors import Problems, RenderError
from .fonts import font_families_css, font_files
from .i18n import counter_style, issue_label, load_words, period
from .language import direction, hyphenates, joined_script, text_language
from .layouts import Layout
from .manifest import Manifest, Photo


@dataclass
class FlowItem:
    """One piece of an article's column flow: a text block, photo, quote or box."""

    kind: str  # block | photo | quote | box
    html: Markup | None = None
    photo: dict | None = None
    quote: dict | None = None
    box: dict | None = None
    span: bool = False


@dataclass
class Edition:
    """What differs between editions of one issue (print shop, email, proof)."""

    name: str = "proof"
    bleed_mm: float = 0.0
    marks: bool = False
    image_urls: dict = field(default_factory=dict)  # original path -> prepared file URI
    padding_pages: int = 0  # blank "Notes" pages added before the back page
    extra_css: str = ""  # edition-specific rules for the document head
    pdf_options: dict = field(default_factory=dict)
    roots: list = field(default_factory=list)  # extra folders the renderer may read
    bleed_box_mm: float | None = None  # BleedBox to set after rendering (crop marks)
    sources: dict = field(default_factory=dict)  # image digest -> photocheck.PhotoSource
    #: Photos laid out before they are prepared (standins.py): the planned copy's resolved
    #: path -> (width, height, mode); and (original, placed width, copy) of each, whose
    #: ``sources`` entry is added once the copy exists (editions.settle).
    stand_ins: dict = field(default_factory=dict)
    unsettled: list = field(default_factory=list)
    output_condition: str = ""  # print: named on the slug line beside the crop marks


def _spanned(articles: list[Article], spans: set[tuple[str, str]]) -> list[Article]:
    """The articles with each column photo the repair stage ran across both columns placed
    ``span`` (as if the manifest said so: the same rules then set it)."""
    if not spans:
        return articles

    def photo(article: Article, p: Photo) -> Photo:
        wanted = (f"art-{article.id}", Path(p.file).name) in spans
        return dataclasses.replace(p, placement="span") \
            if wanted and p.placement == "column" else p

    return [dataclasses.replace(a, photos=[photo(a, p) for p in a.photos],
                                boxes=_spanned(a.boxes, spans)) for a in articles]


def _pulled(views: list[dict], pulls: list[tuple[str, str]]) -> list[dict]:
    """The articles in order, with each short item the repair stage pulled up set right
    after the article it names (only moved up, and only while both are still there)."""
    for article, after in pulls:
        ids = [view["id"] for view in views]
        if article in ids and after in ids and ids.index(article) > ids.index(after):
            view = views.pop(ids.index(article))
            views.insert(ids.index(after) + 1, view)
    return views


def compose_html(manifest: Manifest, articles: list[Article], layout: Layout,
                 problems: Problems, edition: Edition | None = None,
                 allow_html: bool = False) -> str:
    """Render the whole issue to one HTML string with the layout's templates."""
    context = issue_context(manifest, articles, layout, problems, edition, allow_html)
    return prepared_sources(render_template(layout, "issue.html", context), edition)


def document_changes(css: str) -> tuple:
    """Everything the fit's CSS changes in the document itself, not only in its style: each
    placement line issue_context reads (photos moved or run across, fill quotes, items
    pulled up). Two editions alike but for a fit with the same changes compose to the same
    HTML but for that CSS (build._compose reuses it). A new placement that compose reads
    must be added here (a test holds the two lists together)."""
    return (sorted(placements.read(css).items()),
            sorted((k, tuple(v)) for k, v in placements.read_quotes(css).items()),
            sorted(placements.read_spans(css)), placements.read_pulls(css))


def prepared_sources(markup: str, edition: Edition | None) -> str:
    """``markup`` with every image the articles' text shows (its original, a ``file:``
    URL) replaced by the edition's prepared copy (see articles.with_article_images)."""
    if edition is None or not edition.image_urls:
        return markup

    def swap(match: re.Match) -> str:
        prepared = edition.image_urls.get(image_file(match[2]))
        return match[1] + html.escape(prepared) + match[3] if prepared else match[0]

    return IMAGE_SOURCE.sub(swap, markup)


def issue_context(manifest: Manifest, articles: list[Article], layout: Layout,
                  problems: Problems, edition: Edition | None = None,
                  allow_html: bool = False) -> dict:
    """What the layout's templates see: every field escaped or rendered as safe Markdown."""
    edition = edition or Edition()
    md = markdown_parser(manifest.issue.language)
    inline = inline_renderer(manifest.issue.language, allow_html)
    moved = placements.read(edition.extra_css)  # photos the repair stage moved
    fills = placements.read_quotes(edition.extra_css)  # pull quotes it set in short pages
    articles = _spanned(articles, placements.read_spans(edition.extra_css))

    tallest = _tallest_column_photo(manifest, layout)
    floor = _frame_floor(layout)

    def photo_view(photo: Photo) -> dict:
        view = {"url": _image_url(Path(photo.file), edition), "caption": inline(photo.caption),
                "credit": inline(photo.credit), "alt": photo.alt or "",
                "placement": photo.placement, "file": Path(photo.file).name}
        if photo.placement == "column":
            view["grow"] = tallest(Path(photo.file))
            view["wide"] = tallest.wide(Path(photo.file))
        view["floor"] = floor(Path(photo.file))
        return view

    def article_view(article: Article) -> dict:
        return {
            "id": f"art-{article.id}", "kind": article.kind, "title": inline(article.title),
            "plain_title": article.title, "kicker": inline(article.kicker),
            "deck": inline(article.deck), "byline": inline(article.byline),
            "new_page": article.new_page, "span": article.span,
            "top_photos": [photo_view(p) for p in article.photos if p.placement == "top"],
            "flow": _flow(article, photo_view, article_view, inline, moved,
                          fills.get(f"art-{article.id}")),
            "fill_quotes": _fill_quotes(article),
            "signature": article.signature,
            "lang": article.language, "dir": article.direction,
            "hyphenate": hyphenates(article.language),
            "joined": joined_script(article.language),
        }

    views = _pulled([article_view(a) for a in articles],
                    placements.read_pulls(edition.extra_css))
    by_id = {a.id: a for a in articles}
    cover = None
    if manifest.cover:
        c = manifest.cover
        teasers = []
        issue_lang = (manifest.issue.language,
                      direction(manifest.issue.language, manifest.issue.dir))
        for t in c.teasers:
            target = by_id.get(t.article)
            if target:
                # Each part in the language of its own words: the title is the article's,
                # the deck too; a teaser text written for the cover is the issue's unless
                # its letters say otherwise (language.text_language).
                own = (target.language, target.direction)
                text_lang = text_language(t.text, issue_lang, own) if t.text else own
                teasers.append({"id": f"art-{target.id}", "title": inline(target.title),
                                "text": inline(t.text or target.deck or ""),
                                "lang": own[0], "dir": own[1],
                                "text_lang": text_lang[0], "text_dir": text_lang[1]})
        cover = {"url": _image_url(Path(c.image), edition), "caption": inline(c.caption),
                 "credit": inline(c.credit), "alt": c.alt or c.caption or "", "focus": c.focus,
                 "teasers": teasers}
    words = load_words(layout, manifest.issue.language, manifest.words, problems,
                       manifest.path)
    # Every heading the manifest may leave to the layout gets its words here, once, so
    # that no template (PDF or web) can print an unset title as "None".
    contents = manifest.contents or _default_contents()
    contents = dataclasses.replace(contents, title=contents.title or words["in_this_issue"])
    label = issue_label(manifest, words)
    context = {
        "words": words, "issue_label": label,
        "nl": manifest.newsletter, "issue": manifest.issue, "m": manifest,
        "lang": manifest.issue.language,
        "dir": direction(manifest.issue.language, manifest.issue.dir),
        "root_classes": " ".join(c for c, on in (
            ("no-hyphens", not hyphenates(manifest.issue.language)),
            ("joined-script", joined_script(manifest.issue.language))) if on),
        "doc_title": f"{manifest.newsletter.title} — {label}",
        "subject": f"{manifest.newsletter.title}, {period(manifest, words)}",
        "period": period(manifest, words),
        "generator": f"newsletter-pdf {__version__}",
        "date": _timestamp(manifest),
        "articles": views, "cover": cover, "contents": contents,
        "logo": _optional_url(manifest.newsletter.logo, edition),
        "logo_on_dark": _optional_url(manifest.newsletter.logo_on_dark or
                                      manifest.newsletter.logo, edition),
        "back": _back_page(manifest, md, inline, words, layout, edition, allow_html),
        "footer_contact": manifest.footer.contact_line if manifest.footer else "",
        "stylesheets": [p.as_uri() for p in layout.stylesheet_paths()],
        "head_css": Markup(_head_css(manifest, layout, edition) + _digits_css(words)),
        "edition": edition, "options": layout.options,
        "padding_pages": edition.padding_pages,
    }
    return context


def render_template(layout: Layout, name: str, context: dict,
                    folder: str = "templates") -> str:
    """Render one of the layout's templates (sandboxed, autoescaped) with ``context``."""
    env = layout.jinja_env(folder)
    env.filters["contact_link"] = contact_link
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or exc.name}:{exc.lineno}: template error: "
                          f"{exc.message}; fix the layout's template") from exc
    except jinja2.TemplateError as exc:  # includes the sandbox's SecurityError
        where = _template_line(exc)
        raise RenderError(f"{where}layout template error: {exc}; fix the layout's "
                          "template") from exc


#: Memory a layout's templates may use while composing one issue.
TEMPLATE_MEMORY_MB = 2048


def compose_bounded(manifest: Manifest, articles: list[Article], layout: Layout,
                    problems: Problems, edition: Edition | None = None,
                    allow_html: bool = False, time_limit: float | None = 60.0) -> str:
    """:func:`compose_html` in a limited child process: a layout template that loops for
    ever or builds gigabytes is stopped with a message, like a runaway render."""
    from .bounded import run_bounded

    def compose() -> tuple[str, list]:
        found = Problems()
        return compose_html(manifest, articles, layout, found, edition, allow_html), found.items

    html, items = run_bounded(
        compose, what="the layout's templates", time_limit=time_limit,
        memory_mb=TEMPLATE_MEMORY_MB, error=RenderError,
        hint="look for a loop or a huge value in the layout's templates (issue.html and "
             "what it includes)")
    problems.items.extend(items)
    return html


def _template_line(exc: BaseException) -> str:
    """'file:line: ' of the template frame that raised, if the traceback has one."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".html"):
            where = f"{name}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return where


EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
WEB = re.compile(r"^(https?://)?(www\.)?[\w-]+(\.[\w-]+)+(/\S*)?$", re.I)
PHONE = re.compile(r"^\+?[\d ()./-]{6,}$")


def contact_link(value: str, kind: str | None = None) -> Markup:
    """A contact detail as a link: mailto:, https:// or tel: — or plain text.

    ``kind`` ('email', 'phone') links only a value of that kind: a phone field holding
    anything but a phone number is printed, never made a link of another scheme.
    """
    text = escape(value)
    digits = re.sub(r"[^0-9]", "", value)
    if EMAIL.match(value) and kind in (None, "email"):
        return Markup(breakable_addresses(f'<a href="mailto:{text}">{text}</a>'))
    if PHONE.match(value) and 3 <= len(digits) <= 20 and kind in (None, "phone"):
        plus = "+" if value.startswith("+") else ""
        return Markup(f'<a href="tel:{plus}{digits}">{text}</a>')
    if WEB.match(value) and kind is None:
        href = value if value.lower().startswith("http") else f"https://{value}"
        return Markup(breakable_addresses(f'<a href="{escape(href)}">{text}</a>'))
    return Markup(text)


def _default_contents():
    from .manifest import Contents
    return Contents(place="cover")


def _tallest_column_photo(manifest: Manifest, layout: Layout):
    """A function: the tallest (mm) a column photo may be set — at most the column's width,
    and only as large as its original still gives the print edition's ``min_ppi`` (the
    repair's grow move stays within it, and within its own limit; the editions then make
    a grown photo's copy for its size: editions.with_fit_photos)."""
    from .editions.base import image_widths
    from .editions.print import print_settings
    from .photocheck import original_size

    widths = image_widths(layout, manifest.issue.page_size)
    ppi = print_settings(manifest).min_ppi
    known: dict[Path, int] = {}

    def tallest(path: Path) -> int:
        if path not in known:
            try:
                w, h = original_size(path)
            except (OSError, ValueError):  # an SVG, say: no pixels to judge
                w, h = 0, 0
            wide = min(widths["column"], w / ppi * 25.4) if w and h else 0.0
            known[path] = int(wide * h / w) if wide else 0
        return known[path]

    def widest(path: Path) -> int:
        """The widest (mm) its original prints at ``min_ppi``: whether it may run across
        both columns (the repair's span move)."""
        try:
            w, _ = original_size(path)
        except (OSError, ValueError):
            return 0
        return int(w / ppi * 25.4)

    tallest.wide = widest
    return tallest


def _frame_floor(layout: Layout):
    """A function: for a photo set across the columns (its frame the width of the page's
    text, its height capped, the photo cropped to fill it), the least height of its frame
    as a share of that width, so that the frame crops at most the layout's
    ``options.max_crop`` of the photo's height: its height over its width times what may
    stay. "" when the layout sets no limit (or for an image without pixels)."""
    from .photocheck import original_size

    try:
        limit = float(layout.options.get("max_crop") or 0)
    except (TypeError, ValueError):
        limit = 0.0
    known: dict[Path, str] = {}

    def floor(path: Path) -> str:
        if path not in known:
            try:
                w, h = original_size(path)
            except (OSError, ValueError):  # an SVG: drawn whole, never cropped
                w, h = 0, 0
            known[path] = f"{h / w * (1 - limit):.4f}" if 0 < limit < 1 and w and h else ""
        return known[path]
    return floor


def _image_url(path: Path, edition: Edition) -> str:
    return edition.image_urls.get(str(path), path.resolve().as_uri())


def _optional_url(path, edition: Edition) -> str | None:
    return _image_url(Path(path), edition) if path else None


def paragraph_slots(article: Article) -> list[int]:
    """Index into ``article.blocks`` after which the Nth paragraph ends (N = 1…)."""
    return [i for i, b in enumerate(article.blocks) if b.tag == "p"]


def _fill_quotes(article: Article) -> str:
    """The article's fill quotes (fillquote.py) as JSON for the layout audit: the repair
    stage reads them from the laid-out pages to set one where a page runs short."""
    return json.dumps([[c.text, c.source, c.spare] for c in fillquote.candidates(article)],
                      ensure_ascii=False)


def _flow(article: Article, photo_view, article_view, inline,
          moved: dict | None = None, fill: list | None = None) -> list[FlowItem]:
    """Interleave text blocks with photos, pull quotes and boxes (``moved``: photos placed
    elsewhere by the repair stage, (article id, file name) -> paragraph; ``fill``: pull
    quotes it set to fill short pages, [(paragraph, column|span, text)…])."""
    slots = paragraph_slots(article)
    n = len(slots)
    inserts: dict[int, list[FlowItem]] = {}

    def place(after: int | None, default: int, item: FlowItem) -> None:
        para = default if after is None else after
        para = max(0, min(para, n))
        index = slots[para - 1] if para > 0 and slots else -1
        if para >= n and article.blocks:
            index = len(article.blocks) - 1
        # Never split a lead-in paragraph from the list or table it introduces.
        while 0 <= index < len(article.blocks) - 1 and \
                article.blocks[index + 1].tag not in ("p", "h2", "h3"):
            index += 1
        if item.photo is not None:
            item.photo["after"] = para  # the audit reads it back: where a move starts
        inserts.setdefault(index, []).append(item)

    def after(photo) -> int | None:
        return (moved or {}).get((f"art-{article.id}", Path(photo.file).name), photo.after)

    offered = {c.text: c for c in fillquote.candidates(article)} if fill else {}
    for para, style, text in fill or ():  # first in its slot: it fills the column before
        chosen = offered.pop(text, None)   # a photo there
        if chosen is not None:  # (an edited article: the sentence may be gone)
            place(para, para, FlowItem("quote", quote={
                "text": inline(chosen.text) if chosen.spare else escape(chosen.text),
                "attribution": inline(chosen.attribution), "fill": True},
                span=style == "span"))
    column = [p for p in article.photos if p.placement == "column"]
    for k, photo in enumerate(column):
        default = round((k + 1) * n / (len(column) + 1)) or 1
        place(after(photo), default, FlowItem("photo", photo=photo_view(photo)))
    for photo in (p for p in article.photos if p.placement == "span"):
        place(after(photo), max(1, n // 2),
              FlowItem("photo", photo=photo_view(photo), span=True))
    paragraphs = [b.text for b in article.blocks if b.tag == "p"]
    quotes = [q for q in article.pull_quotes if not q.spare]  # spare: only to fill a page
    for k, quote in enumerate(quotes):
        default = max(1, round(n * (k + 1) / (len(quotes) + 2)))
        # A quote set right beside its own sentence reads as a misprint: keep it two
        # paragraphs away from where it occurs.
        source = next((i + 1 for i, text in enumerate(paragraphs)
                       if _squash(quote.text) in _squash(text)), None)
        if source is not None:
            default = source + 2 if source + 2 <= n else max(1, source - 2)
        place(quote.after, default, FlowItem("quote", quote={
            "text": inline(quote.text), "attribution": inline(quote.attribution),
            "fill": False}))
    for box in article.boxes:
        place(box.after, n, FlowItem("box", box=article_view(box), span=box.span))
    flow: list[FlowItem] = []
    for i in [-1, *range(len(article.blocks))]:
        if i >= 0:
            html = article.blocks[i].html
            if i in slots:  # the audit reads which paragraph a line belongs to
                html = re.sub(r"^<p\b", f'<p data-para="{slots.index(i) + 1}"', html)
            flow.append(FlowItem("block", html=Markup(html)))
        # Within one slot, column items come before anything spanning both columns:
        # otherwise a quote or photo would sit alone in one column under the span.
        flow.extend(sorted(inserts.get(i, []), key=lambda item: item.span))
    return _settle_spans(flow)


def _settle_spans(flow: list[FlowItem]) -> list[FlowItem]:
    """A span (across both columns) must have real text after it or go to the end.

    WeasyPrint balances the columns above and below a span separately, so a span followed
    by less than two paragraphs leaves a ragged sliver (or one lonely item) under it.
    """
    out = list(flow)
    for index in range(len(out) - 1, -1, -1):
        item = out[index]
        if not item.span:
            continue
        after = out[index + 1:]
        paragraphs = sum(1 for x in after if x.kind == "block")
        if after and paragraphs < 2:
            out.pop(index)
            out.append(item)
    return out


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()


def _back_page(manifest: Manifest, md, inline, words: dict, layout: Layout,
               edition: Edition, allow_html: bool) -> dict | None:
    """The back page's view (see backpage.py), its contact block headed in the layout's
    words when the manifest leaves the heading unset."""
    from .backpage import LOGO_SIZE, render_back_page

    sizes = {**LOGO_SIZE, **(layout.options.get("back_logos") or {})}
    back = render_back_page(manifest, md, inline, lambda path: _image_url(path, edition),
                            sizes, allow_html)
    if back and back["contact"]:
        back["contact"] = dataclasses.replace(
            back["contact"], title=back["contact"].title or words["contact_us"])
    return back


def brand_colours(manifest: Manifest, layout: Layout) -> dict[str, str]:
    """The layout's colours with the manifest's overrides (#RRGGBB by role)."""
    colours = dict(layout.colours or {})
    if manifest.newsletter.colours:
        for key in ("primary", "accent", "tint", "ink"):
            value = getattr(manifest.newsletter.colours, key)
            if value:
                colours[key] = value
    return colours


def _head_css(manifest: Manifest, layout: Layout, edition: Edition) -> str:
    """@font-face rules, brand custom properties and the page size for this issue."""
    lines = []
    for face in font_files(manifest, layout):
        if face.path is None:
            continue  # reported by check_fonts()
        lines.append(f'@font-face {{ font-family: "{face.family}"; '
                     f'src: url("{face.path.as_uri()}"); '
                     f"font-weight: {face.weight}; font-style: {face.style}; }}")
    props = " ".join(f"--brand-{k}: {v};" for k, v in brand_colours(manifest, layout).items())
    families = font_families_css(layout)
    lines.append(f":root {{ {props} {families} }}")
    lines.extend(_language_font_rules(layout.fonts or {}))
    size = "A4" if manifest.issue.page_size == "A4" else "letter"
    page = f"@page {{ size: {size};"
    if edition.bleed_mm:
        page += f" bleed: {edition.bleed_mm}mm;"
    if edition.marks:
        page += " marks: crop;"
    lines.append(page + " }")
    if edition.extra_css:
        lines.append(edition.extra_css)
    return "\n".join(lines)


def css_string(text: str) -> str:
    """A CSS string literal: every character outside plain letters, digits and spaces
    escaped as a hex escape, so no word from a table can end the string or the rule."""
    return '"' + "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} "
                         for ch in text) + '"'


def _digits_css(words: dict) -> str:
    """Folios and contents page numbers in the digits the word table asks for."""
    style = counter_style(words)
    label = words.get("about_contact", "")
    css = f"\n.back-page {{ bookmark-label: {css_string(label)}; }}" if label else ""
    if style == "decimal":
        return css
    return css + (f"\n@page {{ @bottom-right {{ content: counter(page, {style}); }} }}"
            f"\n@page :left {{ @bottom-left {{ content: counter(page, {style}); }} }}"
            f"\n.contents-list a::after {{ content: leader(dotted) \" \" "
            f"target-counter(attr(href), page, {style}); }}")


def _language_font_rules(fonts: dict) -> list[str]:
    """``:lang(ar) { --font-text: "Noto Naskh Arabic", "Charis SIL", serif }`` for each
    face the layout declares for some languages (``for: text``, ``languages: [ar, …]``):
    the language's face first, the role's own face after it for Latin words and digits."""
    rules = []
    for spec in fonts.values():
        role, languages = spec.get("for"), spec.get("languages") or []
        if role not in fonts or not languages:
            continue
        base = fonts[role]
        selector = ", ".join(f":lang({tag})" for tag in languages
                             if re.fullmatch(r"[A-Za-z0-9-]{1,35}", str(tag)))
        if selector:
            rules.append(f'{selector} {{ --font-{role}: "{spec.get("family")}", '
                         f'"{base.get("family", role)}", {base.get("fallback", "serif")}; }}')
    return rules


def check_fonts(manifest: Manifest, layout: Layout, problems: Problems) -> None:
    """Every font file the layout names must exist on the font search path."""
    dirs = layout.font_dirs(manifest.folder)
    for face in font_files(manifest, layout):
        if face.path is None:
            problems.error(f"font file {face.relative} ({face.role} {face.style_key}) not "
                           f"found in {', '.join(str(d) for d in dirs)}; add it or change "
                           "the layout's fonts", file=layout.chain[0] / "layout.yaml",
                           key=f"fonts.{face.role}.files.{face.style_key}")


def _timestamp(manifest: Manifest) -> str:
    """Creation date for the PDF: SOURCE_DATE_EPOCH if set, else the issue date."""
    import os
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        moment = dt.datetime.combine(manifest.issue.date, dt.time(), dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
