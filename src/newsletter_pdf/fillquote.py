"""Pull quotes that fill a short page: which words of an article a designer would pull.

When a page or column of an article runs short, the repair stage may set a pull quote from
that article in the gap (the layout's ``{quote: …}`` move, see repair.py). The words come
from the editor first, then from the article's own text by a fixed rule:

1. the article's **spare** pull quotes (``pull_quotes: [{text: …, spare: true}]``): kept
   out of the flow and set only when the layout needs to fill a page, in their order;
2. else **a sentence of its text**, chosen so that it reads whole when lifted out: a
   complete sentence (capital or opening quote first, ``.``, ``!`` or ``?`` last, never cut
   at an abbreviation such as "Dr." or an initial) of 8 to 25 words, with no link, address,
   brackets or footnote, not a bold lead-in (a speaker's name), not the article's first
   sentence (the reader has just read it). Quotation marks inside become single ones
   (‘ ’) so that the quote's own marks stay unambiguous (a sentence quoted whole loses
   its own); a sentence with other quotation marks is passed over. Among these, a
   sentence with a figure (a digit) or a quoted speaker comes first, then the one nearest
   16 words, then the earliest.

Only articles with something to pull from get candidates: standard articles and features
(not briefs, boxes or letters) of at least :data:`MIN_PARAGRAPHS` paragraphs and
:data:`MIN_WORDS_ARTICLE` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS, MAX_WORDS, BEST_WORDS = 8, 25, 16
MIN_PARAGRAPHS, MIN_WORDS_ARTICLE = 3, 150
#: Candidates handed to the layout per article (from different paragraphs where possible).
KEEP = 4
KINDS = ("standard", "feature")

_END = re.compile(r"[.!?؟]+[’”'\")]*(?=\s+|$)")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "no", "nos", "prof", "rev", "vs", "etc",
                  "eg", "ie", "e.g", "i.e", "approx", "cf", "fig", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "co", "ltd", "inc",
                  "mt", "ft", "ave", "rd", "sq", "gen", "col", "capt", "sgt", "lt", "jr", "sr"}
_LINK_TEXT = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S)
_LEAD_IN = re.compile(r"<(strong|b)\b[^>]*>(.*?)</\1>", re.S)
_TAGS = re.compile(r"<[^>]+>")
_OTHER_QUOTES = re.compile(r"[\"«»„‹›‚]")
_NOT_LIFTABLE = re.compile(r"[()\[\]{}*_`|<>]|://|www\.|@|\[\^")


@dataclass(frozen=True)
class Candidate:
    """Words the layout may set as a pull quote: their text, who said them (declared quotes
    only) and the paragraph they come from (0: not from the text)."""

    text: str
    attribution: str = ""
    source: int = 0
    spare: bool = False


def candidates(article) -> list[Candidate]:
    """The article's fill quotes, best first: its spare quotes, then chosen sentences."""
    paragraphs = [b for b in article.blocks if b.tag == "p"]
    out = [Candidate(q.text, q.attribution or "", _source(q.text, paragraphs), True)
           for q in article.pull_quotes if getattr(q, "spare", False) and q.text]
    if article.kind not in KINDS or len(paragraphs) < MIN_PARAGRAPHS or \
            sum(len(p.text.split()) for p in paragraphs) < MIN_WORDS_ARTICLE:
        return out
    found = []
    for number, block in enumerate(paragraphs, start=1):
        links = [_TAGS.sub("", m).strip() for m in _LINK_TEXT.findall(block.html)]
        links += [_TAGS.sub("", m[1]).strip() for m in _LEAD_IN.findall(block.html)]
        for index, sentence in enumerate(sentences(block.text)):
            if number == 1 and index == 0:
                continue  # the reader has just read it
            text = liftable(sentence, links)
            if text:
                words = len(text.split())
                lively = bool(re.search(r"\d", text)) or "‘" in text
                found.append(((not lively, abs(words - BEST_WORDS), number), text, number))
    found.sort()
    chosen, used = [], set()
    for _, text, number in found:  # one per paragraph first: room to place it away from it
        if number not in used:
            chosen.append(Candidate(text, source=number))
            used.add(number)
    for _, text, number in found:
        if len(chosen) >= KEEP:
            break
        if all(c.text != text for c in chosen):
            chosen.append(Candidate(text, source=number))
    return out + chosen[:KEEP]


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences at ``.``, ``!`` or ``?`` followed by a space and anything
    but a small letter, never after an abbreviation, an initial or an acronym (S.A.I.T.):
    a caseless script cannot tell a sentence from its tail, so these never cut."""
    out, start = [], 0
    for match in _END.finditer(text):
        end = match.end()
        rest = text[end:].lstrip()
        word = re.search(r"(\S+)$", text[start:match.start()])
        before = (word.group(1) if word else "").lower().rstrip(".")
        if match.group(0).startswith(".") and (
                before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha())
                or "." in before.lstrip("(")):  # an acronym, S.A.I.T.: may go on after
            continue
        if rest and rest[0].islower():
            continue  # "e.g. this": not the end of a sentence
        out.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def liftable(sentence: str, links: list[str] = ()) -> str:
    """``sentence`` as a pull quote would print it, or "" when it does not read whole."""
    text = sentence.strip()
    if not text or not (text[0].isupper() or text[0] in "“‘" or
                        (text[0].isalpha() and not text[0].islower())):
        return ""
    if not re.search(r"[.!?؟][’”'\")]*$", text):
        return ""
    words = len(text.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        return ""
    if _NOT_LIFTABLE.search(text) or _OTHER_QUOTES.search(text):
        return ""
    if any(link and link in text for link in links):
        return ""
    if text.count("“") != text.count("”"):
        return ""  # a quotation that begins or ends in another sentence
    if text.startswith("“") and re.search(r"”[.!?]?$", text) and text.count("“") == 1:
        return text[1:].replace("”", "")  # all of it quoted: the pull quote's marks say so
    return text.replace("“", "‘").replace("”", "’")


def _source(text: str, paragraphs) -> int:
    squash = re.sub(r"\W+", "", text).lower()
    return next((i for i, p in enumerate(paragraphs, start=1)
                 if squash and squash in re.sub(r"\W+", "", p.text).lower()), 0)
