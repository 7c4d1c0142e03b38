"""Stage 2b — images: every photo, cover and logo is opened and checked before layout.

A broken image found here is a clear, located error; found by WeasyPrint it would be a
silently missing picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image, UnidentifiedImageError

from .errors import Problems
from .manifest import Manifest
from .schema import Where

# Pillow's own guard against decompression bombs, made explicit: 120 megapixels covers
# any camera a communications officer owns; beyond that is an error, not an OOM kill.
MAX_PIXELS = 120_000_000
RASTER_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "GIF"}


@dataclass(frozen=True)
class ImageInfo:
    """What the layout and preflight need to know about a source image."""

    path: Path
    format: str
    width: int  # pixels (0 for SVG)
    height: int
    mode: str = ""


def image_references(manifest: Manifest) -> list[tuple[Path, str, Where | None]]:
    """Every image the manifest names, with its key path and location."""
    refs: list[tuple[Path, str, Where | None]] = []
    if manifest.newsletter.logo:
        refs.append((Path(manifest.newsletter.logo), "newsletter.logo", None))
    if manifest.newsletter.logo_on_dark:
        refs.append((Path(manifest.newsletter.logo_on_dark), "newsletter.logo_on_dark", None))
    if manifest.cover:
        refs.append((Path(manifest.cover.image), "cover.image", None))
    for i, spec in enumerate(manifest.articles):
        for j, photo in enumerate(spec.photos):
            refs.append((Path(photo.file), f"articles[{i}].photos[{j}].file", photo.where))
    return refs


def inspect_images(manifest: Manifest, problems: Problems) -> dict[Path, ImageInfo]:
    """Open every referenced image; report unreadable, unsupported or oversized ones."""
    infos: dict[Path, ImageInfo] = {}
    for path, key, where in image_references(manifest):
        if path in infos:
            continue
        loc = {"file": where.file, "line": where.line, "column": where.column} if where \
            else {"file": manifest.path}
        info = inspect_image(path, problems, key=key, **loc)
        if info is not None:
            infos[path] = info
    return infos


def inspect_image(path: Path, problems: Problems, key: str = "", **loc) -> ImageInfo | None:
    """Open one image (header and full decode check) or record why it cannot be used."""
    name = path.name
    if path.suffix.lower() == ".svg":
        try:
            ElementTree.parse(path)
        except (ElementTree.ParseError, OSError) as exc:
            problems.error(f"{name} is not a valid SVG file ({exc}); re-export it",
                           key=key, **loc)
            return None
        return ImageInfo(path, "SVG", 0, 0)
    try:
        if path.stat().st_size == 0:
            problems.error(f"{name} is empty (0 bytes); copy the photo again", key=key, **loc)
            return None
        with Image.open(path) as im:
            if im.format not in RASTER_FORMATS:
                problems.error(f"{name} is a {im.format} image, which PDFs cannot carry; "
                               "save it as JPEG or PNG", key=key, **loc)
                return None
            if im.width * im.height > MAX_PIXELS:
                problems.error(f"{name} has {im.width}×{im.height} pixels (over "
                               f"{MAX_PIXELS // 1_000_000} megapixels); scale it down",
                               key=key, **loc)
                return None
            info = ImageInfo(path, im.format, im.width, im.height, im.mode)
        with Image.open(path) as im:
            im.verify()
    except UnidentifiedImageError:
        problems.error(f"{name} is not an image Pillow can read (corrupt, or not the "
                       "format its name says); re-export it as JPEG or PNG", key=key, **loc)
        return None
    except Image.DecompressionBombError:
        problems.error(f"{name} is too large to decode safely; scale it down", key=key, **loc)
        return None
    except (OSError, SyntaxError, ValueError) as exc:
        problems.error(f"{name} is damaged or truncated ({exc}); copy or export it again",
                       key=key, **loc)
        return None
    return info
