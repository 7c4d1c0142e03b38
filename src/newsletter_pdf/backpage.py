"""The back page's sections ("who we are", "who supports us"): their Markdown read and
checked once, by the check, and their images — sponsors' and partners' logos — prepared
like the cover's logo (CMYK for print, transparency kept, resized for email) and set in a
row at one height. What does not fit on the back page is an error naming the section's
file, never text hidden under the contact panel or pushed onto a page of its own.

The sizes are the layout's (``options.back_logos``: ``height_mm``, the row's height, and
``max_width_mm``, the widest a logo may be; a logo wider than that is set that wide, and
less tall).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .errors import Problems
from .schema import Where

#: The key an image of back-page section ``i`` is reported under; editions.base sees
#: "back_logo" placement in it (prepared for ``image_widths``' "back_logo" width).
LOGO_KEY = "back_page.sections[{i}].logos"
#: The row's height and the widest logo (mm), unless the layout says otherwise.
LOGO_SIZE = {"height_mm": 12.0, "max_width_mm": 40.0}


@dataclass(frozen=True)
class Source:
    """One section's Markdown: where it is written and what it says."""

    index: int
    path: Path         # the section's file, or the manifest for text written inline
    body: str
    first_line: int    # the line of ``path`` where ``body`` starts
    title: str | None
    key: str           # back_page.sections[i]


def sources(manifest, problems: Problems) -> list[Source]:
    """Every back-page section's Markdown (a file's front matter may give its title)."""
    from .articles import read_text, split_front_matter

    back = manifest.back_page
    found: list[Source] = []
    for i, section in enumerate(back.sections if back else []):
        key = f"back_page.sections[{i}]"
        if section.file:
            text = read_text(Path(section.file), problems)
            if text is None:
                continue
            front, body, line = split_front_matter(text, Path(section.file), problems)
            title = section.title or (front.title if front else None)
            found.append(Source(i, Path(section.file), body, line, title, key))
        else:
            where = section.where or (manifest.locations or {}).get(key)
            line = where.line + 1 if where and where.line else 1
            found.append(Source(i, Path(manifest.path), section.text or "", line,
                                section.title, key))
    return found


_IMAGES: dict[tuple, list] = {}


def back_page_images(manifest) -> list[tuple[Path, str, Where]]:
    """The files of the Markdown images in the back page's sections, as
    :func:`images.image_references` lists them (a problem with one — a missing file, one
    outside the issue — is the check's to report, at its line)."""
    from .articles import _image_source, child_lines, markdown_parser
    from .schema import issue_root_of

    refs: list[tuple[Path, str, Where]] = []
    for source in sources(manifest, Problems()):
        memo = (source.path, source.body, source.first_line)
        if memo not in _IMAGES:
            images = []
            tokens = markdown_parser(manifest.issue.language).parse(source.body)
            root = issue_root_of(source.path)
            for token in tokens:
                for child, line in zip(token.children or [],
                                       child_lines(token, source.first_line)):
                    if child.type != "image":
                        continue
                    _, _, local = _image_source(str(child.attrGet("src") or ""),
                                                source.path, root)
                    if local is not None:
                        images.append((local, line))
            _IMAGES[memo] = images
        key = LOGO_KEY.format(i=source.index)
        refs += [(local, key, Where(source.path, line, None, key))
                 for local, line in _IMAGES[memo]]
    return refs


def check_back_page(manifest, problems: Problems, allow_html: bool = False) -> None:
    """What the check says about the back page's sections: raw HTML (at each tag's line),
    images that are not files of the issue, logos without their sponsor's name."""
    from .articles import markdown_parser, render_blocks

    if manifest.back_page is None:
        return
    md = markdown_parser(manifest.issue.language)
    for source in sources(manifest, problems):
        render_blocks(md, source.body, source.first_line, source.path, problems,
                      allow_html=allow_html, where="back-page sections", html_images=False)
        _check_images(md, source, problems, allow_html)


def _check_images(md, source: Source, problems: Problems, allow_html: bool) -> None:
    from .articles import child_lines

    for token in md.parse(source.body):
        block_line = (token.map[0] if token.map else 0) + source.first_line
        if allow_html and token.type == "html_block" and _IMG_TAG.search(token.content):
            _html_image(problems, source.path, block_line)
        for child, line in zip(token.children or [], child_lines(token, source.first_line)):
            if allow_html and child.type == "html_inline" and _IMG_TAG.search(child.content):
                _html_image(problems, source.path, line)
            if child.type != "image":
                continue
            src = str(child.attrGet("src") or "").strip()
            if re.match(r"(?i)(data|https?):", src):
                problems.error(f"image {src[:60]}: a logo on the back page must be a file of "
                               "the issue (it is prepared for print like the cover's logo); "
                               "save it in the issue folder and write ![Name](file)",
                               file=source.path, line=line)
            elif not child.content.strip():
                problems.warn(f"the logo {src} has no name: write the sponsor's name between "
                              "the brackets, ![Name](file), for readers using screen "
                              "readers (the email edition is tagged)",
                              file=source.path, line=line)


