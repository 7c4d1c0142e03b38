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
        # The web edition's own labels (its skip link, its downloads list).
        "web_skip", "web_download", "web_pdf_email", "web_pdf_print",
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
    # The built-in English table first: a layout of one's own without an ``en`` table
    # still has a word for every label (a template never prints an empty or "None"
    # heading for a key its tables forgot).
    words: dict = dict(_builtin_english())
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


_ENGLISH: dict = {}


def _builtin_english() -> dict:
    """The built-in layout's English table, read once (it ships with the package)."""
    if not _ENGLISH:
        from .layouts import data_dir

        path = data_dir("layouts") / "newsletter" / "i18n" / "en.yaml"
        _ENGLISH.update(_valid(load_yaml(path.read_text(encoding="utf-8")) or {}, path,
                               Problems()))
    return _ENGLISH


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


def period_quarter(text: str, fallback) -> tuple[int, int]:
    """(year, quarter) that a written period such as 'July – September 2026' names: the
    quarter of its first month and the first year after it (a winter issue, 'December
    2025 – February 2026', is 2025's fourth). Months are recognised in every language of
    the built-in layout's tables, and by their first three letters in English ('Jul –
    Sep 2026'); a period with no month name ('Winter 2026') gives ``fallback``'s (a
    date's) year and quarter."""
    import re

    found = None
    for number, names in _month_names().items():
        for name in names:
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I):
                key = (match.start(), -len(name))
                if found is None or key < found[0]:
                    found = (key, number, match.end())
    if found is None:
        return fallback.year, (fallback.month - 1) // 3 + 1
    _, month, end = found
    year = re.search(r"(?<!\d)\d{4}(?!\d)", text[end:])
    return (int(year[0]) if year else fallback.year), (month - 1) // 3 + 1


_MONTHS: dict[int, list[str]] = {}


def _month_names() -> dict[int, list[str]]:
    """Month number (1–12) → its names in the built-in layout's word tables and the
    English short forms ('Jan', 'Sept'), read once."""
    if not _MONTHS:
        from .layouts import data_dir

        pairs = [(n, name) for n, full in enumerate(ENGLISH_MONTHS, start=1)
                 for name in (full, full[:3])] + [(9, "Sept")]
        for path in sorted((data_dir("layouts") / "newsletter" / "i18n").glob("*.yaml")):
            try:
                months = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("months")
            except (OSError, yaml.YAMLError, UnicodeDecodeError, AttributeError):
                continue
            if isinstance(months, list) and len(months) == 12:
                pairs += [(n, str(name)) for n, name in enumerate(months, start=1)]
        for number, name in pairs:
            if name not in _MONTHS.setdefault(number, []):
                _MONTHS[number].append(name)
    return _MONTHS


def period(manifest, words: dict) -> str:
    """The period the issue covers: as written, or its date's quarter in its language."""
    return manifest.issue.period or quarter_period(manifest.issue.date,
                                                   words.get("months") or ENGLISH_MONTHS)


def counter_style(words: dict) -> str:
    """The CSS counter style for page numbers (``decimal``, ``arabic-indic``…)."""
    return DIGITS.get(words.get("digits", "western"), "decimal")
