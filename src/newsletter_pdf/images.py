"""Stage 2b — images: every photo, cover and logo is opened and checked before layout.

A broken image found here is a clear, located error; found by WeasyPrint it would be a
silently missing picture.
"""

from __future__ import annotations

import contextlib
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image, ImageFile, UnidentifiedImageError

from .errors import Problems
from .manifest import Manifest
from .schema import Where

# Pillow's own guard against decompression bombs, made explicit: 100 megapixels covers
# any camera a communications officer owns; beyond that is an error, not an OOM kill.
MAX_PIXELS = 100_000_000
MAX_SIDE = 30_000  # pixels; a longer side is a mistake (or an attack), not a photo
MAX_ASPECT = 20  # a photo 20 times wider than tall (or taller than wide) cannot be laid out
MAX_SVG_BYTES = 10 * 1024 * 1024
RASTER_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "GIF"}
EXTENSIONS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "TIFF": (".tif", ".tiff"),
              "WEBP": (".webp",), "GIF": (".gif",), "SVG": (".svg",)}

# Formats recognised by their first bytes, to name what a file really is.
_MAGIC = [
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"), (b"%PDF", "PDF"),
    (b"8BPS", "PSD"), (b"PK\x03\x04", "ZIP"), (b"\x00\x00\x01\x00", "ICO"),
]
_UNSUPPORTED = {
    "HEIC": "an iPhone HEIC photo", "AVIF": "an AVIF image", "PDF": "a PDF document",
    "PSD": "a Photoshop (PSD) file", "ZIP": "a ZIP or Office document", "BMP": "a BMP image",
    "ICO": "an icon (ICO) file", "EPS": "an EPS file",
}
XLINK = "{http://www.w3.org/1999/xlink}href"
SVG_DATA_OK = re.compile(r"data:", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.I)


