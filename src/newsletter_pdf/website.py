"""Stage 7 — the web edition: one self-contained folder, ``index.html`` plus its assets.

Everything the page loads is in the folder (photos, fonts, CSS): it opens from disk or any
static host and sends no request to another host. Photos come from the same image
pipeline as the PDFs, at two widths, as WebP with a JPEG fallback; the layout's fonts are
subset to the characters the issue uses and written as WOFF2. The folder is written
beside the old one and swapped in at the end, so a failed build leaves the last good one.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from .atomic import write_atomically
from .compose import Edition, brand_colours, issue_context, prepared_sources, render_template
from .errors import Problems, RenderError
from .fonts import font_families_css, font_files
from .imageprep import Target, cache_dir_for, prepare_image
from .images import image_references
from .layouts import Layout
from .manifest import Manifest

#: Pixel widths each photo is offered at (srcset); the cover gets a wider one.
WIDTHS = {"photo": (480, 960), "cover": (800, 1600)}
JPEG_QUALITY = 72
WEBP_QUALITY = 70
CSS_PX_PER_INCH = 96
FOLDER = "web"


@dataclass
class WebImage:
    """One photo as the page offers it."""

    jpeg: list[tuple[str, int]]  # (relative URL, pixel width), narrow first
    webp: list[tuple[str, int]]
    width: int  # of the widest, for the img's width/height (no layout shift)
    height: int

    @property
    def src(self) -> str:
        return self.jpeg[-1][0]

    def srcset(self, kind: str) -> str:
        return ", ".join(f"{url} {w}w" for url, w in getattr(self, kind))


@dataclass
class WebBuild:
    """What was written."""

    folder: Path
    index: Path
    files: list[Path] = field(default_factory=list)
    page_weight: int = 0  # bytes a reader downloads: the page, its CSS, fonts, images


def build_web(manifest: Manifest, articles, layout: Layout, out_dir: Path,
              problems: Problems, pdfs: dict[str, Path], allow_html: bool = False) -> WebBuild:
    """Write ``out_dir/web/`` (index.html, style.css, img/, fonts/, the PDFs)."""
    target = out_dir / FOLDER
    staging = out_dir / f".{FOLDER}.{os.getpid()}.tmp"
    try:
        _write_site(manifest, articles, layout, out_dir, problems, pdfs, allow_html, staging)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p for p in target.rglob("*") if p.is_file())
    built = WebBuild(target, target / "index.html", files)
    built.page_weight = page_weight(target)
    return built


def warm_web(manifest: Manifest, articles, layout: Layout, out_dir: Path, problems: Problems,
             pdfs: dict[str, Path], allow_html: bool = False) -> None:
    """Do the slow part of :func:`build_web` ahead (WebP photos, font subsets: both cached),
    as if the ``pdfs`` were already written, in a folder thrown away afterwards."""
    import tempfile

    cache = cache_dir_for(out_dir)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as folder:
        _write_site(manifest, articles, layout, out_dir, problems, pdfs, allow_html,
                    Path(folder) / FOLDER, copy_pdfs=False)


def _write_site(manifest, articles, layout, out_dir: Path, problems: Problems,
                pdfs: dict[str, Path], allow_html: bool, staging: Path,
                copy_pdfs: bool = True) -> None:
    """Everything of the web folder into ``staging``."""
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "img").mkdir(parents=True)
    (staging / "fonts").mkdir()
    images, urls = _photos(manifest, layout, out_dir, staging)
    edition = Edition(name="web", image_urls=urls)
    context = issue_context(manifest, articles, layout, problems, edition, allow_html)
    _shift_headings(context["articles"])
    links = {}
    for name, pdf in pdfs.items():
        if not copy_pdfs:
            links[name] = pdf.name
        elif pdf.is_file():
            shutil.copyfile(pdf, staging / pdf.name)
            links[name] = pdf.name
    context.update({
        "images": images, "pdfs": links, "stylesheet": "style.css",
        "head_css": Markup(""),  # the page's own, below; never the PDF's @page rules
        "cover_image": images.get(urls.get(str(manifest.cover.image))) if manifest.cover
        else None,
        "description": _description(manifest, articles),
    })
    # Rendered twice: the fonts are subset to the text of the first rendering, and
    # their @font-face rules go into the second (as layout data, never user text).
    html = render_template(layout, "index.html", context, folder=FOLDER)
    fonts_css = _fonts(manifest, layout, staging, _text_of(html), cache_dir_for(out_dir))
    colours = " ".join(f"--brand-{k}: {v};"
                       for k, v in brand_colours(manifest, layout).items())
    head = f"{fonts_css}\n:root {{ {colours} {font_families_css(layout)} }}"
    context["head_css"] = Markup(head.replace("</", "<\\/"))
    # the images of the articles' text: their web copy, never a path on the editor's disk
    html = prepared_sources(render_template(layout, "index.html", context, folder=FOLDER),
                            edition)
    css = [p.read_text(encoding="utf-8") for p in _stylesheets(layout)]
    (staging / "style.css").write_text("\n".join(css), encoding="utf-8")
    (staging / "index.html").write_text(html, encoding="utf-8")


def page_weight(folder: Path) -> int:
    """Bytes a reader downloads for ``folder/index.html``: the page, its stylesheet, its
    fonts and, for each photo, the largest variant a browser may choose (WebP)."""
    html = (folder / "index.html").read_text(encoding="utf-8")
    total = len(html.encode())
    seen = set()
    for ref in re.findall(r'(?:href|src)="([^"#?]+)"', html):
        if ref.endswith(".pdf") or "://" in ref or ref.startswith(("mailto:", "tel:")):
            continue
        seen.add(ref)
    for srcset in re.findall(r'<source[^>]*srcset="([^"]+)"', html):
        seen.add(srcset.split(",")[-1].split()[0])  # the widest WebP
    # A browser takes the WebP of a <picture>, not its JPEG fallback.
    seen = {ref for ref in seen
            if not (ref.endswith(".jpg") and ref[:-4] + ".webp" in html)}
    for ref in seen:
        path = folder / ref
        if path.is_file():
            total += path.stat().st_size
    for font in (folder / "fonts").glob("*.woff2"):
        total += font.stat().st_size
    return total


def _stylesheets(layout: Layout) -> list[Path]:
    found = layout.find("web/web.css")
    if found is None:
        raise RenderError(f"layout {layout.name!r} has no web/web.css; add one (or extend "
                          "the built-in newsletter layout)")
    return [found]


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` (the old folder goes only once the new is in)."""
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _photos(manifest: Manifest, layout: Layout, out_dir: Path,
            staging: Path) -> tuple[dict[str, WebImage], dict[str, str]]:
    """Prepare every photo at its web widths; (images by URL, URL by source path)."""

    cache = cache_dir_for(out_dir)
    images: dict[str, WebImage] = {}
    urls: dict[str, str] = {}
    for path, key, _ in image_references(manifest):
        if str(path) in urls:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        if path.suffix.lower() == ".svg":  # a logo: vector, placed as it is
            url = f"img/{digest}.svg"
            shutil.copyfile(path, staging / url)
            urls[str(path)] = url
            continue
        jpeg, webp = [], []
        size = (0, 0)
        for px in WIDTHS["cover" if key == "cover.image" else "photo"]:
            target = Target("web", px * 25.4 / CSS_PX_PER_INCH, CSS_PX_PER_INCH,
                            CSS_PX_PER_INCH, JPEG_QUALITY)
            prepared = prepare_image(path, target, cache)
            if jpeg and prepared.width <= jpeg[-1][1]:
                continue  # the original is not wider than the narrow variant
            suffix = prepared.path.suffix
            url = f"img/{digest}-{prepared.width}{suffix}"
            shutil.copyfile(prepared.path, staging / url)
            jpeg.append((url, prepared.width))
            webp_url = f"img/{digest}-{prepared.width}.webp"
            size = _webp(prepared.path, staging / webp_url, cache)
            webp.append((webp_url, prepared.width))
        url = jpeg[-1][0]
        urls[str(path)] = url
        images[url] = WebImage(jpeg, webp, *size)
    return images, urls


