"""The whole pipeline in one function: manifest → articles → layout → editions → PDFs.

Each CLI command is a thin wrapper around :func:`check_issue` or :func:`build_issue`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .articles import Article, read_articles
from .atomic import write_atomically
from .compose import check_fonts, compose_bounded
from .editions import EDITIONS, REGISTRY, get_edition, page_reference, prepare_edition
from .errors import Problem, Problems, UsageError, strict_errors
from .i18n import load_words
from .images import inspect_images
from .language import check_scripts
from .layouts import Layout, load_layout
from .manifest import Manifest, load_manifest
from .outputs import default_output_dir
from .progress import Reporter, silent
from .render import DEFAULT_TIME_LIMIT, render_pdf
from .textcheck import check_words


@dataclass
class Checked:
    """A validated issue, ready to compose."""

    manifest: Manifest
    articles: list[Article]
    layout: Layout
    warnings: list[Problem] = field(default_factory=list)
    time_limit: float | None = DEFAULT_TIME_LIMIT  # seconds a render may take
    allow_html: bool = False  # sanitised raw HTML in articles and short fields


@dataclass
class Built:
    """One written edition (a PDF, or the web folder's index) and what the user should
    know about it (``size``: the file, or the web page's weight)."""

    edition: str
    path: Path
    pages: int
    size: int
    seconds: float
    padded: list[int] = field(default_factory=list)  # page numbers of added pages
    preflight: object | None = None  # preflight.Report
    sources: dict = field(default_factory=dict)  # image digest -> photocheck.PhotoSource
    files: int = 0  # a folder edition (web): how many files it holds


@dataclass
class BuildResult:
    """Everything one build wrote."""

    outputs: dict[str, Built]
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    layout: Layout | None = None
    notes: list[str] = field(default_factory=list)  # said once, not warnings


def check_issue(target: Path, strict: bool = False, allow_html: bool = False,
                out_dir: Path | None = None) -> Checked:
    """Validate everything without rendering; raise with *all* problems at once.

    With ``out_dir`` (a build), photos already verified in that build's cache are not
    decoded again."""
    problems = Problems()
    manifest = load_manifest(target, problems)
    if manifest is None:
        problems.raise_if_errors()
    # Even with problems in the manifest, read what it names: every problem in one run.
    articles = read_articles(manifest, problems, allow_html=allow_html)
    verified = None
    if out_dir is not None:
        from .imageprep import cache_dir_for
        verified = cache_dir_for(Path(out_dir)).parent / "verified"
    inspect_images(manifest, problems, verified)
    _check_alt_texts(manifest, problems)
    layout = load_layout(manifest, problems)
    if layout is not None:
        check_fonts(manifest, layout, problems)
        check_scripts(articles, layout, manifest.folder, problems)
        load_words(layout, manifest.issue.language, manifest.words, problems, manifest.path)
    problems.raise_if_errors(strict)
    return Checked(manifest, articles, layout, problems.warnings, allow_html=allow_html)


def _default_out(target: Path) -> Path | None:
    from .manifest import find_manifest

    try:
        return Path("build") / find_manifest(Path(target)).parent.name
    except Exception:  # a bad target: check_issue reports it properly
        return None


def build_issue(target: Path, out_dir: Path | None = None,
                editions: tuple[str, ...] | list[str] = EDITIONS, strict: bool = False,
                allow_remote: bool = False, preflight: bool = True, allow_html: bool = False,
                time_limit: float | None = DEFAULT_TIME_LIMIT,
                reporter: Reporter | None = None) -> BuildResult:
    """Check, compose, render, preflight and write each edition's PDF (atomically).

    ``reporter`` times each stage (and shows progress on a terminal).

    Every edition is rendered before any file is written, so a failure in one leaves the
    previous good PDFs of *all* editions untouched.
    """

    started = time.perf_counter()
    _reporter[0] = reporter or silent()
    try:
        return _build(target, out_dir, editions, strict, allow_remote, preflight, allow_html,
                      time_limit, started)
    finally:
        _reporter[0] = silent()


#: The reporter of the build in progress (one build at a time per process).
_reporter: list[Reporter] = [silent()]


def _build(target, out_dir, editions, strict, allow_remote, preflight, allow_html,
           time_limit, started) -> BuildResult:
    reporter = _reporter[0]
    # Patch (and import) the engine here, once: every render child forked from this
    # process inherits it instead of importing WeasyPrint again.
    from . import weasyprint_patch
    engine_note = weasyprint_patch.apply()
    unknown = set(editions) - set(REGISTRY)
    if unknown:
        raise UsageError(f"unknown edition {', '.join(sorted(unknown))}; use "
                         f"{', '.join(EDITIONS)} or all")
    kinds = [get_edition(name) for name in editions]
    # The page reference (email: small images, renders fastest) copyfits, and its page
    # count tells the edition that pads (print, for saddle stitching) how many pages to add.
    reference = page_reference()
    padder = next((k for k in kinds if k.needs_page_count), None)
    with reporter.stage("check"):
        checked = check_issue(target, strict=strict, allow_html=allow_html,
                              out_dir=out_dir or _default_out(target))
    checked.time_limit = time_limit
    manifest = checked.manifest
    out = Path(out_dir) if out_dir else default_output_dir(manifest)
    problems = Problems()
    pending: list[tuple[Built, bytes]] = []
    results: dict[str, tuple] = {}
    pdf_names = [k.name for k in kinds if k.is_pdf]
    if pdf_names:
        # The padding edition's photos (print: CMYK, 300 ppi, the slowest preparation) are
        # prepared on the other core while the reference is prepared, fingerprinted, rendered.
        print_prep = _background(lambda: _prepare(padder.name, manifest, checked.layout, out,
                                                  problems)) if padder else None
        memo_key = _memo_key(manifest, checked, out, problems)
        memo = _read_memo(out).get(memo_key)
        if memo:
            # Seen this content before: the copyfit level and page count are known, so the
            # editions are independent — render them side by side (one core each).
            results = _render_parallel(manifest, checked, out, pdf_names, problems, allow_remote,
                                       memo["fit"], memo["pages"], padder, print_prep)
            if any(rendered.pages - padding != memo["pages"]
                   for rendered, padding, _ in results.values()):
                results = {}  # the memo was wrong (should not happen): do it step by step
        if not results and print_prep is not None and reference.name in pdf_names:
            # An edit since the last build: the page count and copyfit level usually stay as
            # they were, so render the print edition on that guess beside the email edition,
            # and keep it only if the email edition confirms the guess.
            results, fit = _render_on_guess(manifest, checked, out, problems, allow_remote,
                                            _latest_memo(out), print_prep, reference, padder)
            if results:
                _write_memo(out, memo_key, {"fit": fit,
                                            "pages": results[reference.name][0].pages})
        if not results:
            t0 = time.perf_counter()
            rendered, fit = _fitted(manifest, checked, out, reference.name, problems,
                                    allow_remote)
            page_count = rendered.pages
            if reference.name in pdf_names:
                results[reference.name] = (rendered, 0, time.perf_counter() - t0)
            if print_prep is not None:
                t0 = time.perf_counter()
                padding = padder.padding(page_count, manifest)
                edition = print_prep()
                edition.padding_pages = padding
                edition.extra_css += "\n" + fit
                rendered = _render(manifest, checked, out, padder.name, problems, allow_remote,
                                   edition)
                results[padder.name] = (rendered, padding, time.perf_counter() - t0)
            _write_memo(out, memo_key, {"fit": fit, "pages": page_count})
    for kind in kinds:
        name = kind.name
        if not kind.is_pdf:
            continue
        rendered, padding, seconds = results[name]
        path = out / kind.output_name(manifest)
        back = 1 if manifest.back_page else 0
        padded = list(range(rendered.pages - back - padding + 1, rendered.pages - back + 1))
        built = Built(name, path, rendered.pages, len(rendered.pdf), seconds,
                      padded if padding else [])
        built.sources = rendered.sources
        pending.append((built, rendered.pdf))
    problems.raise_if_errors(strict)
    outputs: dict[str, Built] = {}
    for built, data in pending:
        with reporter.stage("write"):
            write_atomically(built.path, data)
        if preflight:
            with reporter.stage(f"preflight ({built.edition})"):
                built.preflight = REGISTRY[built.edition].preflight(built.path, manifest)
        outputs[built.edition] = built
    for kind in kinds:
        if kind.is_pdf:
            continue
        # Built after the PDFs, which it links to (those of this build, else earlier ones).
        t0 = time.perf_counter()
        pdfs = {n: outputs[n].path if n in outputs else out / REGISTRY[n].output_name(manifest)
                for n in REGISTRY if REGISTRY[n].is_pdf}
        with reporter.stage(f"write ({kind.name})"):
            site = kind.build(checked, out, problems, pdfs)
        built = Built(kind.name, site.index, 0, site.page_weight, time.perf_counter() - t0)
        built.files = len(site.files)
        if preflight:
            with reporter.stage(f"preflight ({kind.name})"):
                built.preflight = kind.preflight(site.index, manifest)
        outputs[kind.name] = built
    warnings = checked.warnings + problems.warnings
    for built in outputs.values():
        if built.preflight is not None:
            warnings += built.preflight.as_problems()
        if preflight:
            warnings += REGISTRY[built.edition].review(built, manifest)
    if strict and strict_errors(warnings):
        from .errors import ValidationError
        raise ValidationError(strict_errors(warnings),
                              written=[b.path for b in outputs.values()])
    notes = [f"column-balancing speed-up not applied: {engine_note}"] if engine_note else []
    return BuildResult(outputs, warnings, time.perf_counter() - started, checked.layout, notes)


def _memo_key(manifest, checked, out, problems) -> str:
    """A fingerprint of everything that decides the layout: the composed HTML (content,
    layout, prepared images — their cache names are content hashes) and our version."""
    import hashlib

    from . import __version__

    edition = _prepare(page_reference().name, manifest, checked.layout, out, problems)
    html = compose_bounded(manifest, checked.articles, checked.layout, problems, edition,
                           allow_html=checked.allow_html, time_limit=checked.time_limit)
    return hashlib.sha256(f"{__version__}\n{html}".encode()).hexdigest()


def _memo_path(out: Path) -> Path:
    from .imageprep import cache_dir_for
    return cache_dir_for(out).parent / "layout-memo.json"


def _read_memo(out: Path) -> dict:
    import json

    try:
        data = json.loads(_memo_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_memo(out: Path, key: str, value: dict) -> None:
    import json

    memo = _read_memo(out)
    memo[key] = value
    while len(memo) > 20:  # keep the file small: the oldest entries go first
        memo.pop(next(iter(memo)))
    path = _memo_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(memo, indent=1).encode())


def _in_parallel(calls: list) -> list:
    """Run ``calls`` (zero-argument callables) in threads and return their results.

    Each call starts a render child and waits for it. Ctrl-C or SIGTERM in the main thread
    kills those children at once (they would otherwise finish their work), so an
    interrupted build stops now and leaves the previous PDFs as they were.
    """
    import multiprocessing
    import signal
    import threading
    from concurrent.futures import ThreadPoolExecutor

    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_term(signum, frame):
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGTERM, on_term)
    pool = ThreadPoolExecutor(max_workers=max(1, len(calls)))
    try:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
    except BaseException:
        for child in multiprocessing.active_children():
            child.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _render_parallel(manifest, checked, out, editions, problems, allow_remote, fit, pages,
                     padder=None, print_prep=None):
    """Render the editions at once: each render runs in its own child process, so two
    threads that only start a child and wait for its result use both cores."""
    prepared = {}
    paddings = {name: get_edition(name).padding(pages, manifest)
                if get_edition(name).needs_page_count else 0 for name in editions}
    for name in editions:
        if padder is not None and name == padder.name and print_prep is not None:
            edition = print_prep()
            edition.padding_pages = paddings[name]
        else:
            edition = _prepare(name, manifest, checked.layout, out, problems, paddings[name])
        edition.extra_css += "\n" + (fit or "")
        prepared[name] = edition

    def job(name):
        t0 = time.perf_counter()
        rendered = _render(manifest, checked, out, name, problems, allow_remote,
                           prepared[name])
        return rendered, paddings[name], time.perf_counter() - t0

    names = list(editions)
    results = _in_parallel([lambda name=name: job(name) for name in names])
    return dict(zip(names, results))


def _latest_memo(out: Path) -> dict | None:
    """The layout of the most recent build into ``out`` (the memo keeps insertion order)."""
    memo = _read_memo(out)
    return memo[next(reversed(memo))] if memo else None


def _render_on_guess(manifest, checked, out, problems, allow_remote, guess, print_prep,
                     reference, padder) -> tuple[dict, str]:
    """Both editions side by side, the padding one (print) on the last build's page count
    and copyfit level; ({}, "") when the guess was wrong (the print render is dropped, with
    anything it reported), else (results, fit).

    The reference (email) edition is still rendered at every copyfit level up to the guessed one, in
    parallel: a build must not depend on what was built before, and the copyfit always
    tries the levels in order."""
    if not guess or guess.get("fit") not in FIT_LEVELS[:2]:
        return {}, ""
    fit = guess["fit"]
    levels = FIT_LEVELS[:FIT_LEVELS.index(fit) + 1]
    padding = padder.padding(guess["pages"], manifest)
    spare = Problems()

    def email_job(level):
        t0 = time.perf_counter()
        found = Problems()
        edition = _prepare(reference.name, manifest, checked.layout, out, found)
        edition.extra_css += "\n" + level
        rendered = _render(manifest, checked, out, reference.name, found, allow_remote,
                           edition)
        return rendered, found, time.perf_counter() - t0

    def print_job():
        t0 = time.perf_counter()
        edition = print_prep()
        edition.padding_pages = padding
        edition.extra_css += "\n" + fit
        rendered = _render(manifest, checked, out, padder.name, spare, allow_remote, edition)
        return rendered, spare, time.perf_counter() - t0

    done = _in_parallel([lambda level=level: email_job(level) for level in levels]
                        + [print_job])
    emails, (printed, _, print_s) = done[:-1], done[-1]
    slivers = [_ends_with_sliver(rendered.pdf, manifest) for rendered, _, _ in emails]
    email, found, email_s = emails[-1]
    if email.pages != guess["pages"] or slivers != [True] * (len(levels) - 1) + [False]:
        return {}, ""
    problems.extend(found)
    problems.extend(spare)
    return {reference.name: (email, 0, email_s), padder.name: (printed, padding, print_s)}, fit


def _background(call):
    """Start ``call`` in a thread now; return a function that waits for its result."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future.result


# Copyfitting: when the articles' last page would hold only a few stray lines, tighten the
# photo height caps (CSS custom properties of the layout) and render again.
FIT_LEVELS = ["", ":root { --photo-cap: 60mm; --span-cap: 85mm; }",
              ":root { --photo-cap: 52mm; --span-cap: 75mm; }"]
SHORT_PAGE_LINES = 6


def _fitted(manifest, checked, out, name, problems, allow_remote, padding=0, fit=None):
    """Render one edition; without a known fit level, try them until no page is a sliver.

    Levels are tried one at a time: the other core prepares the print edition meanwhile,
    and most issues fit at the first level."""
    def edition_at(level):
        edition = _prepare(name, manifest, checked.layout, out, problems, padding)
        edition.extra_css += "\n" + level
        return edition

    if fit is not None:
        return _render(manifest, checked, out, name, problems, allow_remote,
                       edition_at(fit)), fit
    for level in FIT_LEVELS:
        rendered = _render(manifest, checked, out, name, problems, allow_remote,
                           edition_at(level))
        if not _ends_with_sliver(rendered.pdf, manifest):
            return rendered, level
    return rendered, level


def _ends_with_sliver(pdf: bytes, manifest: Manifest) -> bool:
    """True if the last page of articles carries only a few lines (the rest overflowed)."""
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    index = len(reader.pages) - (2 if manifest.back_page else 1)
    if index < 1:
        return False
    page = reader.pages[index]
    footer = {manifest.footer.contact_line if manifest.footer else ""}
    lines = [line for line in (page.extract_text() or "").splitlines()
             if line.strip() and manifest.issue_label not in line and line not in footer
             and not line.strip().isdigit()]
    if len(lines) > SHORT_PAGE_LINES:
        return False
    from .pdfinspect import inspect_pdf

    return not inspect_pdf(io.BytesIO(pdf))[index].images


def _prepare(name: str, *args, **kwargs):
    with _reporter[0].stage(f"prepare photos ({name})"):
        return prepare_edition(name, *args, **kwargs)


def _render(manifest, checked, out, name, problems, allow_remote, edition=None):
    if edition is None:
        edition = _prepare(name, manifest, checked.layout, out, problems)
    reporter = _reporter[0]
    with reporter.stage(f"compose ({name})"):
        html = compose_bounded(manifest, checked.articles, checked.layout, problems, edition,
                               allow_html=checked.allow_html, time_limit=checked.time_limit)
    roots = [manifest.folder, *checked.layout.roots, *edition.roots]
    with reporter.stage(f"lay out and write ({name})"):
        rendered = render_pdf(html, manifest.folder, roots, problems,
                              allow_remote=allow_remote, pdf_options=edition.pdf_options,
                              time_limit=checked.time_limit)
    reporter.note(f"{name} edition: {rendered.pages} pages laid out")
    with reporter.stage(f"finish ({name})"):
        check_words(checked.articles, rendered.text, problems, manifest.issue.language,
                    checked.allow_html)
        rendered.pdf = get_edition(name).finish(rendered.pdf, manifest, checked.layout,
                                                edition, rendered.pages, problems)
    rendered.sources = edition.sources
    return rendered


def _check_alt_texts(manifest: Manifest, problems: Problems) -> None:
    """Missing alt text is a warning: the email edition must be accessible."""
    for i, spec in enumerate(manifest.articles):
        for j, photo in enumerate(spec.photos):
            if not (photo.alt or "").strip():
                where = photo.where
                problems.warn("photo has no alt text; add 'alt:' describing it for readers "
                              "using screen readers", file=where.file if where else None,
                              line=where.line if where else None,
                              column=where.column if where else None,
                              key=f"articles[{i}].photos[{j}].alt")