def sniff(head: bytes) -> str | None:
    """The format a file's first bytes say it is (None: not recognised)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand[:3] in (b"hei", b"hev", b"mif", b"msf"):
            return "HEIC"
    if head.startswith(b"%!PS"):
        return "EPS"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head.lower():
        return "SVG"
    return None


@dataclass(frozen=True)
class ImageInfo:
    """What the layout and preflight need to know about a source image."""

    path: Path
    format: str
    width: int  # pixels (0 for SVG)
    height: int
    mode: str = ""


def image_references(manifest: Manifest) -> list[tuple[Path, str, Where | None]]:
    """Every image the manifest names (and the images its articles' text shows, see
    articles.with_article_images), with its key path and location."""
    refs: list[tuple[Path, str, Where | None]] = []
    if manifest.newsletter.logo:
        refs.append((Path(manifest.newsletter.logo), "newsletter.logo", None))
    if manifest.newsletter.logo_on_dark:
        refs.append((Path(manifest.newsletter.logo_on_dark), "newsletter.logo_on_dark", None))
    if manifest.cover:
        refs.append((Path(manifest.cover.image), "cover.image", None))
    for i, spec in enumerate(manifest.articles):
        for j, photo in enumerate(spec.photos):
            refs.append((Path(photo.file), photo_key(manifest, i, j, photo, "file"),
                         photo.where))
        for j, (path, where) in enumerate(spec.text_images):
            refs.append((Path(path), f"articles[{i}].text_images[{j}]", where))
    if manifest.back_page is not None:  # the sponsors' logos in its sections' Markdown
        from .backpage import back_page_images

        refs += back_page_images(manifest)
    return refs


def photo_key(manifest: Manifest, article: int, index: int, photo, name: str) -> str:
    """The key path of a photo's field as the file that gives it names it: the manifest's
    ``articles[2].photos[0].file``, an article's front matter's ``photos[0].file``."""
    where = photo.where
    if where is not None and where.file is not None and where.file != manifest.path:
        return f"photos[{index}].{name}"
    return f"articles[{article}].photos[{index}].{name}"


def reference_location(manifest: Manifest, key: str, where: Where | None) -> dict:
    """Where a problem with an image reference is reported: its line, else the manifest."""
    where = where or (manifest.locations or {}).get(key)
    return {"file": where.file, "line": where.line, "column": where.column} if where \
        else {"file": manifest.path}


def inspect_images(manifest: Manifest, problems: Problems,
                   verified: Path | None = None, defer: bool = False) -> dict[Path, ImageInfo]:
    """Open every referenced image; report unreadable, unsupported or oversized ones.

    ``verified`` (a folder in the build's cache) remembers, by content hash, the photos
    whose every byte decoded cleanly: a rebuild skips that full decode (about a tenth of
    a second a photo). ``defer``: no full decode of JPEGs here — the photo preparation of a
    PDF edition decodes each photo anyway and reports a damaged one in the same words
    (a progressive JPEG costs nearly a full decode even at 1/8 scale: this was most of a
    first build's check)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    jobs = []
    seen: set[Path] = set()  # a broken file used twice is reported once
    for path, key, where in image_references(manifest):
        if path in seen:
            continue
        seen.add(path)
        jobs.append((path, key, reference_location(manifest, key, where)))

    def one(job):
        path, key, loc = job
        found = Problems()
        return inspect_image(path, found, key=key, verified=verified, defer=defer,
                             **loc), found

    # Decoding releases the interpreter lock: one photo per core (reported in order). The
    # warning filter is set here, once, for every thread (each photo's own is not safe
    # across threads, and every state of it then keeps this one).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            results = list(pool.map(one, jobs))
    infos: dict[Path, ImageInfo] = {}
    for (path, _, _), (info, found) in zip(jobs, results):
        problems.extend(found)
        if info is not None:
            infos[path] = info
    return infos


def _digest(path: Path) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def inspect_image(path: Path, problems: Problems, key: str = "",
                  verified: Path | None = None, defer: bool = False,
                  **loc) -> ImageInfo | None:
    """Open one image (header and a full decode check) or record why it cannot be used.

    Every refusal names the file and says what to do about it. ``defer``: leave a JPEG's
    full decode to the photo preparation that follows (a build: it decodes every photo
    anyway, and reports a damaged one in the same words, :func:`decode_problem`).
    """
    name = path.name

    def bad(message: str) -> None:
        problems.error(f"{name} {message}", key=key, **loc)

    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(512)
    except PermissionError:
        bad("cannot be read (permission denied); check its permissions, e.g. chmod a+r")
        return None
    except OSError as exc:
        bad(f"cannot be read ({exc.strerror}); copy it again")
        return None
    if size == 0:
        bad("is empty (0 bytes); copy the photo again")
        return None
    actual = sniff(head)
    suffix = path.suffix.lower()
    if actual in _UNSUPPORTED:
        bad(f"is {_UNSUPPORTED[actual]}, which this tool cannot place; export it as "
            "JPEG (photos) or PNG/SVG (logos and artwork)")
        return None
    if suffix == ".svg" or actual == "SVG":
        if actual not in ("SVG", None):
            bad(f"is named .svg but is a {actual} image; rename it to "
                f"{path.stem}{EXTENSIONS[actual][0]}" if actual in EXTENSIONS else
                "is named .svg but is not SVG; re-export it")
            return None
        return _inspect_svg(path, size, bad)
    if actual is None:
        bad("is not an image (or is corrupt): its first bytes match no image format; "
            "re-export it as JPEG or PNG")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            fmt, width, height, mode = im.format, im.width, im.height, im.mode
            if fmt not in RASTER_FORMATS:
                bad(f"is a {fmt} image, which PDFs cannot carry; save it as JPEG or PNG")
                return None
            problem = _dimensions_problem(width, height)
            if problem:
                bad(problem)
                return None
            defer = defer and fmt == "JPEG"  # (a PNG's chunk-by-chunk check stays here)
            digest = _digest(path) if verified is not None and not defer else None
            if not defer and (digest is None or not (verified / digest).is_file()):
                _full_decode(im)
                if digest is not None:
                    with contextlib.suppress(OSError):
                        verified.mkdir(parents=True, exist_ok=True)
                        (verified / digest).touch()
    except DECODE_ERRORS as exc:
        bad(decode_problem(exc, actual))
        return None
    if suffix and fmt in EXTENSIONS and suffix not in EXTENSIONS[fmt]:
        problems.warn(f"{name} is a {fmt} image named {suffix}; rename it to "
                      f"{path.stem}{EXTENSIONS[fmt][0]}", key=key, **loc)
    return ImageInfo(path, fmt, width, height, mode)


#: What decoding a bad image raises (Pillow names damage in several ways).
DECODE_ERRORS = (Image.DecompressionBombError, UnidentifiedImageError, MemoryError, OSError,
                 SyntaxError, ValueError, EOFError)


def decode_problem(exc: BaseException, actual: str | None) -> str:
    """What is wrong with an image whose decoding raised ``exc`` (``actual``: the format its
    first bytes say), and what to do: the words after the file's name."""
    if isinstance(exc, Image.DecompressionBombError):
        return (f"claims more than {MAX_PIXELS // 1_000_000} megapixels (a decompression "
                "bomb?); scale it down or export it again")
    if isinstance(exc, UnidentifiedImageError):
        return f"looks like {actual} but cannot be read (corrupt); re-export it as JPEG or PNG"
    if isinstance(exc, MemoryError):
        return "is too large to decode in the memory available; scale it down"
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "truncat" in detail.lower():
        return ("is truncated (the file ends too early: an interrupted copy or download); "
                "copy it again from the original")
    return f"is damaged ({detail}); export it again from the original"


def _dimensions_problem(width: int, height: int) -> str | None:
    if width < 1 or height < 1:
        return f"has no pixels ({width}×{height}); export it again"
    if width * height > MAX_PIXELS:
        return (f"has {width}×{height} pixels (over {MAX_PIXELS // 1_000_000} megapixels); "
                "scale it down")
    if max(width, height) > MAX_SIDE:
        return (f"is {width}×{height} pixels, longer than {MAX_SIDE:,} pixels on one side; "
                "scale it down")
    if max(width, height) > MAX_ASPECT * min(width, height):
        return (f"is {width}×{height} pixels: one side is more than {MAX_ASPECT} times the "
                "other; crop it to a printable shape")
    return None


def _full_decode(im: Image.Image) -> None:
    """Decode every byte (truncation and corruption show up only then), cheaply.

    JPEGs decode in draft mode at 1/8 scale: the whole stream is read, memory stays at
    1/64 of the full image. PNGs are checked chunk by chunk (CRCs, Pillow's verify) and
    their compressed pixel stream is inflated in small pieces and thrown away: a bad or
    cut-off stream is found without holding the image in memory.
    """
    # WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES globally when imported (it would
    # rather print half a photo): checks must see truncation, so switch it off meanwhile.
    relaxed = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        _decode(im)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = relaxed


def _decode(im: Image.Image) -> None:
    if im.format == "JPEG":
        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()
        return
    if im.format == "PNG":
        with Image.open(im.filename) as fresh:
            fresh.verify()
        _check_png_stream(Path(im.filename))
        return
    im.load()


def _check_png_stream(path: Path) -> None:
    """Inflate a PNG's IDAT stream piecewise; raise OSError if it is broken or short."""
    inflater = zlib.decompressobj()
    expected = None
    produced = 0
    with open(path, "rb") as handle:
        handle.read(8)
        while True:
            header = handle.read(8)
            if len(header) < 8:
                raise OSError("the file ends before its last chunk (truncated)")
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IHDR" and length == 13:
                expected = _png_raw_size(handle.read(13))
                handle.read(4)
                continue
            if kind == b"IDAT":
                remaining = length
                while remaining:
                    data = handle.read(min(remaining, 1 << 16))
                    if not data:
                        raise OSError("the file ends inside the image data (truncated)")
                    remaining -= len(data)
                    try:
                        while data:
                            produced += len(inflater.decompress(data, 1 << 20))
                            data = inflater.unconsumed_tail
                    except zlib.error as exc:
                        raise OSError(f"the image data is corrupt ({exc})") from None
                handle.read(4)
            else:
                handle.seek(length + 4, 1)
            if kind == b"IEND":
                break
    while not inflater.eof and inflater.unconsumed_tail:  # pragma: no cover
        produced += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
    if not inflater.eof or (expected is not None and produced < expected):
        raise OSError("the image data stops early (truncated)")


def _png_raw_size(ihdr: bytes) -> int | None:
    """Bytes the inflated pixel stream must hold (rows with their filter byte)."""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        return None

    def rows(w: int, h: int) -> int:
        return 0 if not w or not h else h * (1 + (w * depth * channels + 7) // 8)

    if not interlace:
        return rows(width, height)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)]
    return sum(rows((width - x0 + dx - 1) // dx if width > x0 else 0,
                    (height - y0 + dy - 1) // dy if height > y0 else 0)
               for x0, y0, dx, dy in passes)


def _inspect_svg(path: Path, size: int, bad) -> ImageInfo | None:
    """SVG must be well-formed, self-contained and free of scripts and entity tricks."""
    if size > MAX_SVG_BYTES:
        bad(f"is {size / 2**20:.0f} MB, too large for an SVG logo or drawing (at most "
            f"{MAX_SVG_BYTES // 2**20} MB); simplify it or export it as PNG")
        return None
    raw = path.read_bytes()
    if re.search(rb"<!(DOCTYPE|ENTITY)", raw, re.I):
        bad("declares a DOCTYPE or entities, which can hide references to other files; "
            "re-export it without them (e.g. as plain SVG)")
        return None
    if re.search(rb"<\?xml-stylesheet", raw, re.I):
        bad("links an external stylesheet; embed the styles or re-export it as plain SVG")
        return None
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        bad(f"is not a valid SVG file ({exc}); re-export it")
        return None
    if not root.tag.endswith("svg"):
        bad(f"is XML but not SVG (its root element is <{_local(root.tag)}>); re-export it")
        return None
    for element in root.iter():
        tag = _local(element.tag) if isinstance(element.tag, str) else ""
        if tag in ("script", "foreignObject", "iframe", "object", "embed"):
            bad(f"contains <{tag}>, which is not allowed in images; re-export it without it")
            return None
        for attr, value in element.attrib.items():
            local = _local(attr)
            if local == "href" and not _svg_ref_ok(value):
                bad(f"refers to an external file ({local}=\"{_short(value)}\" on <{tag}>); "
                    "embed the image in the SVG or remove the reference")
                return None
            if local.startswith("on"):
                bad(f"contains an event handler ({local}=) on <{tag}>; re-export it as plain "
                    "SVG")
                return None
            for ref in CSS_URL.findall(value):
                if not _svg_ref_ok(ref):
                    bad(f"refers to an external file (url({_short(ref)}) on <{tag}>); embed "
                        "it or remove the reference")
                    return None
        if tag == "style" and element.text:
            if re.search(r"@import", element.text, re.I):
                bad("imports an external stylesheet (@import); embed the styles")
                return None
            for ref in CSS_URL.findall(element.text):
                if not _svg_ref_ok(ref):
                    bad(f"refers to an external file (url({_short(ref)}) in <style>); "
                        "embed it or remove the reference")
                    return None
    return ImageInfo(path, "SVG", 0, 0)


def _svg_ref_ok(value: str) -> bool:
    value = value.strip()
    return value == "" or value.startswith("#") or bool(SVG_DATA_OK.match(value))


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _short(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