_IMG_TAG = re.compile(r"<img\b", re.I)


def _html_image(problems: Problems, path: Path, line: int) -> None:
    problems.warn("an <img> tag in a back-page section is left out: it would not be "
                  "prepared for print (its colours, its size); write the logo as Markdown, "
                  "![Name](file): it is then prepared like the cover's logo and set in the "
                  "logos' row", file=path, line=line)


def render_back_page(manifest, md, inline, image_url, logo_sizes: dict,
                     allow_html: bool = False) -> dict | None:
    """The back page as the templates see it: sections (title, HTML), contact, credits.
    ``image_url``: a file's URL in this edition (its prepared copy). Problems were the
    check's to report (:func:`check_back_page`), so they are not reported again here."""
    from .articles import render_blocks

    back = manifest.back_page
    if back is None:
        return None
    quiet = Problems()
    ratios: dict[str, float | None] = {}  # a logo's URL -> its original's width / height

    def url_of(local: Path) -> str:
        url = image_url(local)
        ratios[url] = _ratio(local)
        return url

    sections = []
    for source in sources(manifest, quiet):
        blocks = render_blocks(md, source.body, source.first_line, source.path, quiet,
                               allow_html=allow_html, where="back-page sections", html_images=False,
                               image_url=url_of)
        shown = set(ratios)  # the prepared copies; any other image is an <img> tag's
        html = "".join(_logo_row(b.html, logo_sizes, ratios) if b.tag == "p"
                       and not b.text.strip() and "<img" in b.html else b.html
                       for b in (_without_other_images(b, shown) for b in blocks))
        sections.append({"title": inline(source.title), "html": Markup(html)})
    return {"sections": sections, "contact": back.contact, "credits": back.credits}


_IMG = re.compile(r"<img\b([^>]*)>")


def _without_other_images(block, shown: set[str]):
    """The block without the images raw HTML brought in (``--allow-html``): they would not
    be prepared for print (the check says so, see :func:`_html_image`)."""
    from html import unescape

    def keep(match: re.Match) -> str:
        src = re.search(r'src="([^"]*)"', match[1])
        return match[0] if src and unescape(src[1]) in shown else ""

    html = _IMG.sub(keep, block.html)
    return block if html == block.html else dataclasses.replace(block, html=html)


def _logo_row(html: str, sizes: dict, ratios: dict) -> str:
    """A paragraph of images only, as a row of logos: each as tall as the row, or as wide
    as a logo may be and less tall (its shape kept)."""
    from html import unescape

    def sized(match: re.Match) -> str:
        attrs = match[1]
        src = re.search(r'src="([^"]*)"', attrs)
        ratio = ratios.get(unescape(src[1])) if src else None
        height, widest = float(sizes["height_mm"]), float(sizes["max_width_mm"])
        if not ratio:  # no pixels to measure (an SVG): the row's box holds it
            style = f"max-height: {height:g}mm; max-width: {widest:g}mm"
        else:
            width = min(widest, height * ratio)
            style = f"width: {width:.2f}mm; height: {width / ratio:.2f}mm"
        return f'<img class="logo"{attrs} style="{style}">'

    return _IMG.sub(sized, html.replace("<p>", '<p class="logos">', 1))


def _ratio(path: Path) -> float | None:
    """Width over height of an original as displayed, None if it has no pixels (SVG)."""
    from .photocheck import original_size

    try:
        w, h = original_size(path)
    except (OSError, ValueError):
        return None
    return w / h if w and h else None


# -- does it fit? ------------------------------------------------------------------------

#: A px of the layout engine in mm (CSS: 96 px to the inch).
PX_MM = 25.4 / 96
#: A line of a back-page section's text (9 pt type on 12.5 pt, back.css), in mm.
LINE_MM = 12.5 * 25.4 / 72


