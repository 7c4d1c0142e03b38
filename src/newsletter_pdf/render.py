"""Stage 5 — rendering: HTML to PDF with WeasyPrint, confined, written atomically.

A failed or interrupted build must never destroy the last good PDF, so the PDF is written
to a temporary file beside the target and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problems, RenderError
from .fetcher import ConfinedFetcher


@dataclass
class Rendered:
    """The result of one render: the PDF bytes and what it took."""

    pdf: bytes
    pages: int
    refused: list[tuple[str, str]] = field(default_factory=list)


class _Collect(logging.Handler):
    """Collects WeasyPrint's warnings (bad CSS, missing resources) for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def render_pdf(html: str, base_dir: Path, roots: list[Path], problems: Problems, *,
               allow_remote: bool = False, pdf_options: dict | None = None) -> Rendered:
    """Lay out and write the PDF in memory; refused resources become problems."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = ConfinedFetcher(roots, allow_remote=allow_remote)
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        font_config = FontConfiguration()
        document = weasyprint.HTML(string=html, base_url=base_dir.as_uri() + "/",
                                   url_fetcher=fetcher).render(
            font_config=font_config, **(pdf_options or {}))
        pdf = document.write_pdf(**(pdf_options or {}))
    except Exception as exc:  # WeasyPrint raises many kinds; the user needs one message
        raise RenderError(f"WeasyPrint could not render the issue: {exc}") from exc
    finally:
        logger.removeHandler(handler)
    for url, reason in fetcher.refused:
        problems.error(f"resource refused: {url} ({reason})")
    return Rendered(pdf=pdf, pages=len(document.pages), refused=list(fetcher.refused))


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file and an atomic rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
