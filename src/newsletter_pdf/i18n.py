"""The words a layout prints by itself ("Volume", "In this issue", "Notes"…), per language.

Each layout may hold ``i18n/<language>.yaml`` tables (a child layout's table wins over its
parent's, key by key). For an issue in ``ar-IQ`` the tables ``ar-IQ``, then ``ar``, then
``en`` are merged, so a table only needs the keys it translates; the manifest's ``words:``
overrides any key for one issue.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import Problems
from .language import primary
from .schema import load_yaml

#: Every key a table may have; a value other than a string (or 12 months) is refused.
KEYS = {"volume", "issue", "in_this_issue", "notes", "contact_us",
        "about_contact", "cover", "months", "digits",
        # The email's fixed words; {name}, {newsletter}… are filled in by the templates.
        "email_greeting", "email_greeting_anonymous", "email_attached", "email_linked",
        "email_read_online", "email_download_pdf", "email_regards", "email_why",
        "email_unsubscribe", "email_unsubscribe_url", "email_unsubscribe_mailto"}
ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]
DIGITS = {"western": "decimal", "arabic-indic": "arabic-indic", "persian": "persian"}


def _tables(layout, tag: str) -> list[Path]:
    """Table files for ``tag``, most specific first, child layout before parent."""
    names = [tag, primary(tag), "en"]
    return [folder / "i18n" / f"{name}.yaml" for name in dict.fromkeys(names)
            for folder in layout.chain]


def load_words(layout, tag: str, overrides: dict | None, problems: Problems,
               manifest_path: Path | None = None) -> dict:
    """The merged word table for language ``tag`` (see the module docstring)."""
    words: dict = {}
    for path in reversed(_tables(layout, tag)):  # least specific first, then overwrite
        if not path.is_file():
            continue
        try:
            table = load_yaml(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.error(f"cannot read this word table: {exc}", file=path)
            continue
        words.update(_valid(table, path, problems))
    words.update(_valid(overrides or {}, manifest_path, problems, key_prefix="words."))
    return words


def _valid(table: dict, path: Path | None, problems: Problems, key_prefix: str = "") -> dict:
    if not isinstance(table, dict):
        problems.error("a word table is a mapping of key: text", file=path)
        return {}
    good = {}
    for key, value in table.items():
        if key not in KEYS:
            problems.error(f"unknown word {key!r}; known: {', '.join(sorted(KEYS))}",
                           file=path, key=f"{key_prefix}{key}")
        elif key == "months" and not (isinstance(value, list) and len(value) == 12):
            problems.error("months: give the twelve month names as a list", file=path,
                           key=f"{key_prefix}{key}")
        elif key == "digits" and value not in DIGITS:
            problems.error(f"digits: {value!r} is not one of {', '.join(DIGITS)}", file=path,
                           key=f"{key_prefix}{key}")
        elif key != "months" and not isinstance(value, str):
            problems.error(f"{key}: write the words as text", file=path,
                           key=f"{key_prefix}{key}")
        else:
            good[key] = value
    return good


def localised_folders(folders: list[Path], tag: str) -> list[Path]:
    """Each folder's language subfolders first: ``email/ar-IQ/``, ``email/ar/``, ``email/``
    (the message templates are whole sentences, translated per language)."""
    names = list(dict.fromkeys([tag, primary(tag)]))
    return [sub for folder in folders for sub in (*(folder / n for n in names), folder)]


def issue_label(manifest, words: dict) -> str:
    """'Volume 5 · Issue 1 · January – March 2011', in the issue's language."""
    parts = []
    if manifest.issue.volume is not None:
        parts.append(words.get("volume", "Volume {n}").replace("{n}", str(manifest.issue.volume)))
    if manifest.issue.number is not None:
        parts.append(words.get("issue", "Issue {n}").replace("{n}", str(manifest.issue.number)))
    parts.append(period(manifest, words))
    return " · ".join(parts)


def quarter_period(date, months: list[str]) -> str:
    """'January – March 2011': the quarter holding ``date``."""
    first = (date.month - 1) // 3 * 3
    return f"{months[first]} – {months[first + 2]} {date.year}"


def period(manifest, words: dict) -> str:
    """The period the issue covers: as written, or its date's quarter in its language."""
    return manifest.issue.period or quarter_period(manifest.issue.date,
                                                   words.get("months") or ENGLISH_MONTHS)


def counter_style(words: dict) -> str:
    """The CSS counter style for page numbers (``decimal``, ``arabic-indic``…)."""
    return DIGITS.get(words.get("digits", "western"), "decimal")
