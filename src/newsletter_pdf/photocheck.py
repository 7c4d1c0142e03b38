"""Which photo each image in a built PDF is, and whether it prints sharp — judged by its original.

Images are recognised by their content, not by their pixel size (two photos prepared to the
same size are common: every landscape photo in a column): a prepared JPEG is written into
the PDF unchanged, so the hash of the image stream is the hash of the prepared file; any
other image is compared by the hash of its decoded samples.

The print resolution check then judges each photo by its **original**'s pixels over the
size it is placed at — our prepared copy is smaller by design when the original is far
sharper than needed, and must not earn the advice "use a larger original".
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from .errors import Problem
from .units import MM_PER_PT

if TYPE_CHECKING:  # pikepdf is imported where a PDF is read: the photo preparation
    import pikepdf  # children import this module and never read one (0.08 s each)


@dataclass(frozen=True)
class PhotoSource:
    """A source photo behind a prepared image: its file, its original pixel size (as
    displayed: EXIF rotation applied) and the width (mm) its copy was prepared for."""

    path: Path
    width: int
    height: int
    prepared_mm: float
    placement: str = "column"  # where the layout sets it (editions.base.placement_of)


def original_size(path: Path) -> tuple[int, int]:
    """The original's pixel size as displayed (EXIF orientations 5–8 swap the axes)."""
    with Image.open(path) as im:
        w, h = im.size
        if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            w, h = h, w
    return w, h


