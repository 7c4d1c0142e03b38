"""Press colour for the images only WeasyPrint can write: transparent photos and logos.

The print edition prepares its photos as CMYK JPEGs (imageprep), but a PNG with real
transparency (a logo over the cover's colour band) must keep its alpha channel, and the
renderer can only write such an image as RGB + a soft mask. After rendering, every RGB
image of the print PDF is converted here into the press profile with littleCMS (sRGB
assumed: imageprep has already colour-managed it into sRGB); its soft mask stays as it
is, so the logo prints over what is behind it (PDF/X-4 allows transparency) instead of
on a white box.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pikepdf
from PIL import Image


def press_colour_images(pdf: bytes, profile: Path, sources: dict | None = None) -> bytes:
    """``pdf`` with each DeviceRGB image converted into CMYK of ``profile``.

    ``sources`` (image digest -> photo, see photocheck) learns the converted images'
    new digests, so the resolution check still knows them. Returns ``pdf`` itself when
    it has no RGB image."""
    from .imageprep import rgb_to_press
    from .photocheck import samples_digest

    changed = False
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for obj in doc.objects:
            if not _rgb_image(obj):
                continue
            image = _decode(obj)
            if image is None:
                continue
            old = samples_digest(image.tobytes())
            cmyk = rgb_to_press(image, profile).tobytes()
            obj.write(zlib.compress(cmyk, 6), filter=pikepdf.Name.FlateDecode)
            obj.ColorSpace = pikepdf.Name.DeviceCMYK
            obj.BitsPerComponent = 8
            for key in ("/DecodeParms", "/Decode"):
                if key in obj:
                    del obj[key]
            if sources is not None and old in sources:
                sources[samples_digest(cmyk)] = sources[old]
            changed = True
        if not changed:
            return pdf
        out = io.BytesIO()
        doc.save(out, deterministic_id=True, recompress_flate=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return out.getvalue()


def _rgb_image(obj) -> bool:
    return (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
            and obj.get("/ColorSpace") == "/DeviceRGB"
            and int(obj.get("/BitsPerComponent", 8)) == 8)


def _decode(obj: pikepdf.Stream) -> Image.Image | None:
    """The image's RGB samples, or None: only losslessly stored images (the renderer's
    PNGs) are converted; an RGB JPEG is never written for print (the preflight would
    name it)."""
    if obj.get("/Filter") not in ("/FlateDecode", None):
        return None
    width, height = int(obj.Width), int(obj.Height)
    try:
        data = obj.read_bytes()
    except pikepdf.PdfError:
        return None
    if len(data) < width * height * 3:
        return None
    return Image.frombytes("RGB", (width, height), data[:width * height * 3])