def measure(document) -> dict:
    """How the laid-out back page holds its sections (run where the document is laid out):
    ``pages``, how many pages the back page takes; ``over``, for each section (in order)
    how much taller (mm) its content is than the room above the contact panel (then it
    runs under the panel, or the back page breaks onto another page). Empty for an issue
    without a back page."""
    from weasyprint.formatting_structure import boxes

    order: dict[int, int] = {}  # a section's element -> its index
    fragments: list[tuple[int, int, float, float]] = []  # (page, section, top, bottom) px
    panels: list[tuple[int, float, float]] = []  # (page, top, height) of the contact panel
    pages: list[int] = []
    bottoms: dict[int, float] = {}  # page -> the foot of its content area
    heads: dict[int, float] = {}  # page -> the top of its content area

    def content(box) -> tuple[float, float] | None:
        found = [(d.position_y, d.position_y + d.margin_height()) for d in box.descendants()
                 if isinstance(d, (boxes.LineBox, boxes.ReplacedBox))]
        return (min(t for t, _ in found), max(b for _, b in found)) if found else None

    def walk(box, number: int) -> None:
        element = getattr(box, "element", None)
        classes = set((element.get("class") or "").split()) if element is not None else set()
        tag = getattr(box, "element_tag", "")
        if "back-page" in classes and number not in pages:
            pages.append(number)
        if "back-section" in classes and "::" not in tag:
            index = order.setdefault(id(element), len(order))
            span = content(box)
            if span:
                fragments.append((number, index, *span))
            return
        if "back-bottom" in classes and "::" not in tag:
            panels.append((number, box.position_y, box.margin_height()))
            return
        for child in getattr(box, "children", None) or []:
            walk(child, number)

    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        heads[number] = page_box.content_box_y()
        bottoms[number] = heads[number] + page_box.height
        walk(page_box, number)
    if not pages:
        return {}
    first = pages[0]
    on_first = [top for page, top, _ in panels if page == first]
    panel_top = on_first[0] if on_first else \
        bottoms[first] - (panels[0][2] if panels else 0.0)
    # The room a section has: from the top of the sections on the back page's first page
    # down to the panel; what it needs: its content's height, over every page it took.
    tops = [top for page, _, top, _ in fragments if page == first]
    room = panel_top - (min(tops) if tops else heads[first])
    need = [0.0] * len(order)
    for _, index, top, bottom in fragments:
        need[index] += bottom - top
    return {"pages": len(pages),
            "over": [max(0.0, height - room) * PX_MM for height in need]}


def check_fit(fit: dict | None, manifest, problems: Problems,
              logo_sizes: dict | None = None) -> None:
    """An error for each back-page section the back page has no room for (its text would
    be hidden under the contact panel, or pushed onto a page of its own): naming its file
    and what to cut."""
    if not fit:
        return
    row = float({**LOGO_SIZE, **(logo_sizes or {})}["height_mm"]) + 4
    named = {s.index: s for s in sources(manifest, Problems())}
    reported = False
    for index, mm in enumerate(fit.get("over", [])):
        if mm < 0.5:
            continue
        source = named.get(index)
        cut = f"about {max(1, -(-mm // LINE_MM)):.0f} line(s) of its text"
        if source is not None and "![" in source.body:
            cut += f" or {max(1, -(-mm // row)):.0f} row(s) of its logos ({row:g} mm a row)"
        problems.error(
            f"the back page has no room for all of this section: it runs {mm:.0f} mm past "
            "the space above the contact panel"
            + (" and onto a page of its own" if fit.get("pages", 1) > 1 else "")
            + f"; cut {cut}, or move some of it into an article (or shorten the contact "
            "block and the credits below it). Nothing was written",
            file=source.path if source else manifest.path,
            key="" if source is None or source.path != Path(manifest.path)
            else f"{source.key}.text")
        reported = True
    if fit.get("pages", 1) > 1 and not reported:
        problems.error("the back page runs onto a page of its own; shorten its sections, "
                       "its contact block or its credits. Nothing was written",
                       file=manifest.path, key="back_page")


def check_words(manifest, text: str, problems: Problems, inline,
                allow_html: bool = False) -> None:
    """No silent loss on the back page either: an error for each section some of whose
    words (title and text) are not on the laid-out pages."""
    import html as html_module

    from .articles import markdown_parser, render_blocks
    from .textcheck import page_words, words

    printed = page_words(text)
    md = markdown_parser(manifest.issue.language)
    for source in sources(manifest, Problems()):
        title = html_module.unescape(re.sub(r"<[^>]*>", " ", str(inline(source.title) or "")))
        found = words(title)
        for block in render_blocks(md, source.body, source.first_line, source.path,
                                   Problems(), allow_html=allow_html, html_images=False):
            found |= words(block.text)
        missing = sorted(found - printed)
        if missing:
            shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
            problems.error(f"{len(missing)} word(s) of this back-page section did not reach "
                           f"the laid-out pages ({shown}); nothing was written. Shorten it, "
                           "and please report it", file=source.path)