def prepared_digest(path: Path) -> str:
    """The identity a prepared image file will have in the PDF (see :func:`pdf_digest`).

    JPEG: the file's bytes (WeasyPrint embeds them as they are). Other formats are
    decoded and re-compressed by the renderer: the hash of their colour samples (the
    alpha channel goes into a separate soft mask)."""
    # Remembered beside the copy (the cache's own file: a rebuild reads 64 bytes instead of
    # hashing megabytes of print photos before the first render).
    known = path.with_name(path.name + ".sha256")
    try:
        stat = path.stat()
        stamp, digest = known.read_text(encoding="ascii").split()
        if stamp == f"{stat.st_size}:{stat.st_mtime_ns}" and len(digest) == 64:
            return digest
    except (OSError, ValueError):
        pass
    if path.suffix.lower() in (".jpg", ".jpeg"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        with Image.open(path) as im:
            base = {"RGBA": "RGB", "LA": "L", "PA": "RGB", "P": "RGB"}.get(im.mode, im.mode)
            digest = samples_digest(im.convert(base).tobytes())
    try:  # no fsync: a note lost or torn is only hashed again
        stat = path.stat()
        scratch = known.with_name(f"{known.name}.{os.getpid()}.tmp")
        scratch.write_text(f"{stat.st_size}:{stat.st_mtime_ns} {digest}\n", encoding="ascii")
        os.replace(scratch, known)
    except OSError:
        pass  # a read-only cache: hashed again next time
    return digest


def samples_digest(samples: bytes) -> str:
    """The identity of an image by its decoded samples."""
    return hashlib.sha256(samples).hexdigest()


def pdf_digest(xobject: pikepdf.Stream) -> str:
    """The identity of an image XObject: its stream as stored when it is a JPEG (only
    DCTDecode), else its decoded samples; "" when it cannot be decoded."""
    import pikepdf

    filters = xobject.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    try:
        if filters == "/DCTDecode":
            return hashlib.sha256(xobject.read_raw_bytes()).hexdigest()
        return samples_digest(xobject.read_bytes())
    except pikepdf.PdfError:
        return ""


@dataclass(frozen=True)
class Placement:
    """One placed image of a built PDF that is one of our photos."""

    page: int
    source: PhotoSource
    pixel_width: int  # of the copy in the PDF
    width_mm: float
    height_mm: float
    copy_ppi: float  # what the PDF carries

    @property
    def ppi(self) -> float:
        """Effective resolution of the original at this placed size (lower axis)."""
        if self.width_mm <= 0 or self.height_mm <= 0:
            return float("inf")
        return min(self.source.width / (self.width_mm / 25.4),
                   self.source.height / (self.height_mm / 25.4))


def placements(pdf_path: Path, sources: dict[str, PhotoSource]) -> list[Placement]:
    """Every image of ``pdf_path`` recognised as one of ``sources`` (digest -> photo)."""
    import pikepdf

    from .pdfinspect import inspect_pdf

    pages = inspect_pdf(pdf_path)
    found: list[Placement] = []
    digests: dict[tuple[int, int], str] = {}
    with pikepdf.open(pdf_path) as pdf:
        for page in pages:
            for image in page.images:
                if image.objgen not in digests:
                    digests[image.objgen] = pdf_digest(pdf.get_object(image.objgen)) \
                        if image.objgen != (0, 0) else ""
                source = sources.get(digests[image.objgen])
                if source is None:
                    continue
                found.append(Placement(page.number, source, image.pixel_width,
                                       image.width_pt * MM_PER_PT,
                                       image.height_pt * MM_PER_PT, image.ppi))
    return found


def resolution_problems(pdf_path: Path, sources: dict[str, PhotoSource], min_ppi: int,
                        error_ppi: int) -> list[Problem]:
    """One warning per photo that prints under ``min_ppi`` (at its worst placement).

    Under ``error_ppi`` it is a plain warning (an error with ``--strict``); between the
    two it is *advisory*: it stays a warning with ``--strict``. Resolutions are judged as
    they are printed, to the whole ppi (a copy 0.03 ppi short of 300 prints at 300). The
    advice to use a larger original is given only when the original itself is too small,
    with the pixels it needs where the layout sets it; a copy prepared smaller than its
    placement is the layout's fault, and named as such."""
    worst: dict[Path, Placement] = {}
    for placed in placements(pdf_path, sources):
        judged = round(min(placed.ppi, placed.copy_ppi))
        if judged >= min_ppi:
            continue
        path = placed.source.path
        if path not in worst or judged < round(min(worst[path].ppi, worst[path].copy_ppi)):
            worst[path] = placed
    problems = []
    for path, placed in worst.items():
        if round(placed.ppi) < min_ppi:
            ppi = placed.ppi
            message = _original_too_small(placed, min_ppi, error_ppi)
        else:
            ppi = placed.copy_ppi
            message = _copy_too_small(placed)
        problems.append(Problem(message, file=path, warning=True,
                                advisory=round(ppi) >= error_ppi))
    return problems


#: Where each placement is, as the warning says it, and what the editor can change there
#: (a photo's size is the layout's: a column's width, or both columns' for top and span).
_WHERE = {
    "cover": ("filling the cover and its bleed, it is set {mm} mm wide",
              "use a larger original"),
    "logo": ("the logo is {mm} mm wide on the cover", "use a larger logo file, or an SVG"),
    "back_logo": ("the logo is {mm} mm wide on the back page",
                  "use a larger logo file, or an SVG"),
    "span": ("it is set {mm} mm wide",
             "use a larger original, or set it in a column (placement: column)"),
    "column": ("it is set {mm} mm wide", "use a larger original"),
}

#: Print shops take a photo this close to the wanted resolution (many accept 266 ppi for
#: 300): the warning says so rather than send the editor after a larger file in vain.
ACCEPTED_SHARE = 0.9


def _original_too_small(placed: Placement, min_ppi: int, error_ppi: int) -> str:
    """The warning for a photo whose original has too few pixels for where it is set:
    how far under, where it is set, the pixels that would reach ``min_ppi`` there, and
    what the editor can do."""
    ppi = placed.ppi
    if round(ppi) < error_ppi:
        severity = f"too low to print well (under print.error_ppi, {error_ppi})"
    elif ppi >= ACCEPTED_SHARE * min_ppi:
        severity = (f"just under the {min_ppi} ppi wanted (print.min_ppi); many print shops "
                    "accept this, and the difference hardly shows")
    else:
        severity = f"below the {min_ppi} ppi wanted (print.min_ppi)"
    where, advice = _WHERE.get(placed.source.placement, _WHERE["column"])
    have = placed.source.width
    need = math.ceil(have * min_ppi / ppi)
    if severity.startswith("just"):
        advice = f"to reach {min_ppi} ppi, {advice}"
    return (f"{placed.source.path.name} prints at {ppi:.0f} ppi on page {placed.page}, "
            f"{severity}: {where.format(mm=f'{placed.width_mm:.0f}')}, where {min_ppi} ppi "
            f"needs {need:,} px across and this original has {have:,} — {advice}")


def _copy_too_small(placed: Placement) -> str:
    """The warning for a photo whose original is sharp enough but whose prepared copy is
    smaller than the layout sets it: the layout's fault (its image_widths_mm), said in
    the dimension that is short, with the key its author raises — and said to be for the
    layout's author, so the issue's editor knows there is nothing for them to change."""
    source = placed.source
    # only a column photo is prepared for a height (its cap); anything else for a width
    wide = placed.width_mm >= source.prepared_mm + 0.5 or source.placement != "column"
    if wide:
        sizes = f"{placed.width_mm:.0f} mm wide", f"{source.prepared_mm:.0f} mm"
        need = f"{math.ceil(placed.width_mm - 0.5)} mm for {_KEY_WORDS[source.placement]}"
        key = source.placement
    else:  # as wide as prepared for, but taller (a column photo set taller than its cap)
        tall = source.prepared_mm * source.height / source.width
        sizes = (f"{placed.width_mm:.0f} × {placed.height_mm:.0f} mm",
                 f"{source.prepared_mm:.0f} × {tall:.0f} mm")
        need = f"column photos {math.ceil(placed.height_mm - 0.5)} mm tall"
        key = "column_height"
    return (f"{source.path.name} prints at {placed.copy_ppi:.0f} ppi on page {placed.page} "
            f"although its original allows {placed.ppi:.0f} ppi: the layout sets it "
            f"{sizes[0]} but has its copy made for {sizes[1]}. Nothing to change in the "
            f"photo or the issue; for the layout's author: its layout.yaml must allow "
            f"{need} (options.image_widths_mm.{key}; with a built-in layout, report it "
            "as a bug)")


#: What each placement's width is, in the layout-author warning above.
_KEY_WORDS = {"column": "column photos", "span": "photos across the columns",
              "cover": "the cover", "logo": "the logo", "back_logo": "the back page's logos"}
