"""A small, version-checked fix for WeasyPrint 70.0's column balancing (see
``docs/upstream-column-balancing.md``, written as the upstream contribution).

Two-column pages spend about nine tenths of their layout time balancing columns. In
``layout/column.py`` ``columns_layout``, when the content left over at the balanced height
cannot be split (a figure, a ``break-inside: avoid`` box, a heading kept with its text,
widows and orphans), the height grows **by one pixel per full re-layout of the column set**
— 59 layouts for our back page — until the content fits or a layout reports "lost space"
(then it steps by that). We find the same first pixel step at which either happens by
galloping (1, 2, 4… pixels) and bisecting, in about 2·log2(n) layouts instead of n, and
carry on exactly as the original does from there: the pages are the same.

Balancing, even searched, lays the same lines out again at each height tried: every line of
a column has the same width whatever the column's height. So the patch also remembers, for
one document's layout, what ``split_first_line`` (Pango's line breaking, the dearest step)
returned for the same text, style, width and flags, and hands back a copy of that answer
instead of asking Pango again: four in five calls in the sample, a third off each render.
The answer is a pure function of those arguments; each caller gets its own copy of the
(already released) Pango layout holder, so nothing drawn later is shared.

The same holds one level up: a line box laid out from the same place in the same paragraph
at the same width is the same line wherever the column's foot falls. Within one page's
layout, ``get_next_linebox`` answers such a call with a copy of the line it made, moved to
where it is asked for — but only for lines of plain text and inline boxes (no image, inline
block or float in the line, whose layout may depend on the space left below), with no floats
on the page, no ::first-letter or ::first-line, no ellipsis, and only when making the line
added nothing to the page's lists of positioned boxes or footnotes. The memory is emptied at
the start of every page, so text that changes between passes (page references) is never
taken from it. Five in six lines in the sample; another fifth off each render.

Every render also parses the layout's own stylesheets again (validating every
declaration, compiling every selector: a twentieth of a render), though they are the same
files each time. A stylesheet a page links to is built once per process (the engine host
builds the layout's before its render children are forked, see enginehost.py) and handed
to every render while its bytes, fetched through the render's own fetcher each time, are
unchanged — unless it holds a rule whose effect is written into the document it is read
for (``@font-face``, ``@import``, ``@counter-style``, ``@color-profile``, ``@layer``). Its
``@page`` rules stay with it, where the cascade reads them.

One edit is a fix, not a speed-up: WeasyPrint 70.0 styles the first line of *every*
fragment of a block with its ``::first-line`` rule, so a letter whose small-caps first
paragraph breaks across a page opened the next page with a second small-caps line. Only
the block's first formatted line takes it now (CSS Pseudo-Elements 4, 2.1). The pages of
every issue that does not break such a paragraph stay byte-identical with the patch off.

(A second waste — ``layout/block.py`` lays a multi-column box out again with its bottom
margin reserved, even when it fits — is *not* patched: skipping it changed how one corpus
issue balanced its last article, so it is not a pure speed-up.)

The fix is carried as a textual patch of that function: the installed source is read,
checked against the exact text the patch was written for, edited, and compiled in the
original module. Any other WeasyPrint version, or a source that differs, is refused
with one warning and the build goes on unpatched (slower, same pages). Set
``NEWSLETTER_ENGINE_PATCH=0`` to run unpatched (the tests compare both).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import re
import textwrap

SUPPORTED = "70.0"

_COLUMN_OLD = """\
            if balancing:
                if column_skip_stack is None:
                    # We rendered the whole content, stop
                    break

                # Increase the column heights and render them again
                add_height = 1 if lost_space == inf else lost_space
                height += add_height

                if height > max_height:
                    # We reached max height, stop rendering
                    height = max_height
                    stop_rendering = True
                    break
