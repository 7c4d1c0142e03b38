"""Where a build writes: the output folder and each edition's file name, in one place
(the build, the slug line on the print sheet, `send` and the web edition's links agree)."""

from __future__ import annotations

from pathlib import Path

from .manifest import Manifest


def default_output_dir(manifest: Manifest) -> Path:
    """``build/<issue folder name>/`` relative to the working directory."""
    return Path("build") / manifest.folder.name


def pdf_name(manifest: Manifest, edition: str) -> str:
    """The file name of one PDF edition, e.g. ``2026-q3-print.pdf``."""
    return f"{manifest.slug}-{edition}.pdf"


def pdf_path(out_dir: Path, manifest: Manifest, edition: str) -> Path:
    """The path of one PDF edition in ``out_dir``."""
    return Path(out_dir) / pdf_name(manifest, edition)
