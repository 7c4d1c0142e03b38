"""Placement overrides: where the repair stage moved a photo or set a pull quote, carried
inside the fit's CSS.

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
_NEW_PAGE = re.compile(r"/\* new page: (\S{1,400}) \*/")
_GROW = re.compile(r"/\* grow: ((?:\S{1,400} \d{1,4}mm,? ?){1,100}) \*/")
_PULL = re.compile(r"/\* pull: (\S{1,400}) after (\S{1,400}) from (\S{1,400}) \*/")
_SPAN = re.compile(r"/\* span: photo (\S{1,400}) (\S{1,400}) \*/")
_QUOTE = re.compile(r"/\* quote: (\S{1,400}) after (\d{1,4}) (column|span) (text|spare) "
                    r"(\S{1,2000}) from (\S{1,400}) \*/")


def photo_css(article: str, file: str, after: int) -> str:
    """The fit line that puts photo ``file`` of ``article`` (its element id) after paragraph
    ``after`` (0: before the first)."""
    return (f"/* place: photo {quote(article, safe='')} {quote(file, safe='')} "
            f"after {max(0, int(after))} */")


def read(css: str) -> dict[tuple[str, str], int]:
    """Every placement in ``css``: (article element id, photo file name) -> paragraph (the
    last line for a photo wins: a later repair pass overrides an earlier one)."""
    return {(unquote(m[1]), unquote(m[2])): int(m[3]) for m in _LINE.finditer(css or "")}


def span_css(article: str, file: str) -> str:
    """The fit line that runs column photo ``file`` of ``article`` (its element id) across
    both columns, as a photo placed ``span`` is: the composer reads it back, and the print
    edition prepares that photo's copy for the span's width."""
    return f"/* span: photo {quote(article, safe='')} {quote(file, safe='')} */"


def read_spans(css: str) -> set[tuple[str, str]]:
    """Every column photo the fit runs across both columns: (article element id, file)."""
    return {(unquote(m[1]), unquote(m[2])) for m in _SPAN.finditer(css or "")}


def grow_css(photos: list[tuple[str, str, int]]) -> str:
    """Column photos set taller: (article element id, file name, height in mm) each; a
    comment first says which, for the log."""
    said = ", ".join(f"{quote(name, safe='')} {mm}mm" for _, name, mm in photos)
    rules = " ".join(f"#{_ident(article)} figure[data-photo={_string(name)}] img "
                     f"{{ max-height: {mm}mm; }}" for article, name, mm in photos)
    return f"/* grow: {said} */ {rules}"


def read_grows(css: str) -> dict[str, int]:
    """Every column photo the fit sets taller: file name -> height in mm (the tallest)."""
    out: dict[str, int] = {}
    for m in _GROW.finditer(css or ""):
        for part in m[1].split(", "):
            name, _, mm = part.strip().rpartition(" ")
            if name and mm.endswith("mm") and mm[:-2].isdigit():
                out[unquote(name)] = max(out.get(unquote(name), 0), int(mm[:-2]))
    return out


def new_page_css(article: str, title: str) -> str:
    """The fit line that starts ``article`` (its element id; ``title``: its headline, for the
    log) on a new page."""
    return (f"/* new page: {quote(title, safe='')} */ "
            f"#{_ident(article)} {{ break-before: page; }}")


def quote_css(article: str, after: int, style: str, text: str, title: str,
              spare: bool = False) -> str:
    """The fit line that sets ``text`` as a pull quote (``style``: column or span) in
    ``article`` (its element id) after paragraph ``after``; ``title``: its headline, for
    the log; ``spare``: the editor's spare quote (else a sentence of the text). The
    composer sets it only if ``text`` is still one of the article's fill quotes
    (fillquote.py): an edited article never prints a sentence it no longer has."""
    return (f"/* quote: {quote(article, safe='')} after {max(0, int(after))} {style} "
            f"{'spare' if spare else 'text'} {quote(text, safe='')} "
            f"from {quote(title, safe='')} */")


def read_quotes(css: str) -> dict[str, list[tuple[int, str, str]]]:
    """Every fill quote in ``css``: article element id -> [(paragraph, style, text)…] in
    order (a later line setting the same words moves them)."""
    out: dict[str, dict[str, tuple[int, str, str]]] = {}
    for m in _QUOTE.finditer(css or ""):
        text = unquote(m[5])
        out.setdefault(unquote(m[1]), {})[text] = (int(m[2]), m[3], text)
    return {article: list(quotes.values()) for article, quotes in out.items()}


def pull_css(article: str, after: str, title: str) -> str:
    """The fit line that sets ``article`` (a brief or box, its element id; ``title``: its
    headline, for the log) right after article ``after``: moved up into a gap."""
    return (f"/* pull: {quote(article, safe='')} after {quote(after, safe='')} "
            f"from {quote(title, safe='')} */")


def read_pulls(css: str) -> list[tuple[str, str]]:
    """Every article moved up, in order: (its element id, the one it follows)."""
    return [(unquote(m[1]), unquote(m[2])) for m in _PULL.finditer(css or "")]


def _after(paragraph: str) -> str:
    """Where a placement puts an item, in words: paragraph 0 is before the first."""
    return f"after paragraph {paragraph}" if int(paragraph) else "before the first paragraph"


def describe(line: str) -> str | None:
    """A placement or growth line in the editor's words, or None if ``line`` is neither."""
    match = _LINE.fullmatch(line.strip())
    if match:
        return f"moved photo {unquote(match[2])} {_after(match[3])}"
    match = _SPAN.fullmatch(line.strip())
    if match:
        return (f"ran photo {unquote(match[2])} across both columns (its original has the "
                "pixels for it)")
    match = _NEW_PAGE.match(line.strip())
    if match:
        return f"started {unquote(match[1])} on a new page (the white space ends the page before)"
    match = _PULL.fullmatch(line.strip())
    if match:
        return f"moved {unquote(match[3])} up into the gap (it is short enough to fit there)"
    match = _QUOTE.fullmatch(line.strip())
    if match:
        where = "across both columns " if match[3] == "span" else ""
        whose = ("its spare pull quote" if match[4] == "spare" else
                 "a sentence of its text (to choose the words, give the article a pull "
                 "quote with 'spare: true')")
        return (f"set a pull quote from {unquote(match[6])} {where}{_after(match[2])}: "
                f"“{unquote(match[5])}”, {whose}")
    match = _GROW.match(line.strip())
    if match:
        grown = [part.split(" ") for part in match[1].split(", ")]
        return ("grew photo(s) " + ", ".join(f"{unquote(name)} to {mm} tall"
                                             for name, mm in grown)
                + " (as tall as their originals allow at the print edition's ppi)")
    return None


def _ident(text: str) -> str:
    from .audit.pagemap import _css_ident

    return _css_ident(text)


def _string(text: str) -> str:
    """``text`` as a CSS string (file names come from the manifest)."""
    return '"' + "".join(ch if ch.isalnum() or ch in " ._-" else f"\\{ord(ch):x} "
                         for ch in text) + '"'
