"""Languages: BCP 47 tags, writing direction, and whether the layout has fonts for a text.

An article is in the issue's language unless its manifest entry or front matter says
``language:``; its direction follows the language (Arabic, Persian, Urdu, Hebrew, Kurdish
Sorani… are right-to-left) unless ``dir:`` overrides it. The layout names, per font role,
which languages a face stands in for (``fonts.<role>.languages``); :func:`check_scripts`
refuses an article whose letters no font of its language covers, instead of letting the
machine's fallback font (or empty boxes, on a machine without one) print them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from .errors import Problems

#: language[-script][-region][-variant…]: "en", "en-GB", "ckb", "ku-Arab", "zh-Hant-TW".
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")

#: Languages written right to left (primary subtag), and scripts that are.
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku-arab", "mzn",
                           "nqo", "pnb", "prs", "ps", "sd", "syr", "ug", "ur", "yi"})
RTL_SCRIPTS = frozenset({"arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"})

#: Languages whose usual script has no hyphenation (words are never broken with a hyphen).
NO_HYPHENATION = frozenset({"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi",
                            "ja", "zh", "th", "ko"})

#: Languages written in joined (cursive) scripts: no letter-spacing, capitals or italics.
JOINED_SCRIPT = frozenset({"ar", "ckb", "fa", "ks", "mzn", "pnb", "prs", "ps", "sd", "syr",
                           "ug", "ur", "nqo", "mn"})


def joined_script(tag: str) -> bool:
    """Whether the language is written in a joined script (letter-spacing tears it)."""
    parts = [p.lower() for p in tag.split("-")]
    return parts[0] in JOINED_SCRIPT or "arab" in parts[1:] or "syrc" in parts[1:]


def valid_tag(tag: str) -> bool:
    """True when ``tag`` has the shape of a BCP 47 language tag."""
    return bool(LANG_TAG.match(tag or ""))


def primary(tag: str) -> str:
    """The primary language subtag, lower-case: ``ar-IQ`` → ``ar``."""
    return tag.split("-")[0].lower()


def direction(tag: str, explicit: str | None = None) -> str:
    """``rtl`` or ``ltr``: the explicit ``dir`` if given, else the language's."""
    if explicit:
        return explicit
    parts = [p.lower() for p in tag.split("-")]
    if parts[0] in RTL_LANGUAGES or any(p in RTL_SCRIPTS for p in parts[1:]):
        return "rtl"
    if "-".join(parts[:2]) in RTL_LANGUAGES:
        return "rtl"
    return "ltr"


def text_direction(text: str) -> str | None:
    """``rtl`` or ``ltr`` as the text's first strong letter says (the Unicode bidi rule
    P2, what ``dir="auto"`` does); None for text with no letter of either direction."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def text_language(text: str, issue: tuple[str, str], article: tuple[str, str]) -> tuple[str, str]:
    """(language, direction) of a short text the editor wrote about an article (a cover
    teaser): the issue's language, unless its letters run in the article's direction and
    not the issue's (an Arabic teaser for an Arabic article in a French issue)."""
    found = text_direction(text)
    if found and found != issue[1] and found == article[1]:
        return article
    return issue


def hyphenates(tag: str) -> bool:
    """Whether words of this language may be hyphenated at line ends."""
    return primary(tag) not in NO_HYPHENATION


def matches(tag: str, languages: list[str]) -> bool:
    """BCP 47 basic filtering (RFC 4647): ``ar-IQ`` matches the range ``ar``."""
    tag = tag.lower()
    return any(tag == r.lower() or tag.startswith(r.lower() + "-") for r in languages)


