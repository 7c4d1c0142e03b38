"""Photos laid out before their pixels exist: a render starts while the photos are prepared.

Laying out a page needs a photo's size, not its pixels; writing the PDF needs the pixels.
On a first build the photo pass (decoding every photo, resizing it, converting it for the
press) takes as long as the first layouts, so the build lays out meanwhile: a copy not
prepared yet is planned from its original's header (:func:`.imageprep.plan_image`: the
cache path, pixel size and mode it will have), the renderer's fetcher hands WeasyPrint a
*stand-in* for it — a JPEG header of that size and mode, no pixels — and before the PDF is
written the render waits for the real copy and puts its bytes in the stand-in's place.

Nothing unchecked reaches a PDF: the real copy must have exactly the stand-in's size, mode
and colour encoding, or the render lays the page out again from the real files. Putting
the bytes in place uses WeasyPrint's own image object (``RasterImage.cache_image_data``),
so it is done only on the engine version the patch module was written for; on another,
the render waits for every photo before it lays out (as builds did before).
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

#: How often a render waiting for photos looks for them (seconds).
POLL = 0.01


def stand_in(width: int, height: int, mode: str) -> bytes:
    """A JPEG of ``width`` × ``height`` pixels in ``mode`` as far as its header says: what
    WeasyPrint reads to lay it out (it decodes nothing until the PDF is written)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, (8, 8)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    at = 2  # after the start-of-image marker: one marker segment after another
    while at + 4 <= len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xC0:  # start of frame (baseline): precision, height, width
            data[at + 5:at + 7] = height.to_bytes(2, "big")
            data[at + 7:at + 9] = width.to_bytes(2, "big")
            return bytes(data)
        at += 2 + length
    raise ValueError("no frame header in Pillow's JPEG")  # pragma: no cover


def supported() -> bool:
    """True where stand-ins can be replaced: the engine version the patch module was
    written for (its image object is what :func:`put_in_place` relies on)."""
    import weasyprint

    from .weasyprint_patch import SUPPORTED

    return weasyprint.__version__ == SUPPORTED


def wait_for(paths, deadline: float, failed: str | None = None) -> bool:
    """Wait until every file of ``paths`` exists (the photo pass writes each one whole,
    by renaming it into place); False if ``deadline`` (time.monotonic) passes first, or
    once the file ``failed`` exists (the build's photo pass says so when it fails)."""
    missing = [p for p in paths if not os.path.exists(p)]
    while missing:
        if time.monotonic() > deadline or (failed and os.path.exists(failed)):
            return False
        time.sleep(POLL)
        missing = [p for p in missing if not os.path.exists(p)]
    return True


def put_in_place(images: dict, stood_in: dict[str, str]) -> bool:
    """Give each image laid out from a stand-in (``stood_in``: file path → URL; ``images``:
    WeasyPrint's image cache of the render, URL → image) the real copy's bytes. False if a
    copy differs from its stand-in in size, mode or colour encoding: the layout is then
    not the real photo's, and the render must be done again from the real files."""
    from PIL import Image

    for path, url in stood_in.items():
        image = images.get(url)
        if image is None:  # never placed (or failed to load: WeasyPrint said so)
            continue
        if getattr(image, "optimize", True) or getattr(image, "_jpeg_quality", 1) is not None:
            return False  # WeasyPrint re-encodes images: the stand-in's pixels went in
        try:
            with Image.open(path) as real:
                same = (real.format == "JPEG" and real.size == (image.width, image.height)
                        and real.mode == image.mode
                        and ("APP14" in getattr(real, "app", {})) == image.invert_colors)
        except OSError:
            return False
        if not same:
            return False
        image.image_data = image.cache_image_data(Path(path).read_bytes(), path)
    return True
