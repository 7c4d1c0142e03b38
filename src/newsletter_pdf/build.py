"""The whole pipeline in one function: manifest → articles → layout → HTML → PDF.

Each CLI command is a thin wrapper around :func:`check_issue` or :func:`build_issue`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .articles import Article, read_articles
from .compose import Edition, check_fonts, compose_html
from .errors import Problem, Problems
from .images import inspect_images
from .layouts import Layout, load_layout
from .manifest import Manifest, load_manifest
from .render import render_pdf, write_atomically


@dataclass
class Checked:
    """A validated issue, ready to compose."""

    manifest: Manifest
    articles: list[Article]
    layout: Layout
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class Built:
    """One written PDF and what the user should know about it."""

    path: Path
    pages: int
    size: int
    seconds: float
    warnings: list[Problem] = field(default_factory=list)


def check_issue(target: Path, strict: bool = False) -> Checked:
    """Validate everything without rendering; raise with *all* problems at once."""
    problems = Problems()
    manifest = load_manifest(target, problems)
    problems.raise_if_errors()
    articles = read_articles(manifest, problems)
    inspect_images(manifest, problems)
    layout = load_layout(manifest, problems)
    if layout is not None:
        check_fonts(manifest, layout, problems)
    problems.raise_if_errors(strict)
    return Checked(manifest, articles, layout, problems.warnings)


def default_output_dir(manifest: Manifest) -> Path:
    return Path("build") / manifest.folder.name


def build_issue(target: Path, out_dir: Path | None = None, strict: bool = False,
                allow_remote: bool = False) -> Built:
    """Check, compose, render and write the issue's PDF (atomically)."""
    started = time.perf_counter()
    checked = check_issue(target, strict=strict)
    manifest = checked.manifest
    problems = Problems()
    html = compose_html(manifest, checked.articles, checked.layout, problems, Edition())
    roots = [manifest.folder, *checked.layout.roots]
    rendered = render_pdf(html, manifest.folder, roots, problems, allow_remote=allow_remote,
                          pdf_options=_pdf_options(manifest))
    problems.raise_if_errors(strict)
    out = Path(out_dir) if out_dir else default_output_dir(manifest)
    path = out / f"{manifest.slug}.pdf"
    write_atomically(path, rendered.pdf)
    return Built(path, rendered.pages, len(rendered.pdf), time.perf_counter() - started,
                 checked.warnings + problems.warnings)


def _pdf_options(manifest: Manifest) -> dict:
    return {"custom_metadata": True}