def font_coverage(path: Path) -> frozenset[int]:
    """The code points a font file maps to glyphs (its cmap), as HarfBuzz reads them: the
    same set fontTools' best cmap gives (tested on every shipped font), in a hundredth of
    the time (fontTools names every glyph first: a tenth of a second for the layout's
    fonts, in the check every build waits for). Remembered while the file is unchanged
    (the preview checks the issue again on every save)."""
    stat = Path(path).stat()
    return _coverage(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _coverage(path: str, mtime_ns: int, size: int) -> frozenset[int]:
    import uharfbuzz

    return frozenset(uharfbuzz.Face(uharfbuzz.Blob.from_file_path(path)).unicodes)


def script_of(char: str) -> str:
    """A readable script name for a character: 'Arabic', 'Hebrew', 'Cyrillic'…"""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return f"U+{ord(char):04X}"
    word = name.split()[0]
    if word in ("LATIN", "GREEK", "CYRILLIC", "ARABIC", "HEBREW", "ARMENIAN", "GEORGIAN",
                "DEVANAGARI", "BENGALI", "TAMIL", "THAI", "ETHIOPIC", "SYRIAC", "THAANA",
                "HANGUL", "HIRAGANA", "KATAKANA", "CJK", "KHMER", "LAO", "TIBETAN"):
        return word.title()
    return name.title()


def uncovered(text: str, coverage: frozenset[int]) -> list[str]:
    """Characters of ``text`` (letters, digits, punctuation) no font covers, in order."""
    seen: dict[str, None] = {}
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Mn"):
            continue  # controls, marks and bidi/joiner formatting need no glyph of their own
        if ord(char) not in coverage and char not in seen:
            seen[char] = None
    return list(seen)


def fonts_for(layout_fonts: dict, tag: str, role: str) -> list[tuple[str, dict]]:
    """The font roles a text of language ``tag`` in ``role`` (text/display) is set with:
    the faces declared for its language first, then the role's own face."""
    chosen = [(name, spec) for name, spec in layout_fonts.items()
              if spec.get("for") == role and matches(tag, spec.get("languages") or [])]
    if role in layout_fonts:
        chosen.append((role, layout_fonts[role]))
    return chosen


def coverage_of(font_specs: list[tuple[str, dict]], dirs: list[Path]) -> frozenset[int]:
    """Union of the cmaps of every file of the given font roles found in ``dirs``."""
    from .fonts import find_font  # (fonts needs the manifest, which needs this module)

    points: set[int] = set()
    for _name, spec in font_specs:
        for relative in (spec.get("files") or {}).values():
            path = find_font(dirs, relative)
            if path is not None:
                points |= font_coverage(path)
    return frozenset(points)


def check_scripts(articles: list, layout, issue_dir: Path, problems: Problems) -> None:
    """Every character of every article (and box) must be in a font the layout ships
    for the article's language; else a located error naming the script and the fix."""
    fonts = layout.fonts or {}
    dirs = layout.font_dirs(issue_dir)
    for article in articles:
        for item in [article, *article.boxes]:
            _check_article(item, fonts, dirs, layout, problems)


def _check_article(article, fonts: dict, dirs: list[Path], layout, problems: Problems) -> None:
    tag = article.language
    parts = {
        "text": [(b.text, b.line) for b in article.blocks]
        + [(p.caption or "", None) for p in article.photos]
        + [(q.text or "", None) for q in article.pull_quotes],
        "display": [(t or "", None) for t in (article.title, article.kicker, article.deck,
                                              article.byline)],
    }
    for role, texts in parts.items():
        coverage = coverage_of(fonts_for(fonts, tag, role), dirs)
        if not coverage:
            continue  # no font files found: check_fonts reports that
        for text, line in texts:
            missing = uncovered(text, coverage)
            if not missing:
                continue
            scripts = sorted({script_of(c) for c in missing})
            sample = " ".join(missing[:6])
            families = ", ".join(spec.get("family", name)
                                 for name, spec in fonts_for(fonts, tag, role))
            hint = (f"the article is in language {tag!r}; if these are {scripts[0]} words, "
                    "say so with 'language:' in its front matter or manifest entry (e.g. "
                    "language: ar), or add a font for them under the layout's fonts "
                    "(a role with 'for: " + role + "' and 'languages: [...]')")
            problems.error(f"{', '.join(scripts)} characters ({sample}) are in no font the "
                           f"layout has for this text ({families}); the machine's fallback "
                           f"font would print them, or empty boxes — {hint}",
                           file=article.source, line=line or 1, key=f"{role} font")
            return
