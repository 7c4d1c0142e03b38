"""Font lookup: which file on the search path serves each font of a layout.

The search path is the issue's ``fonts/``, each layout's ``fonts/`` (child first), then
the fonts shipped with newsletter-pdf. The PDF editions, the slug line on the print sheet
and the web edition all find their files here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .layouts import Layout
from .manifest import Manifest

FONT_STYLES = {  # layout.yaml font file keys -> (font-weight, font-style)
    "regular": ("400", "normal"), "italic": ("400", "italic"),
    "medium": ("500", "normal"), "medium-italic": ("500", "italic"),
    "semibold": ("600", "normal"), "semibold-italic": ("600", "italic"),
    "bold": ("700", "normal"), "bold-italic": ("700", "italic"),
    "black": ("900", "normal"), "black-italic": ("900", "italic"),
}


@dataclass(frozen=True)
class FontFile:
    """One face of one of the layout's font roles, as found on disk (or not)."""

    role: str  # body | display | …
    family: str
    style_key: str  # regular | italic | bold …
    relative: str  # as written in layout.yaml
    weight: str
    style: str
    path: Path | None  # None: not found on the search path


def find_font(dirs: list[Path], relative: str) -> Path | None:
    """The first ``dirs / relative`` that is a regular file inside its folder: by its real
    path, so a ``..`` or a symlink leading out of a fonts folder is not a font (``check``
    then says it is not found, like the templates and stylesheets)."""
    for folder in dirs if relative else []:
        candidate = folder / relative
        try:
            real = candidate.resolve(strict=True)
            inside = real.is_relative_to(folder.resolve(strict=True))
        except (OSError, RuntimeError):  # missing, or a looping symlink
            continue
        if inside and real.is_file():
            return candidate
    return None


def font_files(manifest: Manifest, layout: Layout) -> list[FontFile]:
    """Every font face the layout names, in layout order, with the file that serves it."""
    dirs = layout.font_dirs(manifest.folder)
    out = []
    for role, spec in (layout.fonts or {}).items():
        family = spec.get("family", role)
        for style_key, relative in (spec.get("files") or {}).items():
            weight, style = FONT_STYLES.get(style_key, ("400", "normal"))
            out.append(FontFile(role, family, style_key, relative, weight, style,
                                find_font(dirs, relative)))
    return out


def font_families_css(layout: Layout) -> str:
    """``--font-<role>`` custom properties: each role's family and its fallback."""
    return " ".join(f'--font-{role}: "{spec.get("family", role)}", '
                    f'{spec.get("fallback", "serif")};'
                    for role, spec in (layout.fonts or {}).items())


def display_font(manifest: Manifest, layout: Layout) -> Path | None:
    """The display role's regular face (or its first), e.g. for the print slug line."""
    faces = [f for f in font_files(manifest, layout) if f.role == "display"]
    face = next((f for f in faces if f.style_key == "regular"), None) or \
        next(iter(faces), None)
    return face.path if face else None
