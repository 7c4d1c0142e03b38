"""The layout memo: what fit each build of an issue settled on, kept in the build cache.

A build (and the preview) looks up the composed HTML's fingerprint: the same content was
laid out before, so its fit level, repairs and page count are known and the editions render
once, side by side. After an edit, the most recent entry of the same issue is the guess the
page-budget search starts from (``repair.Guess``). The memo is a cache: it is never the
build's error when it cannot be read or written.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import write_atomically
from .compose import compose_bounded
from .editions import page_reference, prepare_edition

if TYPE_CHECKING:
    from .errors import Problems
    from .manifest import Manifest

#: Entries kept (the oldest go first): a file of a few kilobytes.
KEPT = 20


def fingerprint(manifest: Manifest, checked, out: Path, problems: Problems,
                prepare=prepare_edition) -> str:
    """A fingerprint of everything that decides the layout: the composed HTML (content,
    layout, prepared images — their cache names are content hashes) and our version."""
    from . import __version__

    edition = prepare(page_reference().name, manifest, checked.layout, out, problems)
    html = compose_bounded(manifest, checked.articles, checked.layout, problems, edition,
                           allow_html=checked.allow_html, time_limit=checked.time_limit)
    # The same content built into another folder (or from a copy of the issue) is the same
    # layout: the folders' own paths do not count.
    for folder, name in ((out, "<out>"), (manifest.folder, "<issue>")):
        html = html.replace(Path(folder).resolve().as_uri(), name)
    return hashlib.sha256(f"{__version__}\n{html}".encode()).hexdigest()


def memo_path(out: Path) -> Path:
    """The memo of the builds into ``out`` (the test suite shares one across its folders:
    ``NEWSLETTER_LAYOUT_MEMO`` names that file)."""
    from .imageprep import cache_dir_for

    shared = os.environ.get("NEWSLETTER_LAYOUT_MEMO")
    return Path(shared) if shared else cache_dir_for(out).parent / "layout-memo.json"


def read(out: Path) -> dict:
    """Every entry by fingerprint, oldest first; empty when there is none or it is unreadable."""
    try:
        data = json.loads(memo_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write(out: Path, key: str, value: dict) -> None:
    """Store ``value`` under ``key`` as the newest entry (a failed write is let be)."""
    memo = read(out)
    memo.pop(key, None)  # re-inserted last: the order is the order of the builds
    memo[key] = value
    while len(memo) > KEPT:
        memo.pop(next(iter(memo)))
    path = memo_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(memo, indent=1).encode())
    except OSError:
        pass  # a cache: the next build searches again (a full disk is reported by the PDFs)


def latest(out: Path, manifest: Manifest) -> dict | None:
    """The layout of the most recent build of this issue (its manifest file) into ``out``
    (the memo keeps insertion order)."""
    issue = str(manifest.path.resolve())
    for entry in reversed(read(out).values()):
        if isinstance(entry, dict) and entry.get("issue") == issue \
                and isinstance(entry.get("fit"), str) and isinstance(entry.get("pages"), int) \
                and isinstance(entry.get("budget"), int):
            return entry
    return None


def remember(out: Path, key: str, css: str, outcome, manifest: Manifest) -> None:
    """Store what ``fit_and_repair`` settled on (``outcome``) at ``css`` under ``key``."""
    write(out, key, {"fit": css, "pages": outcome.rendered.pages, "log": outcome.log,
                     "budget": outcome.budget, "findings": len(outcome.findings),
                     "issue": str(manifest.path.resolve())})

