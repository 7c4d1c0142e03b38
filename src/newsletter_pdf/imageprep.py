"""Image preparation per edition, with Pillow and littleCMS — never left to WeasyPrint.

* **print**: photos colour-managed into the press profile (CMYK, e.g. FOGRA39) from their
  embedded ICC profile (sRGB assumed when none), greyscale kept as greyscale (prints on K),
  downsampled only when far above the target (``max_ppi``), JPEG q92. An image with real
  transparency (a logo) keeps it: a PNG with alpha, converted to CMYK in the PDF.
* **email**: sRGB, downsampled to ~150 ppi at the largest size the layout can place the
  photo, JPEG at the configured quality; PNGs with alpha (logos) stay lossless PNG.

EXIF orientation is applied; 16-bit and palette images are converted properly; JPEGs are
decoded in draft mode when shrinking (much faster). Results are cached by content hash +
parameters, so an unchanged photo is never prepared twice; originals are never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from .atomic import write_atomically
from .units import MM_PER_INCH

CACHE_VERSION = 5


@dataclass(frozen=True)
class Target:
    """How to prepare an image for one edition."""

    edition: str  # the edition's name: part of the cache key only
    max_width_mm: float  # the largest width the layout can give this image
    ppi: int  # wanted effective resolution
    max_ppi: int  # only downsample when above this
    jpeg_quality: int
    cmyk_profile: Path | None = None  # a press target: convert into this CMYK profile

    @property
    def press(self) -> bool:
        """For a printing press: CMYK, full-resolution chroma, never PNG."""
        return self.cmyk_profile is not None

    def key(self, digest: str, basis: Target | None = None) -> str:
        """The cache name of this copy of the photo ``digest`` (decoded for ``basis``)."""
        profile = ""
        if self.cmyk_profile:
            profile = hashlib.sha256(self.cmyk_profile.read_bytes()).hexdigest()[:16]
        params = json.dumps([CACHE_VERSION, self.edition, round(self.max_width_mm, 2),
                             self.ppi, self.max_ppi, self.jpeg_quality, profile])
        if basis is not None and basis != self:
            params += "|decoded for " + basis.key(digest)
        return hashlib.sha256((digest + params).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Prepared:
    path: Path
    width: int
    height: int
    mode: str
    cached: bool


def prepare_image(source: Path, target: Target, cache_dir: Path,
                  cached_only: bool = False, basis: Target | None = None) -> Prepared | None:
    """Prepare ``source`` for ``target`` (or reuse the cached result). ``cached_only``:
    None when it is not in the cache (nothing is decoded). ``basis``: see
    :func:`prepare_images`."""
    return prepare_images(source, [target], cache_dir, cached_only, basis)[0]


def prepare_images(source: Path, targets: list[Target], cache_dir: Path,
                   cached_only: bool = False,
                   basis: Target | None = None) -> list[Prepared | None]:
    """Prepare ``source`` for each of ``targets`` (several editions), decoding it once for
    all the copies not cached yet. ``cached_only``: None for each copy not in the cache
    (nothing is decoded).

    ``basis``: the target the photo is decoded for — the most demanding of every edition
    that could place it (see editions.photo_bases), whichever editions this build makes —
    so that a copy is the same whether its edition is built alone or beside the others
    (and the cache key says which decode it came from). Default: each target its own."""
    digest = source_digest(source)
    keys = [target.key(digest, basis) for target in targets]
    done: list[Prepared | None] = [_cached(cache_dir, key) for key in keys]
    missing = [i for i, prepared in enumerate(done) if prepared is None]
    if cached_only or not missing:
        return done
    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:  # changed since: its own copies
        _digests.pop(_stamp(source), None)
        return prepare_images(source, targets, cache_dir, cached_only, basis)
    cache_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[Target, list[int]] = {}  # one decode per basis
    for i in missing:
        groups.setdefault(basis or targets[i], []).append(i)
    for decode_for, members in groups.items():
        decoded, icc = _open(data, decode_for, resize=False)
        for i in members:
            image = _resized(decoded, targets[i])
            done[i] = _write(image, icc, targets[i], source, cache_dir, keys[i])
    return done


@dataclass(frozen=True)
class Planned:
    """Where a copy not prepared yet will be, and its pixels' size and mode."""

    path: Path
    width: int
    height: int
    mode: str


def plannable(source: Path) -> bool:
    """True if :func:`plan_image` can plan copies of ``source`` (a JPEG)."""
    try:
        with Image.open(source) as image:
            return _plannable(source, image)
    except (OSError, ValueError, SyntaxError):
        return False


def _plannable(source: Path, image: Image.Image) -> bool:
    # (a file named .png is prepared losslessly, whatever is inside)
    return source.suffix.lower() != ".png" and image.format == "JPEG" and \
        image.mode in ("L", "RGB", "CMYK")


