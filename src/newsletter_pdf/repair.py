"""Stage 5b — fit and repair: reach the page budget, then mend what the audit finds.

A designer given new content does two things, and so does this stage, on the reference
edition's layout (the email edition: the fastest render; the other editions then render
with the same CSS and so the same pages):

1. **Fit the page budget.** The layout declares a *fit ladder* in ``layout.yaml``
   (``repair.ladder``): sets of CSS custom properties from the loosest (larger photos, more
   air) to the tightest, and the rung every build starts on. The budget is ``issue.pages``
   or, without it, the multiple of four nearest the content's natural length. The build
   searches the ladder (bisection: a few renders) for the loosest rung whose page count is
   within the budget. When no rung reaches it, the editor is told by how many lines the
   content is over (or under) the budget.
2. **Repair the findings.** Each audit finding names a rule; ``repair.moves`` maps rules to
   CSS rules with placeholders (``{selector}``: the block concerned, ``{article}``: its
   article), tried one after the other: move a stranded subhead to the next column, start a
   stranded headline on a new page, tighten an article to pull stray lines back, shrink a
   photo that landed away from its text, make a too-wide table span both columns. A pass
   applies one move per finding and re-renders; a pass that adds findings or breaks the
   budget is undone. At most ``repair.passes`` passes, each recorded in the log.

What is left is reported as warnings naming page, item and the editor's options.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import placements
from .audit import Finding, reported, run_audit, settings_for, title_of
from .audit.pagemap import _css_ident

#: Used when a layout declares no ladder: one rung, no CSS.
_FLAT = {"start": 0, "levels": [{}]}
_PROPERTY = re.compile(r"^--[A-Za-z0-9-]{1,40}$")
_MM_PER_PX = 25.4 / 96  # CSS pixels
_VALUE = re.compile(r"^[A-Za-z0-9.%+\- ()*/]{1,60}$")


@dataclass
class Outcome:
    """What the stage settled on, and the render at that setting."""

    rendered: object              # render.Rendered of the reference edition
    css: str                      # the CSS every edition renders with
    findings: list[Finding]
    log: list[str] = field(default_factory=list)   # one line per move or search step
    renders: int = 0
    budget: int | None = None


def ladder_css(level: dict) -> str:
    """One rung of the ladder as a ``:root`` rule (names and values checked: they come
    from a layout file)."""
    pairs = [f"{k}: {v};" for k, v in level.items()
             if _PROPERTY.match(str(k)) and _VALUE.match(str(v))]
    return f":root {{ {' '.join(pairs)} }}" if pairs else ""


def _ladder(layout) -> tuple[list[dict], int]:
    ladder = (layout.repair or {}).get("ladder") or _FLAT
    levels = [dict(level or {}) for level in ladder.get("levels") or [{}]]
    start = min(max(int(ladder.get("start", 0)), 0), len(levels) - 1)
    return levels, start


def budget_for(pages: int, wanted: int | None, multiple: int) -> int:
    """The page count to aim at: the issue's own budget, else the nearest multiple (ties and
    a two-page gap go up: growing a page is easier than losing two)."""
    if wanted:
        return wanted
    if multiple <= 1 or pages % multiple == 0:
        return pages
    down = pages - pages % multiple
    up = down + multiple
    return down if pages - down < up - pages and down >= 2 else up


@dataclass
class Guess:
    """The fit of the last build (its CSS, page budget, pages and findings left)."""

    css: str
    budget: int
    pages: int
    findings: int = 0
    log: list[str] = field(default_factory=list)

    @classmethod
    def from_memo(cls, entry: dict | None) -> Guess | None:
        """The guess a layout-memo entry holds (None for none)."""
        if not entry:
            return None
        return cls(entry["fit"], entry["budget"], entry["pages"],
                   int(entry.get("findings") or 0), list(entry.get("log") or []))


def fit_and_repair(layout, render: Callable[[str], object], *, wanted: int | None = None,
                   multiple: int = 4, fixed: str = "", guess: Guess | None = None,
                   render_many: Callable[[list[str]], list] | None = None) -> Outcome:
    """Render through ``render(css)`` until the budget and the audit are satisfied (bounded).

    ``render_many(sheets)``, if given, renders several at once (side by side): the
    repairs then render the move they would try next beside the one they try.

    ``fixed`` is CSS added to every render. ``guess``: the last build's fit, tried first and
    kept when it still gives its page budget with no more findings than it left — the way a
    designer leaves a working layout alone when a sentence is added (one render instead of
    a search). Otherwise the search starts afresh from the designed level, exactly as a
    first build does."""
    levels, start = _ladder(layout)
    settings = layout.audit or {}
    cache: dict[str, tuple] = {}
    log: list[str] = []

    def attempt(css: str):
        attempt_all([css])
        return cache[css]

    def attempt_all(sheets: list[str]) -> None:
        wanted = [css for css in dict.fromkeys(sheets) if css not in cache]
        full = ["\n".join(x for x in (fixed, css) if x) for css in wanted]
        made = render_many(full) if render_many and len(full) > 1 else map(render, full)
        for css, rendered in zip(wanted, made):
            cache[css] = (rendered, run_audit(rendered.layout, settings, advisory=True))
            if _failed(rendered):  # e.g. words lost at this size: never chosen
                cache[css] = (_Unusable(rendered), cache[css][1])

    def at(level: int, fixes: list[str] = ()) -> str:
        return "\n".join([ladder_css(levels[level]), *fixes])

    if guess is not None and (not wanted or wanted == guess.budget):
        rendered, findings = attempt(guess.css)
        told = reported(findings)
        if not isinstance(rendered, _Unusable) and rendered.pages == guess.pages \
                and len(told) <= guess.findings:
            kept = (f"the last build's fit still gives {guess.pages} pages (budget "
                    f"{guess.budget}) with {len(told) or 'no'} finding(s): kept (build "
                    "with --fresh to search again)")
            earlier = [line for line in guess.log if not line.startswith("the last build's")]
            return Outcome(rendered, guess.css, told, [kept, *earlier], len(cache),
                           guess.budget)

    level = start
    if render_many is not None and len(levels) > 1:
        # Which way the budget lies is not known yet, and the way it most often lies (over
        # it, or halfway to the multiple below) asks the tightest level next: render that
        # beside the designed one (the other core would otherwise wait for it).
        attempt_all([at(level), at(len(levels) - 1)])
    rendered, findings = attempt(at(level))
    budget = budget_for(getattr(rendered, "wrapped", rendered).pages, wanted, multiple)
    if not wanted and budget > rendered.pages and budget - rendered.pages >= multiple / 2 \
            and budget - multiple >= 2 and len(levels) > 1:
        # Halfway between two multiples: losing pages by tightening beats blank pages.
        if attempt(at(len(levels) - 1))[0].pages <= budget - multiple:
            budget -= multiple
    underfilled = any(f.rule == "fill" for f in findings)
    if rendered.pages == budget and underfilled and start > 0:
        # On budget but pages stop short: the loosest level still on budget fills them.
        looser = _search(levels, start, budget, budget, lambda i: attempt(at(i))[0].pages)
        if _score(*attempt(at(looser)), budget) < _score(rendered, findings, budget):
            level = looser
            rendered, findings = attempt(at(level))
            log.append(f"page budget {budget}: fit level {level + 1} of {len(levels)} fills "
                       f"the pages (the designed level {start + 1} left some short)")
    elif rendered.pages != budget and len(levels) > 1:
        level = _search(levels, start, budget, rendered.pages, lambda i: attempt(at(i))[0].pages)
        tightest = attempt(at(len(levels) - 1))[0] if rendered.pages > budget else None
        if level == start and tightest is not None and tightest.pages > budget \
                and _overflow_lines(tightest, budget) <= 2 * int(settings_for(settings)
                                                                 ["stray_lines"]):
            level = len(levels) - 1  # a few lines over: the repairs may pull them back
        rendered, findings = attempt(at(level))
        log.append(f"page budget {budget}: fit level {level + 1} of {len(levels)} gives "
                   f"{rendered.pages} pages (the designed level {start + 1}: "
                   f"{cache[at(start)][0].pages})")
    moves = (layout.repair or {}).get("moves") or {}
    passes = int((layout.repair or {}).get("passes", 3))
    # Short of the budget even at the loosest fit: the print edition will pad with blank
    # Notes pages. Up to ``notes_pages`` of them are weighed as what they are — pages 100 %
    # empty — against the holes a longer layout would leave (four thin pages are worse
    # than one Notes page); past that, the page count comes first as always.
    notes = int((layout.repair or {}).get("notes_pages", 0)) \
        if not isinstance(rendered, _Unusable) and rendered.pages < budget else 0

    def score(rendered, findings, budget):
        return _scored(rendered, findings, budget, notes)

    fixes: list[str] = []
    plan = _Plan(moves, budget)
    for number in range(1, passes + 1):
        planned = plan.next(findings + short_of_budget(rendered, budget), rendered, fixes)
        if planned is None:
            break
        candidate = fixes + [rule for _, rule in planned]
        if number < passes and at(level, candidate) not in cache:
            # The move the next pass tries if this one is undone is known now: render it
            # beside this one (the other core is idle), so an undone move costs no time.
            spare = plan.copy()
            spare.undone(planned)
            after = spare.next(findings + short_of_budget(rendered, budget), rendered, fixes)
            if after is not None:
                attempt_all([at(level, candidate),
                             at(level, fixes + [rule for _, rule in after])])
        new, new_findings = attempt(at(level, candidate))
        moved_to = level
        if level > 0 and not isinstance(new, _Unusable) and new.pages < min(budget,
                                                                             rendered.pages):
            # The move freed room and the issue fell under its budget: a looser fit level
            # takes the room up over the whole issue (a designer opens the issue up rather
            # than leave its last page short, or the hole unmended).
            looser = _search(levels, level, budget, new.pages,
                             lambda i, moves=candidate: attempt(at(i, moves))[0].pages)
            if looser != level and score(*attempt(at(looser, candidate)), budget) < \
                    score(new, new_findings, budget):
                moved_to = looser
                new, new_findings = attempt(at(looser, candidate))
        better = score(new, new_findings, budget) < score(rendered, findings, budget)
        short = "" if better or len(planned) > 1 or isinstance(new, _Unusable) \
            or new.pages >= budget else (
            f" (it left {new.pages} page{'s' if new.pages != 1 else ''}, under the budget "
            f"of {budget}: about "
            f"{under_budget_lines(new, budget, settings)} lines more in the issue, or a "
            "photo, would let it stand)")
        if better and moved_to != level:
            short = (f", and set the issue at fit level {moved_to + 1} of {len(levels)} to "
                     f"take up the room it freed (it kept its {budget} pages)")
        for finding, rule in planned:
            log.append(f"pass {number}: {'' if better else 'tried and undone: '}"
                       f"{_describe(finding)} → {_move_words(rule)}{short}")
        if better:
            fixes, rendered, findings, level = candidate, new, new_findings, moved_to
        else:
            plan.undone(planned)
    if isinstance(rendered, _Unusable):  # every level failed: report the designed one's errors
        rendered, findings = cache[at(start)]
        rendered = getattr(rendered, "wrapped", rendered)
        level, fixes = start, []
    return Outcome(rendered, at(level, fixes), reported(findings), log, len(cache), budget)


class _Plan:
    """Which moves the repairs try, pass by pass: for each finding its layout's moves in
    order (a photo move from its new place never lands where one was undone); moves
    undone together are then each tried alone."""

    def __init__(self, moves: dict, budget: int):
        self.moves, self.budget = moves, budget
        self.tried: dict[tuple, set[str]] = {}  # finding -> its moves tried
        self.done: list[str] = []  # photo moves tried and undone
        self.queue: list[list[tuple]] = []

    def copy(self) -> _Plan:
        other = copy.copy(self)
        other.tried = {key: set(moves) for key, moves in self.tried.items()}
        other.done = list(self.done)
        other.queue = [list(planned) for planned in self.queue]
        return other

    def next(self, findings, rendered, fixes: list[str]) -> list[tuple] | None:
        """The (finding, rule) pairs to try now, or None when nothing is left to try."""
        if not self.queue:
            planned, quoted = [], set()  # pages given a pull quote in this pass: one each
            # items pulled up in this pass (into one gap each) or before (they stay where
            # they were pulled: never from one gap into another)
            pulled = {article for fix in fixes for article, _ in placements.read_pulls(fix)}
            budget = [f for f in findings if f.rule == "budget" and any(
                o not in self.tried.get(f.key, ()) and o not in fixes
                for o in _options(self.moves, f))]
            if budget:
                # Short of the budget: the page plan first (which article opens a page),
                # alone — then the fill moves fill the pages it leaves.
                findings = budget
            for finding in findings:
                if finding.rule == "fill" and rendered.pages > self.budget:
                    continue  # over the budget: growing anything makes it worse
                # the first of its moves not tried yet (by what it does, not by its place
                # in the list: the list changes as the pages do — an article to start on a
                # new page, a paragraph for a photo or quote)
                seen = self.tried.setdefault(finding.key, set())
                choice = next((o for o in _options(self.moves, finding) if o not in seen
                               and o not in fixes  # (applied already for another finding)
                               and not (placements.describe(o) and o in self.done)
                               and not {a for a, _ in placements.read_pulls(o)} & pulled),
                              None)
                pulled.update(a for a, _ in placements.read_pulls(choice or ""))
                if choice is not None and placements.read_quotes(choice):
                    if finding.page in quoted:
                        continue  # the next pass, if this page still needs it
                    quoted.add(finding.page)
                if choice is not None:
                    seen.add(choice)
                    if choice not in (rule for _, rule in planned):  # (one move, two findings)
                        planned.append((finding, choice))
            if not planned:
                return None
            self.queue = [planned]
        return self.queue.pop(0)

    def undone(self, planned: list[tuple]) -> None:
        """``planned`` made things worse and was taken back."""
        self.done.extend(rule for _, rule in planned if placements.describe(rule))
        if len(planned) > 1:
            # one of them spoilt the others: try each alone before going on
            self.queue = [[move] for move in planned]


def _failed(rendered) -> bool:
    problems = getattr(rendered, "problems", None)
    return bool(problems is not None and problems.errors)


class _Unusable:
    """A render that reported errors (words lost, say): it counts as far too long, so the
    search and the repairs pass it by; chosen only if nothing else exists."""

    def __init__(self, rendered):
        self.wrapped = rendered
        self.layout = rendered.layout
        self.problems = rendered.problems
        self.pages = 10_000


#: Rules whose findings are defects, not matters of taste: text cut off or set over other
#: text. A layout with fewer of them is better whatever its page count.
DEFECTS = ("panel",)


def _score(rendered, findings, budget: int) -> tuple:
    """:func:`_scored` with no Notes page weighed (the page count first)."""
    return _scored(rendered, findings, budget)


def _scored(rendered, findings, budget: int, notes: int = 0) -> tuple:
    """Lower is better: fewer defects (text cut off or set over other text), then off the
    page budget by fewer pages, then fewer lines past it, then less wrong — findings
    weighed by how bad they are (a page or column left short by how far short it is:
    emptying a page further to mend a short column is a bad trade). Up to ``notes``
    pages under the budget are not counted as off it but weighed as findings, as pages
    100 % empty (the blank Notes pages the print edition adds) weigh."""
    if isinstance(rendered, _Unusable):
        return (float("inf"),)
    over = _overflow_lines(rendered, budget) if rendered.pages > budget else 0
    defects = sum(1 for f in findings if f.rule in DEFECTS)
    off = abs(rendered.pages - budget)
    blank = min(notes, budget - rendered.pages) if rendered.pages < budget else 0
    return (defects, off - blank, over, round(sum(f.weight for f in findings) + blank, 3))


def _past_budget(rendered, budget: int) -> list:
    """The items laid out on article pages past the budget (cover, back page and other
    pages of their own count towards it)."""
    pages = rendered.layout.pages
    articles = [page for page in pages if page.kind == "article"]
    allowed = max(0, budget - (len(pages) - len(articles)))
    return [item for page in articles[allowed:] for item in page.items]


def _overflow_lines(rendered, budget: int) -> int:
    """Lines of text laid out on article pages past the budget."""
    return sum(1 for item in _past_budget(rendered, budget) if item.kind == "line")


def _search(levels, start, budget, pages_at_start, pages) -> int:
    """The loosest level whose page count is within the budget; the tightest if none is
    (levels are ordered loosest first, so pages never grow with the index)."""
    if pages_at_start > budget:
        low, high = start + 1, len(levels) - 1  # tighter
        if pages(high) > budget:
            return start  # cannot reach it: keep the designed look, report the overrun
    else:
        low, high = 0, start  # looser: the loosest level still within the budget
        if pages(low) <= budget:
            return low
        low += 1
    while low < high:
        middle = (low + high) // 2
        if pages(middle) <= budget:
            high = middle
        else:
            low = middle + 1
    return low


def _options(moves: dict, finding: Finding) -> list[str]:
    """The CSS rules the layout declares for this finding, with placeholders filled in."""
    entry = moves.get(finding.rule)
    if isinstance(entry, dict) and not _is_move(entry):  # by kind: stranded.subhead …
        kind = finding.data.get("role") or finding.data.get("kind") or "default"
        if finding.data.get("spanning") and "spanning" in entry:
            kind = "spanning"
        entry = entry.get(kind, entry.get("default"))
    if isinstance(entry, str) or isinstance(entry, dict) and _is_move(entry):
        entry = [entry]  # one move, not a list of them
    previous = finding.data.get("previous")
    neighbours = finding.data.get("page_articles") or []
    values = {"{article}": f"#{_css_ident(finding.article)}" if finding.article else "",
              "{previous}": f"#{_css_ident(previous)}" if previous else "",
              "{page}": (f":is({', '.join('#' + _css_ident(a) for a in neighbours)})"
                         if neighbours else ""),
              "{selector}": finding.selector}
    out = []
    for template in entry or []:
        say = None
        if isinstance(template, dict) and "css" in template:  # {css: rule, say: words}
            if template.get("when") and not finding.data.get(str(template["when"])):
                continue  # (when: the page map's condition for it, e.g. standby-contents)
            template, say = template["css"], template.get("say")
        elif isinstance(template, dict) and "grow" in template:  # {grow: mm}
            out.extend(_grow(template, finding))
            continue
        if isinstance(template, dict) and "span" in template:  # {span: narrowest aspect}
            out.extend(_span(template, finding))
            continue
        if isinstance(template, dict) and "own_page" in template:  # {own_page: [kinds]}
            out.extend(_own_page(template, finding))
            continue
        if isinstance(template, dict) and "new_page" in template:  # {new_page: percent}
            out.extend(_new_page(template, finding))
            continue
        if isinstance(template, dict) and "quote" in template:  # {quote: column|span}
            out.extend(_fill_quote(template, finding))
            continue
        if isinstance(template, dict) and "pull" in template:  # {pull: short}
            out.extend(placements.pull_css(article, after, title)
                       for article, title, after in finding.data.get("pulls") or ())
            continue
        if isinstance(template, dict):  # a move of the document: {photo: ±paragraphs}
            out.extend(_photo_moves(template, finding))
            continue
        template = str(template)
        if any(name in template and not value for name, value in values.items()):
            continue
        for name, value in values.items():
            template = template.replace(name, value)
        out.append(_Move(template, str(say)) if say else template)
    return out


def _is_move(entry: dict) -> bool:
    """A single move written as a mapping ({css: …, say: …}, {photo: 1} …), not a table of
    moves by kind (whose kinds may share a move's name: ``separated.photo`` is a list)."""
    return any(not isinstance(entry.get(key), (list, dict, type(None)))
               for key in ("css", "photo", "grow", "new_page", "quote", "pull", "span",
                           "own_page"))


class _Move(str):
    """A CSS move that carries the words the log says it in (the layout's ``say:``): the
    editor reads "set the article a little tighter", not the rule."""

    def __new__(cls, css: str, words: str):
        move = super().__new__(cls, css)
        move.words = words
        return move


def _photo_moves(move: dict, finding: Finding) -> list[str]:
    """``{photo: N}``: each photo concerned placed N paragraphs later (earlier if N < 0),
    as a placement line of the fit (see placements.py)."""
    try:
        by = int(move.get("photo", 0))
    except (TypeError, ValueError):
        return []
    return [placements.photo_css(article, name, after + by)
            for article, name, after in finding.data.get("photos") or ()
            if by and after + by >= 0]


def _grow(move: dict, finding: Finding) -> list[str]:
    """``{grow: N}``: the column photos up to the finding's page set taller, up to N mm and
    never past what their original allows (the page map's ``grow``); none is made smaller."""
    try:
        cap = int(move["grow"])
    except (TypeError, ValueError):
        return []
    photos = []
    for article, name, limit, image_h in finding.data.get("growable") or ():
        height = min(cap, limit)
        if article and height > image_h * _MM_PER_PX + 1 and \
                (article, name) not in [p[:2] for p in photos]:  # (1 mm: not worth it)
            photos.append((article, name, height))
    return [placements.grow_css(photos)] if photos else []


def _span(move: dict, finding: Finding) -> list[str]:
    """``{span: A}``: a column photo up to the short page run across both columns — only
    one at least ``A`` times as wide as it is tall (a taller one would be cropped to a
    strip) whose original prints that wide at the print edition's ppi; nearest the short
    page first, one option per photo."""
    try:
        narrowest = float(move["span"])
    except (TypeError, ValueError):
        return []
    return [placements.span_css(article, name)
            for article, name, wide, aspect, across in finding.data.get("spannable") or ()
            if aspect >= narrowest and wide >= across - 1]


def _own_page(move: dict, finding: Finding) -> list[str]:
    """``{own_page: [kinds]}``: an article of one of ``kinds`` that starts below other
    content starts on a page of its own — the lowest-starting first (the page it leaves
    stays the fullest), one option per article."""
    kinds = move.get("own_page")
    kinds = {str(k) for k in (kinds if isinstance(kinds, list) else [kinds])}
    return [placements.new_page_css(article, title)
            for article, title, kind, _ in finding.data.get("starts") or () if kind in kinds]


def short_of_budget(rendered, budget: int) -> list[Finding]:
    """The issue laid out short of its page ``budget`` (at the loosest fit): a finding for
    the repairs only (``repair.moves.budget``: articles opening pages of their own, whose
    short pages the fill moves then fill), never reported — the budget's own warning
    says what to add."""
    if isinstance(rendered, _Unusable) or rendered.pages >= budget:
        return []
    pages = rendered.layout
    starts, seen = [], set()
    for page in pages.pages:
        if page.kind not in ("article", "contents"):
            continue
        for index, item in enumerate(page.items):
            if item.article is None or item.article in seen:
                continue
            seen.add(item.article)
            if index == 0 or page.height <= 0:
                continue  # it opens its page already
            top = (item.y - page.top) / page.height
            starts.append((top, item.article, page.number))
    starts.sort(reverse=True)
    last = max((p.number for p in pages.pages if p.kind == "article" and p.items), default=1)
    return [Finding("budget", last, None,
                    f"the issue fills {rendered.pages} pages, {budget - rendered.pages} "
                    f"under its budget of {budget}", data={"starts": [
                        (article, title_of(pages, article), pages.kinds.get(article, ""),
                         top) for top, article, _ in starts]},
                    weight=0.0, advisory=True)]


def _new_page(move: dict, finding: Finding) -> list[str]:
    """``{new_page: P}``: an article that starts low on the page before a short page starts
    on a new page instead, so the white space falls at the end of an article and the short
    page gets its text — only where the page it leaves stays at least P % full. The best
    balance of the two pages first; one option per article (each tried in turn)."""
    try:
        keep = float(move["new_page"]) / 100
    except (TypeError, ValueError):
        return []
    options = [(article, title, left, short) for article, title, left, short
               in finding.data.get("breaks") or () if left >= keep]
    options.sort(key=lambda o: (o[3] > 1, -min(o[2], o[3])))
    return [placements.new_page_css(article, title) for article, title, _, _ in options]


def _fill_quote(move: dict, finding: Finding) -> list[str]:
    """``{quote: column}`` (or ``span``: across both columns): a pull quote from an article
    on the short page (or beside the short column), where it lands there (the audit's
    ``quotes``: one option per article, each tried in turn)."""
    style = str(move.get("quote"))
    if style not in ("column", "span"):
        return []
    return [placements.quote_css(article, after, style, text, title, spare)
            for article, after, text, spare, title, last in finding.data.get("quotes") or ()
            if style == "column" or after <= last - 2]  # a span needs text below it


def _describe(finding: Finding) -> str:
    return f"page {finding.page}: {finding.message}"


def _move_words(rule: str) -> str:
    """A move as the log shows it: in the layout's words (``say:``) or a placement's, else
    the CSS as it is."""
    return getattr(rule, "words", "") or placements.describe(rule) or rule


def over_budget(rendered, budget: int | None) -> str | None:
    """What to tell the editor when ``rendered`` missed the page ``budget``."""
    pages = rendered.pages
    if budget is None or pages == budget:
        return None
    if pages > budget:
        extra = _past_budget(rendered, budget)
        lines = sum(1 for item in extra if item.kind == "line")
        photos = sum(1 for item in extra if item.kind == "photo")
        # What runs past the budget: cutting it, or as much height in any mix, fits.
        cut = (f"{lines} lines of text and {photos} photo{'s' if photos > 1 else ''} (or "
               "the same height in text or photos, in any mix)" if photos else
               f"{lines} lines of text (or a photo of about that height)")
        return (f"the issue needs {pages} pages, {pages - budget} over its budget of "
                f"{budget}, even with the tightest fit: cut about {cut}, or raise "
                f"issue.pages to {pages}")
    return (f"the issue fills {pages} pages, {budget - pages} under its budget of {budget}, "
            f"even with the loosest fit: add about {under_budget_lines(rendered, budget)} "
            f"lines of text or a photo, or lower issue.pages (a blank Notes page fills the "
            f"gap)")


def under_budget_lines(rendered, budget: int, settings: dict | None = None) -> int:
    """About how many lines of text an issue laid out short of its page ``budget`` needs to
    reach it: the rest of its last article page, then each missing page, the last of them
    filled as far as the audit wants a last article page (``min_fill_last``)."""
    from .audit.fill import lines_short

    pages = rendered.layout.pages
    articles = [page for page in pages if page.kind == "article" and page.items]
    if not articles or rendered.pages >= budget:
        return 0
    last = articles[-1]
    used = (max(i.bottom for i in last.items) - last.top) / max(last.height, 1.0)
    share = (1 - used) + (budget - rendered.pages - 1) + \
        float(settings_for(settings)["min_fill_last"])
    return lines_short(rendered.layout, last, share)
