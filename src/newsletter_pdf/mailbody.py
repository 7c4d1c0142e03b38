"""What the email shows of the issue: its contents, a cover thumbnail and its links.

``newsletter send`` puts these into the message templates (``email/body.html`` and
``email/body.txt``): each article's kicker, title and teaser (the cover's teaser text for
it, else its deck), a small JPEG of the cover photo sent inline and referred to by
Content-ID, and the addresses of the web edition and of the PDF when it is linked rather
than attached. Titles and teasers are inline Markdown: the HTML gets them rendered by the
same safe renderer as the PDF (links only to http, https and mailto; raw HTML shown as
text), the plain text gets the same words without markup.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

#: The thumbnail's size in pixels (3:2, the width of the message's column).
THUMBNAIL = (600, 400)
THUMBNAIL_QUALITY = 72


@dataclass(frozen=True)
class Thumbnail:
    """The cover photo as a small JPEG for the message."""

    data: bytes
    width: int
    height: int
    alt: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]


# --------------------------------------------------------------------------- filling words


def _placeholders(values: dict) -> re.Pattern | None:
    return re.compile(r"\{(" + "|".join(map(re.escape, values)) + r")\}") if values else None


def fill_text(text, **values) -> str:
    """A word-table sentence with its ``{key}`` placeholders filled in, in one pass (a
    value that holds ``{name}`` stays as it is). For the plain-text templates."""
    pattern = _placeholders(values)
    source = str(text)
    return pattern.sub(lambda m: str(values[m[1]]), source) if pattern else source


def fill_html(text, **values) -> Markup:
    """:func:`fill_text` for the HTML template: the sentence and every value escaped,
    except values that are already markup (a link or ``<strong>`` the template built)."""
    pattern = _placeholders(values)
    source = str(text) if not isinstance(text, Markup) else text.unescape()
    if pattern is None:
        return Markup(escape(source))
    out, last = [], 0
    for m in pattern.finditer(source):
        out.append(escape(source[last:m.start()]))
        out.append(escape(values[m[1]]))
        last = m.end()
    out.append(escape(source[last:]))
    return Markup("".join(out))


# --------------------------------------------------------------------------- contents


def contents(manifest, articles, inline, web_url: str = "") -> list[dict]:
    """One entry per article in reading order (boxes sit inside theirs): kicker, title and
    teaser as safe HTML and as plain text, and the article's address in the web edition."""
    teasers = {}
    if manifest.cover:
        teasers = {t.article: t.text for t in manifest.cover.teasers if t.text}
    entries = []
    for article in articles:
        teaser = teasers.get(article.id) or article.deck or ""
        entry = {"id": article.id, "lang": article.language, "dir": article.direction,
                 "url": f"{web_url.split('#')[0]}#art-{article.id}" if web_url else ""}
        for key, value in (("kicker", article.kicker), ("title", article.title),
                           ("teaser", teaser)):
            rendered = inline(value) if value else None
            entry[key] = rendered or ""
            entry[f"{key}_text"] = plain(rendered) if rendered else ""
        entries.append(entry)
    return entries


def plain(markup: str) -> str:
    """The text of a short piece of inline HTML (tags dropped, entities decoded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", str(markup))).split())


# --------------------------------------------------------------------------- links


def pdf_url(distribution, filename: str) -> str:
    """Where the email PDF is online: ``pdf_url``, else ``web_url``'s folder plus the PDF's
    file name (the web edition's folder holds the PDFs), else ''."""
    if distribution.pdf_url:
        return distribution.pdf_url
    web = distribution.web_url
    if not web:
        return ""
    parts = urlsplit(web)
    path = parts.path or "/"
    if not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        # '…/2011-q1/index.html' names a page: its folder; '…/2011-q1' names the folder.
        path = path.rsplit("/", 1)[0] + "/" if "." in last else path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}{quote(filename)}"


# --------------------------------------------------------------------------- thumbnail


def thumbnail(manifest, cache_dir: Path) -> Thumbnail | None:
    """The cover photo cropped to 3:2 around its focus point, 600 px wide, as a JPEG
    (sRGB, EXIF orientation applied, by the same image pipeline as the PDFs)."""
    from PIL import Image, ImageOps

    from .imageprep import Target, prepare_image

    cover = manifest.cover
    if cover is None or Path(cover.image).suffix.lower() == ".svg":
        return None
    # Twice the thumbnail's width at 96 px to the inch: room to crop, then downsample.
    target = Target("email-thumbnail", THUMBNAIL[0] * 2 * 25.4 / 96, 96, 96, 90)
    prepared = prepare_image(Path(cover.image), target, cache_dir)
    with Image.open(prepared.path) as im:
        im.load()
        image = im
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    image = ImageOps.fit(image.convert("RGB"), THUMBNAIL, Image.Resampling.LANCZOS,
                         centering=_centering(cover.focus))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True, progressive=True)
    return Thumbnail(out.getvalue(), *THUMBNAIL, alt=cover.alt or cover.caption or "")


_KEYWORDS = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


def _centering(focus: str | None) -> tuple[float, float]:
    """The cover's ``focus`` (CSS object-position) as Pillow's centering fractions;
    lengths other than percentages fall back to the middle."""
    values = []
    for word in (focus or "").split()[:2]:
        if word.endswith("%"):
            values.append(min(max(float(word[:-1]) / 100, 0.0), 1.0))
        else:
            values.append(_KEYWORDS.get(word, 0.5))
    if len(values) == 1:
        word = (focus or "").split()[0]
        values = [values[0], 0.5] if word not in ("top", "bottom") else [0.5, values[0]]
    return (values[0], values[1]) if values else (0.5, 0.5)


# --------------------------------------------------------------------------- colours


def readable_on_white(hex_colour: str, ratio: float = 4.5) -> str:
    """``hex_colour`` darkened just enough for small text on white to reach ``ratio``
    (WCAG AA: 4.5:1); a brand colour that already does is returned as it is."""
    from .contrast import contrast, hex_rgb, relative_luminance

    try:
        rgb = hex_rgb(hex_colour)
    except ValueError:
        return hex_colour
    for _ in range(40):
        if contrast(1.0, relative_luminance(rgb)) >= ratio:
            break
        rgb = [c * 0.94 for c in rgb]
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)
