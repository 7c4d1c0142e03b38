"""``newsletter archive ISSUES -o SITE``: every issue's web edition and one index page.

Each issue folder under ISSUES (one holding an ``issue.yaml``) is built, all editions, into
``SITE/<folder>/`` (its web edition in ``SITE/<folder>/web/``, with the PDFs). The index
``SITE/index.html`` lists the issues newest first: cover thumbnail, period, contents, links
to the web edition and the PDFs. It is rendered from the newest issue's layout
(``web/archive.html``), autoescaped, and uses that issue's stylesheet and fonts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_atomically
from .errors import UsageError


@dataclass
class ArchivedIssue:
    """One issue as the index shows it (paths relative to the site folder)."""

    title: str
    label: str
    period: str
    date: str
    web: str
    thumbnail: str | None
    thumbnail_alt: str
    contents: list[str] = field(default_factory=list)
    pdfs: dict[str, str] = field(default_factory=dict)
    lang: str = "en"


def issue_folders(root: Path) -> list[Path]:
    """The folders under ``root`` that hold an issue (``issue.yaml``), by name."""
    if (root / "issue.yaml").is_file():
        return [root]
    found = sorted(p.parent for p in root.glob("*/issue.yaml"))
    if not found:
        raise UsageError(f"{root}: no issue folders (a folder with an issue.yaml) found")
    return found


def build_archive(root: Path, site: Path, **build_options) -> tuple[Path, list]:
    """Build every issue under ``root`` into ``site`` and write ``site/index.html``;
    returns (index, build results)."""
    from .build import build_issue, check_issue
    from .compose import render_template
    from .editions import EDITIONS, REGISTRY

    entries: list[tuple[ArchivedIssue, object]] = []
    results = []
    for folder in issue_folders(root):
        out = site / folder.name
        result = build_issue(folder, out_dir=out, editions=EDITIONS, **build_options)
        results.append(result)
        checked = check_issue(folder)
        manifest = checked.manifest
        web = result.outputs["web"].path
        entries.append((ArchivedIssue(
            title=manifest.newsletter.title, label=manifest.issue_label,
            period=manifest.issue.period, date=manifest.issue.date.isoformat(),
            web=_rel(web, site), thumbnail=_thumbnail(web, site),
            thumbnail_alt=(manifest.cover.alt or "") if manifest.cover else "",
            contents=[a.title for a in checked.articles],
            pdfs={name: _rel(out / REGISTRY[name].output_name(manifest), site)
                  for name in EDITIONS if REGISTRY[name].is_pdf},
            lang=manifest.issue.language), checked))
    entries.sort(key=lambda e: e[0].date, reverse=True)  # newest first
    newest, checked = entries[0]
    context = {"issues": [e for e, _ in entries], "newest": newest,
               "title": f"{newest.title} — all issues",
               "stylesheet": str(Path(newest.web).parent / "style.css"),
               "head_css": _head_css(site / newest.web, Path(newest.web).parent)}
    html = render_template(checked.layout, "archive.html", context, folder="web")
    index = site / "index.html"
    write_atomically(index, html.encode("utf-8"))
    return index, results


def _rel(path: Path, site: Path) -> str:
    return path.resolve().relative_to(site.resolve()).as_posix()


def _thumbnail(web_index: Path, site: Path) -> str | None:
    """The cover's narrowest WebP (the hero is the page's first <picture>)."""
    html = web_index.read_text(encoding="utf-8")
    match = re.search(r'class="hero-figure">\s*<picture>\s*<source type="image/webp" '
                      r'srcset="([^" ]+) ', html)
    return _rel(web_index.parent / match[1], site) if match else None


def _head_css(web_index: Path, prefix: Path) -> str:
    """The newest issue's font faces and brand colours, with paths from the site root."""
    from markupsafe import Markup

    html = web_index.read_text(encoding="utf-8")
    match = re.search(r"<style>\n(.*?)\n\s*</style>", html, re.S)
    css = match[1] if match else ""
    return Markup(css.replace('url("fonts/', f'url("{prefix.as_posix()}/fonts/'))