def _webp(jpeg: Path, target: Path, cache: Path) -> tuple[int, int]:
    """Write the WebP twin of a prepared JPEG to ``target``; its pixel size. Encoding is slow
    (about half a second a photo), so it is kept in the cache beside the JPEG, whose name is
    already a hash of its content and settings."""
    from PIL import Image

    cached = cache / f"{jpeg.stem}-q{WEBP_QUALITY}.webp"
    if not cached.is_file():
        with Image.open(jpeg) as im:
            out = io.BytesIO()
            im.save(out, "WEBP", quality=WEBP_QUALITY, method=6)
        write_atomically(cached, out.getvalue())
    shutil.copyfile(cached, target)
    with Image.open(cached) as im:
        return im.size


def _fonts(manifest: Manifest, layout: Layout, staging: Path, text: str, cache: Path) -> str:
    """Subset each of the layout's faces to the issue's characters, as WOFF2 files (kept in
    ``cache`` by font and character set: subsetting takes about a second a face)."""
    chars = "".join(sorted(set(text) | {chr(c) for c in range(0x20, 0x7F)}
                           | set("‘’“”–—…·•€£")))
    rules = []
    for face in font_files(manifest, layout):
        if face.path is None:
            continue
        name = f"fonts/{face.path.stem}.woff2"
        key = hashlib.sha256(b"harfbuzz\n" + face.path.read_bytes()
                             + chars.encode()).hexdigest()[:32]
        cached = cache / "fonts" / f"{key}.woff2"
        if not cached.is_file():
            write_atomically(cached, _subset(face.path, chars))
        shutil.copyfile(cached, staging / name)
        rules.append(f'@font-face {{ font-family: "{face.family}"; src: url("{name}") '
                     f'format("woff2"); font-weight: {face.weight}; font-style: '
                     f"{face.style}; font-display: swap; }}")
        licence = face.path.parent / "OFL.txt"
        if licence.is_file():
            shutil.copyfile(licence, staging / "fonts" / f"{face.path.parent.name}-OFL.txt")
    return "\n".join(rules)


