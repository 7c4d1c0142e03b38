"""Placement overrides: where the repair stage moved a photo, carried inside the fit's CSS.

The repair stage (``repair.py``) may move a photo to another paragraph boundary of its
article — a change to the document, not to its style. The decision travels with the CSS the
build settled on (the *fit*: stored in the layout memo, added to every edition's
stylesheet), written as a CSS comment the renderer ignores::

    /* place: photo art-orchard seed-swap.jpg after 3 */

``compose.py`` reads these lines back (:func:`read`) and places the photo there, so every
edition — and a warm rebuild from the memo — gets the same pages. Ids and file names come
from the manifest: they are percent-encoded, so no name can end the comment early.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_LINE = re.compile(r"/\* place: photo (\S{1,400}) (\S{1,400}) after (\d{1,4}) \*/")


def photo_css(article: str, file: str, after: int) -> str:
    """The fit line that puts photo ``file`` of ``article`` (its element id) after paragraph
    ``after`` (0: before the first)."""
    return (f"/* place: photo {quote(article, safe='')} {quote(file, safe='')} "
            f"after {max(0, int(after))} */")


def read(css: str) -> dict[tuple[str, str], int]:
    """Every placement in ``css``: (article element id, photo file name) -> paragraph (the
    last line for a photo wins: a later repair pass overrides an earlier one)."""
    return {(unquote(m[1]), unquote(m[2])): int(m[3]) for m in _LINE.finditer(css or "")}


def describe(line: str) -> str | None:
    """A placement line in the editor's words, or None if ``line`` is not one."""
    match = _LINE.fullmatch(line.strip())
    if not match:
        return None
    return f"moved photo {unquote(match[2])} after paragraph {match[3]}"