def plan_image(source: Path, target: Target, cache_dir: Path,
               basis: Target | None = None) -> Planned | None:
    """The copy :func:`prepare_images` will make of ``source`` for ``target`` (decoded for
    ``basis``), read from the photo's header alone: a layout needs only its size, and the
    pixels are wanted when the PDF is written. None when that cannot be known without
    decoding it (not a JPEG: a PNG's transparency decides its format)."""
    try:
        with Image.open(source) as image:
            if not _plannable(source, image):
                return None
            width, height = image.size
            wanted = _wanted_width(width, basis or target)
            if wanted < width // 2:  # the decode's draft scale, as _open takes it
                scale = width / wanted
                image.draft(image.mode, (int(width / scale) + 1, int(height / scale) + 1))
                width, height = image.size
            if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):  # turned a quarter
                width, height = height, width
            mode = image.mode
    except (OSError, ValueError, SyntaxError):
        return None  # the photo pass reports a damaged photo
    wanted = _wanted_width(width, target)
    if wanted < width:
        width, height = wanted, max(1, round(height * wanted / width))
    if target.press:
        mode = "L" if mode == "L" else "CMYK"
    elif mode == "CMYK":
        mode = "RGB"
    key = target.key(source_digest(source), basis)
    return Planned(cache_dir / f"{key}.jpg", width, height, mode)


#: The EXIF tag of a photo's orientation.
ORIENTATION = 0x0112


def finest(source: Path, targets: list[Target]) -> Target:
    """Of ``targets``, the one that needs the most of ``source``'s pixels."""
    with Image.open(source) as probe:
        width = probe.width
    return max(targets, key=lambda t: (_wanted_width(width, t), t.max_width_mm * t.ppi))


_digests: dict[tuple, str] = {}  # (path, size, mtime): content hash, for this process


def _stamp(source: Path) -> tuple:
    stat = source.stat()
    return (str(source.resolve()), stat.st_size, stat.st_mtime_ns)


def source_digest(source: Path) -> str:
    """The content hash of a photo, read once per process while the file is unchanged (a
    build asks for each photo three times: the photo pass and both editions)."""
    stamp = _stamp(source)
    if stamp not in _digests:
        _digests[stamp] = hashlib.sha256(source.read_bytes()).hexdigest()
    return _digests[stamp]


def _cached(cache_dir: Path, key: str) -> Prepared | None:
    for suffix in (".jpg", ".png"):
        cached = cache_dir / f"{key}{suffix}"
        if cached.is_file():
            with Image.open(cached) as im:
                return Prepared(cached, im.width, im.height, im.mode, True)
    return None


def _write(image: Image.Image, icc: bytes | None, target: Target, source: Path,
           cache_dir: Path, key: str) -> Prepared:
    """Colour-convert and encode one prepared copy into the cache."""
    lossless = source.suffix.lower() == ".png" or image.mode in ("RGBA", "LA", "P", "PA")
    keeps_alpha = target.press and _transparent(image)
    if keeps_alpha:
        # A logo over the cover's colour band must not print on a white box: it stays a
        # PNG with its alpha (sRGB or grey); the print edition converts its colour into
        # the press profile in the PDF, keeping the soft mask (pressimages.py).
        image = _to_srgb(image, icc)
    elif target.press:
        image = _to_print(image, icc, target)
    else:
        image = _to_srgb(image, icc)
    out = io.BytesIO()
    if keeps_alpha or (lossless and image.mode in ("RGBA", "LA", "RGB", "L")
                       and not target.press):
        image.save(out, "PNG", optimize=True)
        suffix = ".png"
    else:
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = _flatten(image)
        # Huffman-optimising a 300 ppi CMYK photo takes three times as long as encoding
        # it, for under 1 % of its size: only the email edition, whose size counts, does.
        save = {"quality": target.jpeg_quality, "optimize": not target.press,
                "subsampling": 0 if target.press else 2}
        if target.press and image.mode == "CMYK" and target.cmyk_profile:
            save["icc_profile"] = target.cmyk_profile.read_bytes()
        image.save(out, "JPEG", **save)
        suffix = ".jpg"
    path = cache_dir / f"{key}{suffix}"
    write_atomically(path, out.getvalue())
    return Prepared(path, image.width, image.height, image.mode, False)


def _open(data: bytes, target: Target, resize: bool = True):
    """Decode, honouring EXIF orientation; shrink early (JPEG draft mode) when we can.
    ``resize=False``: leave the final resize to :func:`_resized`."""
    image = Image.open(io.BytesIO(data))
    icc = image.info.get("icc_profile")
    wanted = _wanted_width(image.width, target)
    if image.format == "JPEG" and wanted < image.width // 2:
        # draft() decodes at 1/2, 1/4 or 1/8 scale directly: far less time and memory
        scale = image.width / wanted
        image.draft(image.mode, (int(image.width / scale) + 1, int(image.height / scale) + 1))
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
        image = image.convert("RGB")
    return (_resized(image, target) if resize else image), icc


def _resized(image: Image.Image, target: Target) -> Image.Image:
    """``image`` at the width ``target`` wants (never enlarged)."""
    wanted = _wanted_width(image.width, target)
    if wanted < image.width:
        height = max(1, round(image.height * wanted / image.width))
        image = image.resize((wanted, height), Image.LANCZOS, reducing_gap=3.0)
    return image