"""

_COLUMN_NEW = """\
            if balancing:
                # newsletter-pdf patch. The original walks up from the average height one
                # pixel per layout until the content fits or a layout reports lost space,
                # then by the lost space each layout reports. Both walks are searched
                # instead (gallop, then bisect) for the first height where the content
                # fits, in about 2·log2(n) layouts instead of n:
                # - pixel steps: the first whole pixel k where it fits or space is lost,
                #   exactly as the original finds it;
                # - lost-space steps: the lowest height that fits, known once the lost
                #   space reported at the highest height that does not fit reaches it
                #   (no column can take more below that).
                fits = column_skip_stack is None
                if _search_final:
                    break
                if _search_mode is None:
                    if fits:
                        break
                    _search_mode = "px" if lost_space == inf else "lost"
                    _search_base, _search_low, _search_high = height, 0, None
                    _search_step = _search_lost = 1 if lost_space == inf else lost_space
                    _search_walked = 0
                    _search_seen = {}
                elif _search_mode == "px":
                    _search_seen[_search_k] = (fits, lost_space)
                    if fits or lost_space != inf:
                        _search_high = _search_k
                    else:
                        _search_low = _search_k
                elif fits:
                    _search_high = _search_k
                else:  # walking up, the original steps by the least lost space so far
                    _search_low, _search_lost = _search_k, min(_search_lost, lost_space)
                found = False
                if _search_high is not None and _search_mode == "px" and \\
                        _search_high - _search_low <= 1:
                    found_fits, found_lost = _search_seen[_search_high]
                    height = _search_base + _search_high
                    found = found_fits
                    if not found_fits:  # from here the original steps by lost space
                        _search_mode, _search_base = "lost", height
                        _search_low, _search_high = 0, None
                        _search_step = _search_lost = found_lost
                        _search_walked = 0
                elif _search_high is not None and _search_mode == "lost" and (
                        _search_high - _search_low <= 0.0625 or
                        _search_low + _search_lost >= _search_high - 0.0625):
                    height = _search_base + _search_high
                    found = True
                if found:
                    _search_final = _search_k != _search_high
                    if not _search_final:
                        break
                    continue
                if _search_high is None:
                    if _search_walked < 3:  # short walks are the common case: walk
                        _search_walked += 1     # them as the original does, then gallop
                        _search_k = _search_low + (1 if _search_mode == "px"
                                                   else _search_lost)
                        _search_step = 2 * (1 if _search_mode == "px" else _search_lost)
                    else:
                        _search_k = _search_low + _search_step
                        _search_step *= 2
                    _search_top = max_height - _search_base
                    if _search_mode == "px":
                        _search_top = floor(_search_top + 1e-9)
                    if _search_k > _search_top:
                        if _search_low >= _search_top:
                            height = max_height
                            stop_rendering = True
                            break
                        _search_k = _search_top
                elif _search_mode == "px":
                    _search_k = _search_low + (_search_high - _search_low) // 2
                else:
                    _search_k = (_search_low + _search_high) / 2
                height = _search_base + _search_k
                # The original keeps the least lost space of every layout so far as it
                # walks up; searched, the next height (often lower) must report its own
                # space, not a higher one's (the lost steps take the least, above).
                lost_space = inf
"""

_COLUMN_INIT_OLD = """\
        page_is_empty = stop_rendering = balancing = False
        while True:
"""

_COLUMN_INIT_NEW = """\
        page_is_empty = stop_rendering = balancing = False
        _search_base = _search_high = None
        _search_low = _search_k = _search_step = _search_top = _search_lost = 0
        _search_walked = 0
        _search_mode = None
        _search_seen = {}
        _search_final = False
        while True:
"""

# A fix, not a speed-up: WeasyPrint 70.0 gives a block's ::first-line style to the first line
# of each of its fragments, so a paragraph broken across a page or column opens the next
# one with another "first line" (a letter's small-caps opening repeated mid-sentence). By
# the CSS spec only the block's first formatted line takes it.
_FIRST_LINE_OLD = """\
    if box.first_line_style is not None:
"""
_FIRST_LINE_NEW = """\
    if box.first_line_style is not None and is_start:
"""

PATCHES = {
    "column.columns_layout": [(_COLUMN_INIT_OLD, _COLUMN_INIT_NEW), (_COLUMN_OLD, _COLUMN_NEW)],
    "block.block_container_layout": [(_FIRST_LINE_OLD, _FIRST_LINE_NEW)],
}
EXPECTED_SHA256 = {  # the function's source in WeasyPrint 70.0
    "block.block_container_layout":
        "65842ca53a8391ebad539e7ff642eec2f429e981df4396590c37c7b0a0e524dc",
    "column.columns_layout":
        "7a05cce3272fc581cf8d9352ebe07d4de51fb742dfccd6d2e86895ac0eca9691",
    "inline.get_next_linebox":
        "67af458c2545e74f0803072103c6c5d392d5e353dfdaa4f5bac5a96e20ed024d",
    "page.make_page":
        "656f183328e8b1b56311a342621442056c067422958dcaf6730acdfb6c7b8971",
    "line_break.split_first_line":
        "39ad1016863ca34de0bea4c9fcffb46da7e27813c87dd82b7011bfa19fe5504f",
    # not edited: its call of CSS(url=...) for a <link> is what the reuse answers
    "css.find_stylesheets":
        "ac92dbb80c3fd936f05ccb33501b54a438e03126b2ae756adcaa1d3a6958b0ca",
}
# Modules that call split_first_line by the name they imported: both get the memo.
MEMO_CALLERS = ("inline", "preferred")

_state: dict[str, str | bool] = {}


def source_digest(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def apply() -> str | None:
    """Patch the engine once per process; return why not (a one-line reason) or None.

    Refuses, leaving WeasyPrint as it is, for any version other than :data:`SUPPORTED`
    or when a function's source is not the text the patch was written for.
    """
    if "result" in _state:
        return _state["result"] or None
    from . import enginelibs

    enginelibs.load()  # the engine's libraries found without a compiler run per name
    reason = _apply()
    _state["result"] = reason or ""
    return reason


def _apply() -> str | None:
    if os.environ.get("NEWSLETTER_ENGINE_PATCH", "1") == "0":
        return "turned off by NEWSLETTER_ENGINE_PATCH=0"
    import weasyprint
    from weasyprint import css
    from weasyprint.layout import block, column, inline, page, preferred
    from weasyprint.text import line_break

    if weasyprint.__version__ != SUPPORTED:
        return (f"it was written for WeasyPrint {SUPPORTED}, this is "
                f"{weasyprint.__version__} (builds work, column balancing is slower)")
    modules = {"column": column, "block": block, "inline": inline, "preferred": preferred,
               "line_break": line_break, "page": page, "css": css}
    for key, expected in EXPECTED_SHA256.items():  # every function edited or wrapped
        module_name, function_name = key.split(".")
        try:
            digest = source_digest(getattr(modules[module_name], function_name))
        except (OSError, TypeError):
            return f"the source of {key} cannot be read (already patched, or not installed " \
                   "from source)"
        if digest != expected:
            return f"{key} is not the WeasyPrint {SUPPORTED} source it was written for"
    patched = {}
    for key, edits in PATCHES.items():
        module_name, function_name = key.split(".")
        module = modules[module_name]
        source = textwrap.dedent(inspect.getsource(getattr(module, function_name)))
        for old, new in edits:
            if source.count(old) != 1:  # pragma: no cover - guarded by the digest
                return f"{key}: the text to change was not found once"
            source = source.replace(old, new)
        patched[key] = (module, compile(source, f"<newsletter-pdf patch of {module.__file__}>",
                                        "exec"))
    split = line_break.split_first_line
    for module, code in patched.values():  # all checked: now change the modules
        exec(code, vars(module))  # rebinds the function in its own module
    block.columns_layout = column.columns_layout  # block.py imported it by name
    page.block_container_layout = block.block_container_layout  # (page.py did too)
    memo = _remembering(split)
    for name in MEMO_CALLERS:
        modules[name].split_first_line = memo
    inline.get_next_linebox = _remembering_lines(inline.get_next_linebox)
    page.make_page = _forgetting_lines(page.make_page)
    css.CSS = _reusing_stylesheets(css.CSS)  # the name find_stylesheets builds them by
    return None


#: At-rules whose effect is written into the document a stylesheet is read for (its
#: fonts, counter styles, colour profiles, layers) or that read other files: a stylesheet
#: holding one is built for each document, as WeasyPrint does.
_DOCUMENT_RULES = re.compile(rb"@(font-face|import|counter-style|color-profile|layer)\b", re.I)


def _reusing_stylesheets(build):
    """WeasyPrint's ``CSS``, answering a linked stylesheet it built before with the same
    bytes, media and address from memory (see the module's description)."""
    from weasyprint.urls import URLFetchingError, fetch

    built: dict[tuple, object] = {}

    def stylesheet(*args, **kwargs):
        url, fetcher = kwargs.get("url"), kwargs.get("url_fetcher")
        if args or url is None or fetcher is None or kwargs.get("layer") is not None \
                or kwargs.get("matcher") is not None:
            return build(*args, **kwargs)
        try:
            with fetch(fetcher, url) as response:  # confined and checked as every fetch
                data = response.read()
        except (URLFetchingError, OSError, ValueError):
            return build(*args, **kwargs)  # its own error, as WeasyPrint reports it
        if not isinstance(data, bytes) or _DOCUMENT_RULES.search(data):
            return build(*args, **kwargs)
        key = (url, kwargs.get("media_type", "print"), kwargs.get("_check_mime_type"),
               hashlib.sha256(data).digest())
        if key not in built:
            built[key] = build(url=url, url_fetcher=fetcher, media_type=key[1],
                               _check_mime_type=bool(key[2]))
        return built[key]

    stylesheet.__wrapped__ = build
    return stylesheet


def warm_stylesheets(urls: list[str], fetcher) -> None:
    """Build the stylesheets at ``urls`` now (the engine host, before it forks renders)."""
    from weasyprint import css

    for url in urls:
        try:
            css.CSS(url=url, url_fetcher=fetcher, media_type="print", _check_mime_type=True)
        except Exception:  # noqa: BLE001 - a render reports its own stylesheet's problem
            pass


_LINES = "_newsletter_lineboxes"  # the page's remembered lines, on the layout context


def _forgetting_lines(make_page):
    """``make_page`` with an empty memory of lines for each page it makes."""
    def make(context, *args, **kwargs):
        context.__dict__[_LINES] = {}
        try:
            return make_page(context, *args, **kwargs)
        finally:
            context.__dict__[_LINES] = None

    make.__wrapped__ = make_page
    return make


def _frozen(skip_stack):
    """A skip stack (nested dicts) as a key."""
    if skip_stack is None:
        return None
    return tuple(sorted((index, _frozen(rest)) for index, rest in skip_stack.items()))


def _thawed(frozen):
    return None if frozen is None else {index: _thawed(rest) for index, rest in frozen}


def _remembering_lines(get_next_linebox):
    """``get_next_linebox`` answering a line it made on this page from memory (see the
    module's description for when it may)."""
    from weasyprint.formatting_structure import boxes

    plain_types = (boxes.LineBox, boxes.InlineBox, boxes.TextBox)

    def plain(box) -> bool:
        return type(box) in plain_types and all(plain(child) for child in
                                                getattr(box, "children", ()))

    def lists(context, absolute_boxes, fixed_boxes) -> tuple:
        return (len(absolute_boxes), len(fixed_boxes),
                *(len(getattr(context, name, None) or ()) for name in
                  ("broken_out_of_flow", "current_page_footnotes", "reported_footnotes")))

    def next_line(context, linebox, position_y, bottom_space, skip_stack, containing_block,
                  absolute_boxes, fixed_boxes, first_letter_style, first_line_style):
        memory = context.__dict__.get(_LINES)
        style = containing_block.style
        if memory is None or context.excluded_shapes or first_letter_style is not None \
                or first_line_style is not None or style["text_overflow"] != "clip" \
                or style["block_ellipsis"] != "none":
            return get_next_linebox(context, linebox, position_y, bottom_space, skip_stack,
                                    containing_block, absolute_boxes, fixed_boxes,
                                    first_letter_style, first_line_style)
        x = containing_block.content_box_x()
        key = (id(linebox), _frozen(skip_stack), containing_block.width, linebox.text_indent)
        entry = memory.get(key)
        if entry is not None and entry[0] is linebox:  # (the entry keeps it alive: an id
            # is never reused for another box while remembered)
            _, line, resume_at, x0, y0, (left, top, width, height) = entry
            dx, dy = x - x0, position_y - y0
            new = line.deepcopy()
            new.translate(dx, dy)
            linebox.position_x, linebox.position_y = left + dx, top + dy
            linebox.width, linebox.height = width, height
            return new, _thawed(resume_at)
        before = lists(context, absolute_boxes, fixed_boxes)
        line, resume_at = get_next_linebox(
            context, linebox, position_y, bottom_space, skip_stack, containing_block,
            absolute_boxes, fixed_boxes, first_letter_style, first_line_style)
        if line is not None and not context.excluded_shapes and plain(line) \
                and lists(context, absolute_boxes, fixed_boxes) == before:
            memory[key] = (linebox, line.deepcopy(), _frozen(resume_at), x, position_y,
                           (linebox.position_x, linebox.position_y, linebox.width,
                            linebox.height))
        return line, resume_at

    next_line.__wrapped__ = get_next_linebox
    return next_line


def _remembering(split_first_line):
    """``split_first_line`` answering a call it has seen in this layout from memory.

    The memory hangs on the layout context (one per document render), so it lives exactly
    as long as one layout; calls without a context are passed through. The style is keyed
    by identity (a computed style is one object shared by every copy of its box) and kept
    alive by the entry, so its identity cannot be reused while remembered.
    """
    def split(text, style, context, max_width, justification_spacing,
              is_line_start=True, minimum=False):
        if context is None:
            return split_first_line(text, style, context, max_width, justification_spacing,
                                    is_line_start, minimum)
        memory = context.__dict__.setdefault("_newsletter_lines", {})
        key = (text, id(style), max_width, justification_spacing, is_line_start, minimum)
        entry = memory.get(key)
        if entry is None:
            answer = split_first_line(text, style, context, max_width,
                                      justification_spacing, is_line_start, minimum)
            if hasattr(answer[0], "layout"):  # a live Pango layout: never share it
                return answer
            entry = memory[key] = (style, answer)
        layout, *rest = entry[1]
        return (copy.copy(layout), *rest)  # each text box owns its holder

    split.__wrapped__ = split_first_line
    return split