def _subset(path: Path, chars: str) -> bytes:
    """The font cut down to ``chars`` (with every OpenType feature, so Arabic joins and
    ligatures still work, and the .notdef outline), as WOFF2. HarfBuzz cuts it (a
    hundred times quicker than fontTools' subsetter, and it drops the Graphite tables a
    browser would misread in a subset); fontTools compresses it."""
    import logging

    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    # fontTools remarks on fonts' odd timestamps on the terminal: not news to the editor.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    face = hb.Face(hb.Blob.from_file_path(str(path)))
    wanted = hb.SubsetInput()
    wanted.sets(hb.SubsetInputSets.UNICODE).update(ord(c) for c in chars)
    for every in (hb.SubsetInputSets.LAYOUT_FEATURE_TAG, hb.SubsetInputSets.NAME_ID,
                  hb.SubsetInputSets.NAME_LANG_ID, hb.SubsetInputSets.LAYOUT_SCRIPT_TAG):
        wanted.sets(every).clear()
        wanted.sets(every).invert()  # the empty set inverted: all of them
    wanted.flags |= hb.SubsetFlags.NOTDEF_OUTLINE
    cut = hb.subset(face, wanted)
    if cut is None:
        raise ValueError(f"HarfBuzz could not subset {path.name}")
    font = TTFont(io.BytesIO(cut.blob.data), recalcTimestamp=False)
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()


def _shift_headings(articles: list[dict]) -> None:
    """An article's own headings one level down: on the page its title is an h2 (the
    newsletter's name is the one h1), so its sections are h3 and below."""
    def shift(html):
        return Markup(re.sub(r"<(/?)h([2-5])\b", lambda m: f"<{m[1]}h{int(m[2]) + 1}",
                             str(html)))

    for article in articles:
        for item in article["flow"]:
            if item.html is not None:
                item.html = shift(item.html)
            if item.box:
                for inner in item.box.get("flow", []):
                    if inner.html is not None:
                        inner.html = shift(inner.html)


def _text_of(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


def _description(manifest: Manifest, articles) -> str:
    """A sentence for link previews: the first teaser or deck, else the tagline."""
    if manifest.cover and manifest.cover.teasers and manifest.cover.teasers[0].text:
        return manifest.cover.teasers[0].text
    for article in articles:
        if article.deck:
            return article.deck
    return manifest.newsletter.tagline or manifest.issue.period