def _wanted_width(width: int, target: Target) -> int:
    """Pixels needed across the largest placed width; only shrink if over max_ppi."""
    inches = target.max_width_mm / MM_PER_INCH
    if inches <= 0:
        return width
    if width / inches <= target.max_ppi:
        return width
    return max(1, round(inches * target.ppi))


_SRGB = None


def _srgb():
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.createProfile("sRGB")
    return _SRGB


def _profile(icc: bytes | None, fallback):
    if icc:
        try:
            return ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except (OSError, ImageCms.PyCMSError):
            pass
    return fallback


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if image.mode == "CMYK":
        source = _profile(icc, None)
        if source is None:
            return image.convert("RGB")
        return ImageCms.profileToProfile(image, source, _srgb(), outputMode="RGB")
    if icc and image.mode in ("RGB", "RGBA"):
        source = _profile(icc, None)
        if source is not None:
            alpha = image.getchannel("A") if image.mode == "RGBA" else None
            rgb = ImageCms.profileToProfile(image.convert("RGB"), source, _srgb(),
                                            renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                            outputMode="RGB")
            if alpha is not None:
                rgb.putalpha(alpha)
            return rgb
    return image


def _to_print(image: Image.Image, icc: bytes | None, target: Target) -> Image.Image:
    if image.mode in ("L", "LA"):
        return image.convert("L")  # greyscale prints on black alone
    if image.mode == "CMYK" and not icc:
        return image  # already press-ready (assumed in the press profile)
    if image.mode in ("RGBA", "LA", "PA"):
        image = _flatten(image)  # opaque alpha: nothing to keep
    return rgb_to_press(image, target.cmyk_profile, icc)


def rgb_to_press(image: Image.Image, profile: Path, icc: bytes | None = None) -> Image.Image:
    """An RGB image (in its embedded profile ``icc``, else sRGB) in the press profile's
    CMYK, perceptual intent (photos: keep the gradations, not the exact out-of-gamut hue)."""
    return ImageCms.applyTransform(image.convert("RGB"), _press_transform(profile, icc))


_transforms = threading.local()  # a colour transform is not for two threads at once


def _press_transform(profile: Path, icc: bytes | None,
                     intent: int = ImageCms.Intent.PERCEPTUAL):
    """The RGB → press CMYK transform, built once per thread, profile pair and intent:
    building it (reading a CMYK profile's tables) costs about as much as applying it to a
    photo."""
    cache = _transforms.__dict__.setdefault("made", {})
    key = (str(profile), hashlib.sha256(icc).digest() if icc else None, intent)
    if key not in cache:
        cache[key] = ImageCms.buildTransform(_profile(icc, _srgb()),
                                             ImageCms.getOpenProfile(str(profile)), "RGB",
                                             "CMYK", renderingIntent=intent)
    return cache[key]


def _transparent(image: Image.Image) -> bool:
    """True if some pixel is not fully opaque (a logo), False for an opaque alpha."""
    return image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] < 255


def _flatten(image: Image.Image) -> Image.Image:
    image = image.convert("RGBA")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def cmyk_of(hex_colour: str, profile: Path) -> tuple[float, float, float, float]:
    """A brand colour (#RRGGBB) converted into the press profile, as 0–1 CMYK."""
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    rgb = tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
    pixel = Image.new("RGB", (1, 1), rgb)
    out = ImageCms.applyTransform(pixel, _press_transform(
        profile, None, ImageCms.Intent.RELATIVE_COLORIMETRIC))
    return tuple(round(v / 255, 3) for v in out.getpixel((0, 0)))


def cache_dir_for(out_dir: Path) -> Path:
    return Path(os.environ.get("NEWSLETTER_CACHE", out_dir / ".cache" / "images"))


HEX = __import__("re").compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
NAMED = {"white": "#ffffff", "black": "#000000"}


def prepare_svg_for_print(source: Path, profile: Path, cache_dir: Path) -> Path:
    """A copy of an SVG whose #RRGGBB colours are press CMYK (device-cmyk()), cached."""
    import re

    text = source.read_text(encoding="utf-8")
    profile_id = hashlib.sha256(profile.read_bytes()).hexdigest()[:16]
    key = hashlib.sha256((text + profile_id + str(CACHE_VERSION)).encode()).hexdigest()[:32]
    out = cache_dir / f"{key}.svg"
    if out.is_file():
        return out

    def cmyk(match) -> str:
        c, m, y, k = cmyk_of(match.group(0), profile)
        if match.group(0).lower() in ("#000", "#000000"):
            c, m, y, k = 0, 0, 0, 1  # black artwork: pure K
        return f"device-cmyk({c:.3f} {m:.3f} {y:.3f} {k:.3f})"

    for name, value in NAMED.items():
        text = re.sub(rf'((?:fill|stroke|stop-color)\s*[:=]\s*"?){name}\b', rf"\g<1>{value}",
                      text)
    text = HEX.sub(cmyk, text)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(out, text.encode("utf-8"))
    return out
