"""Helpers shared by the hostile-input tests (this module holds no tests itself)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pikepdf
import pytest

from newsletter_pdf.build import check_issue
from newsletter_pdf.errors import ValidationError


def problems_of(folder: Path) -> list[str]:
    """Every problem ``check_issue`` reports, with the issue folder prefix removed."""
    with pytest.raises(ValidationError) as info:
        check_issue(folder)
    return [str(p).removeprefix(str(folder) + "/") for p in info.value.problems]


def build(folder: Path, out: Path, **kw):
    """A full build of one small edition (the email one where editions exist), fast."""
    from newsletter_pdf.build import build_issue

    kw.setdefault("editions", ("email",))
    kw.setdefault("preflight", False)
    return build_issue(folder, out_dir=out, **kw)


def pdfs(out: Path) -> list[Path]:
    return sorted(out.glob("*.pdf"))


def tree_digest(folder: Path, skip: Path | None = None) -> dict[str, str]:
    """Relative path -> sha256 (or link target / 'dir') of everything under ``folder``."""
    digest = {}
    for path in sorted(folder.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            digest[rel] = "-> " + str(path.readlink())
        elif path.is_dir():
            digest[rel] = "dir"
        else:
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def png_bytes(width: int, height: int, rgb=(255, 0, 255)) -> bytes:
    """A solid-colour PNG written by hand (no Pillow): exact bytes, any size."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                               8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


class PdfFacts:
    """Everything a secret could hide in: decoded streams, text, attachments, images."""

    def __init__(self, path: Path):
        import pypdf

        self.raw = path.read_bytes()
        self.streams: list[bytes] = []
        self.strings: list[str] = []
        self.images: list[tuple[int, int]] = []
        self.attachments: dict[str, bytes] = {}
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        self.streams.append(obj.read_bytes())
                    except pikepdf.PdfError:
                        self.streams.append(obj.read_raw_bytes())
                    if obj.get("/Subtype") == "/Image":
                        self.images.append((int(obj.Width), int(obj.Height)))
                if isinstance(obj, pikepdf.Dictionary):
                    for value in obj.values():
                        if isinstance(value, pikepdf.String):
                            self.strings.append(str(value))
            for name, spec in pdf.attachments.items():
                self.attachments[name] = spec.get_file().read_bytes()
        self.text = "\n".join(page.extract_text() or ""
                              for page in pypdf.PdfReader(path).pages)

    def contains(self, token: bytes) -> bool:
        return (token in self.raw or any(token in s for s in self.streams)
                or any(token in data for data in self.attachments.values())
                or token.decode() in self.text
                or any(token.decode() in s for s in self.strings))
