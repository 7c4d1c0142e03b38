"""Is the logo visible where the cover puts it? The masthead band is a brand colour (the
layout says which: ``options.masthead_colour``, default ``primary``); a logo drawn for
light paper — dark lettering on a transparent ground — all but disappears on it.

The logo's visible colour is the mean of its opaque pixels (a PNG or JPEG, seen small); it
is compared with the band's colour by the WCAG contrast ratio, and under 3:1 (WCAG's floor
for graphics and large text) the editor is told which logo and what to give instead. An SVG
logo is not judged: what it shows depends on how its shapes overlap."""

from __future__ import annotations

from pathlib import Path

from .contrast import contrast, luminance, relative_luminance
from .errors import Problems
from .layouts import Layout
from .manifest import Manifest

#: WCAG 2's minimum contrast for graphical objects and large text.
MIN_CONTRAST = 3.0


def check_logo_on_band(manifest: Manifest, layout: Layout, problems: Problems) -> None:
    """Warn when the logo the cover sets on its masthead band is hard to see on it."""
    from .compose import brand_colours

    key = "newsletter.logo_on_dark" if manifest.newsletter.logo_on_dark else "newsletter.logo"
    logo = manifest.newsletter.logo_on_dark or manifest.newsletter.logo
    role = str((layout.options or {}).get("masthead_colour", "primary"))
    band = brand_colours(manifest, layout).get(role)
    if not logo or not band:
        return
    seen = _visible_luminance(Path(logo))
    if seen is None:
        return
    ratio = contrast(seen, luminance(band))
    if ratio >= MIN_CONTRAST:
        return
    fix = ("give a light version of it (white or pale lettering) as newsletter.logo_on_dark"
           if key == "newsletter.logo" else "make this version lighter (white or pale "
           "lettering on a transparent ground)")
    where = (manifest.locations or {}).get(key)
    problems.warn(f"{Path(logo).name} is hard to see on the cover's masthead band: its "
                  f"colours stand {ratio:.1f}:1 against the band's {band} (at least "
                  f"{MIN_CONTRAST:.0f}:1 reads); {fix}",
                  file=where.file if where else manifest.path,
                  line=where.line if where else None,
                  column=where.column if where else None, key=key)


def _visible_luminance(path: Path) -> float | None:
    """The relative luminance of what the logo shows (None: nothing to judge it by)."""
    if path.suffix.lower() == ".svg":
        return None
    try:
        return _raster_luminance(path)
    except (OSError, ValueError, SyntaxError):
        return None  # the check of the images reports an unreadable logo


def _raster_luminance(path: Path) -> float | None:
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (64, 64))
        small = image.convert("RGBA")
        small.thumbnail((64, 64))
    total = weight = 0.0
    pixels = small.tobytes()
    for r, g, b, a in zip(pixels[0::4], pixels[1::4], pixels[2::4], pixels[3::4]):
        if a:
            total += a * relative_luminance([r / 255, g / 255, b / 255])
            weight += a
    return total / weight if weight else None
