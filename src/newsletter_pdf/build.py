"""The whole pipeline in one function: manifest → articles → layout → editions → PDFs.

Each CLI command is a thin wrapper around :func:`check_issue` or :func:`build_issue`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import layoutmemo
from .articles import Article, read_articles, with_article_images
from .atomic import write_atomically
from .backpage import check_back_page
from .buildphotos import BuildPhotos
from .compose import check_fonts, compose_bounded, document_changes
from .editions import (
    EDITIONS,
    PDF_EDITIONS,
    REGISTRY,
    get_edition,
    page_multiple,
    page_reference,
    prepare_edition,
    with_fit_photos,
)
from .enginehost import EngineHost
from .enginehost import active as _host
from .errors import Problem, Problems, RenderError, UsageError, strict_errors
from .i18n import load_words
from .images import inspect_images
from .language import check_scripts
from .layouts import Layout, load_layout
from .logocheck import check_logo_on_band
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
    findings: list = field(default_factory=list)  # its preflight's and review's warnings


@dataclass
class BuildResult:
    """Everything one build wrote."""

    outputs: dict[str, Built]
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    layout: Layout | None = None
    notes: list[str] = field(default_factory=list)  # said once, not warnings
    repairs: list[str] = field(default_factory=list)  # the fit and repair log, one line a move


def check_issue(target: Path, strict: bool = False, allow_html: bool = False,
                out_dir: Path | None = None, defer_decode: bool = False) -> Checked:
    """Validate everything without rendering; raise with *all* problems at once.

    With ``out_dir`` (a build), photos already verified in that build's cache are not
    decoded again. ``defer_decode`` (a build of a PDF edition): photos are not decoded
    here at all; their preparation decodes each one and reports a damaged one in the
    check's words."""
    problems = Problems()
    manifest = load_manifest(target, problems)
    if manifest is None:
        problems.raise_if_errors()
    # Even with problems in the manifest, read what it names: every problem in one run.
    articles = read_articles(manifest, problems, allow_html=allow_html)
    manifest = with_article_images(manifest, articles)
    check_back_page(manifest, problems, allow_html)
    verified = None
    if out_dir is not None:
        from .imageprep import cache_dir_for
        verified = cache_dir_for(Path(out_dir)).parent / "verified"
    inspect_images(manifest, problems, verified, defer=defer_decode)
    _check_alt_texts(manifest, problems)
    layout = load_layout(manifest, problems)
    if layout is not None:
        check_fonts(manifest, layout, problems)
        check_logo_on_band(manifest, layout, problems)
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
                reporter: Reporter | None = None, fresh: bool = False,
                host: EngineHost | None = None) -> BuildResult:
    """Check, compose, render, preflight and write each edition's PDF (atomically).

    ``reporter`` times each stage (and shows progress on a terminal). ``fresh``: search the
    layout afresh, as a first build would, instead of starting from the last build's fit.
    ``host``: an engine host already started (the CLI starts it before importing this
    module); by default the build starts its own and stops it when done.

    Every edition is rendered before any file is written, so a failure in one leaves the
    previous good PDFs of *all* editions untouched.
    """

    started = time.perf_counter()
    _reporter[0] = reporter or silent()
    # Render children are forked from a host that imports the engine now, on the other
    # core, while this process checks (see enginehost.py). Forked before any thread starts.
    own = host is None and any(n in PDF_EDITIONS for n in editions)
    _host[0] = EngineHost.start() if own else host
    try:
        with contextlib.ExitStack() as cleanup:  # what a build that stopped leaves behind
            return _build(target, out_dir, editions, strict, allow_remote, preflight,
                          allow_html, time_limit, started, cleanup, fresh)
    finally:
        _reporter[0] = silent()
        if _photos[0] is not None:
            _photos[0].close()
        _photos[0] = None
        _composed[0] = None
        _drop_kept()
        if own and _host[0] is not None:
            _host[0].close()
        _host[0] = None


#: The reporter of the build in progress (one build at a time per process).
_reporter: list[Reporter] = [silent()]
#: The editions and photos of the build in progress (see buildphotos.py); None outside a
#: build (a caller of _prepare between builds gets its own preparation).
_photos: list[BuildPhotos | None] = [None]
#: The HTML composed in the build in progress, by document structure (see _compose).
_composed: list[dict | None] = [None]


def _build(target, out_dir, editions, strict, allow_remote, preflight, allow_html,
           time_limit, started, cleanup: contextlib.ExitStack,
           fresh=False) -> BuildResult:
    reporter = _reporter[0]
    # Photos are prepared in threads while render children are forked: a child forked
    # while a thread imports a module would wait for that import forever. So every image
    # module is imported here, before any thread starts.
    from PIL import Image, ImageCms  # noqa: F401
    Image.init()
    if _host[0] is None:
        # No engine host: import and patch the engine once, here; every render child
        # forked from this process inherits it. The import (about 0.7 s) runs beside the
        # check, and is over before anything is forked (see above).
        from . import weasyprint_patch
        engine = _background(weasyprint_patch.apply)
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
                              out_dir=out_dir or _default_out(target),
                              defer_decode=any(k.is_pdf for k in kinds))
    engine_note = engine() if _host[0] is None else None  # the host's: asked at the end
    checked.time_limit = time_limit
    manifest = checked.manifest
    if _host[0] is not None:
        _host[0].preload([manifest.issue.language, *(a.language for a in checked.articles)],
                         [p.as_uri() for p in checked.layout.stylesheet_paths()],
                         checked.layout.roots)
    out = Path(out_dir) if out_dir else default_output_dir(manifest)
    problems = Problems()
    pending: list[tuple[Built, bytes]] = []
    staging = _Staging(manifest, out, preflight)
    cleanup.callback(staging.discard)  # no ….new.pdf is left behind
    log: list[str] = []
    results: dict[str, tuple] = {}
    pdf_names = [k.name for k in kinds if k.is_pdf]
    _photos[0] = BuildPhotos(pdf_names, manifest, checked.layout, out, reporter, _host[0])
    _composed[0] = {}
    pdf_paths = {n: out / REGISTRY[n].output_name(manifest) for n in REGISTRY
                 if REGISTRY[n].is_pdf}
    # The other editions' slow preparation (the web edition's WebP photos and font
    # subsets) fills the cache on the other core while the PDFs lay out.
    warming = [_warm(kind, checked, out, pdf_paths) for kind in kinds if not kind.is_pdf]
    if pdf_names:
        # The padding edition's photos (print: CMYK, 300 ppi, the slowest preparation) are
        # prepared on the other core while the reference is prepared, fingerprinted, rendered.
        print_prep = _background(lambda: _prepare(padder.name, manifest, checked.layout, out,
                                                  problems)) if padder else None
        guess = None if fresh else layoutmemo.latest(out, manifest)
        early = None
        if guess and print_prep is not None and reference.name in pdf_names:
            # Most builds are of the last build's layout, or of an edit that keeps it: the
            # print render on that fit starts now, beside the fingerprint and the
            # reference's render, and is kept only if the reference keeps that fit.
            early = _background(functools.partial(_print_on_guess, manifest, checked, out,
                                                  allow_remote, guess, print_prep, padder))
        entries = {} if fresh else layoutmemo.read(out)
        # (prepared once for the search and the fingerprint, whose call reports its problems)
        _prepare(reference.name, manifest, checked.layout, out, Problems())
        memo_key = _background(functools.partial(layoutmemo.fingerprint, manifest, checked,
                                                 out, problems, _prepare))
        # The memo is looked up by the composed HTML's fingerprint (a compose, about a
        # tenth of a second). With no entry to look up (a first build) nothing waits for
        # it: it is computed beside the search and only written after it.
        memo = entries.get(memo_key()) if entries else None
        if memo:
            # Seen this content before: the copyfit level and page count are known, so the
            # editions are independent — render them side by side (one core each).
            printed = early if early is not None and (memo["fit"], memo["pages"]) == \
                (guess["fit"], guess["pages"]) else None
            results = _render_parallel(manifest, checked, out, pdf_names, problems, allow_remote,
                                       memo["fit"], memo["pages"], padder, print_prep, printed,
                                       ready=staging.ready)
            if printed is not None:
                early = None  # used
            if any(rendered.pages - padding != memo["pages"]
                   for rendered, padding, _ in results.values()):
                results = {}  # the memo was wrong (should not happen): do it step by step
                staging.discard()
            else:  # now the latest layout of this issue (the next edit starts from it)
                layoutmemo.write(out, memo_key(), {**memo, "issue": str(manifest.path.resolve())})
        log: list[str] = list(memo.get("log", [])) if memo and results else []
        fit = memo["fit"] if memo and results else ""
        outcome = None
        if results:
            guess = None
        if early is not None and not results:
            # An edit since the last build: the page count and fit usually stay as they
            # were, so the print render on that guess goes on beside the email edition's,
            # and is kept only if the email edition's fit and repair keeps the guess.
            results, fit, outcome = _render_on_guess(manifest, checked, out, problems,
                                                     allow_remote, guess, early, reference,
                                                     padder)
            early = None
            log = outcome.log
            layoutmemo.remember(out, memo_key(), fit, outcome, manifest)
        if early is not None:
            early()  # not needed after all (the memo held another fit): let it finish
        if reference.name not in results:
            t0 = time.perf_counter()
            # With the padding edition to render once the fit is known, the search only
            # lays out, and the reference edition's PDF is written beside that render
            # (the other core would wait); with no PDF of it wanted, it is never written.
            write = print_prep is None and reference.name in pdf_names
            rendered, fit, outcome = _fitted(manifest, checked, out, reference.name,
                                             allow_remote, guess=guess, write=write)
            if rendered.pdf or reference.name not in pdf_names:
                problems.extend(rendered.problems)
            log = outcome.log
            results[reference.name] = (rendered, 0, time.perf_counter() - t0)
            layoutmemo.remember(out, memo_key(), fit, outcome, manifest)
        budget = outcome.budget if outcome is not None else (memo or {}).get("budget")
        final = [name for name in pdf_names
                 if name not in results or not results[name][0].pdf]
        if final:  # the padding edition, and the reference if it was only laid out
            searched = {name: results[name][2] for name in final if name in results}
            pages = results[reference.name][0].pages
            chosen = results[reference.name][0] if reference.name in results else None
            _drop_kept(but=chosen)
            results.update(_render_parallel(manifest, checked, out, final, problems,
                                            allow_remote, fit, pages, padder, print_prep,
                                            chosen=chosen, chosen_name=reference.name,
                                            ready=staging.ready))
            for name, seconds in searched.items():
                rendered, padding, written = results[name]
                results[name] = (rendered, padding, seconds + written)
        if reference.name not in pdf_names:
            results.pop(reference.name, None)
        _report_layout(results, problems, manifest, checked.layout, budget)
    for kind in kinds:
        if not kind.is_pdf:
            continue
        rendered, padding, seconds = results[kind.name]
        if kind.name in staging.staged:  # written and judged as soon as it was rendered
            staging.staged[kind.name][0].seconds = seconds
        else:
            pending.append((_built(kind, manifest, out, rendered, padding, seconds),
                            rendered.pdf))
    problems.raise_if_errors(strict)
    outputs = _write_pdfs(pending, staging, strict, checked.warnings + problems.warnings)
    outputs = {k.name: outputs[k.name] for k in kinds if k.name in outputs}
    for wait in warming:
        wait()
    for kind in kinds:
        if kind.is_pdf:
            continue
        # Built after the PDFs, which it links to (those of this build, else earlier ones).
        t0 = time.perf_counter()
        pdfs = {n: outputs[n].path if n in outputs else pdf_paths[n] for n in pdf_paths}
        with reporter.stage(f"write ({kind.name})"):
            site = kind.build(checked, out, problems, pdfs)
        built = Built(kind.name, site.index, 0, site.page_weight, time.perf_counter() - t0)
        built.files = len(site.files)
        if preflight:
            _judge(kind, built, site.index, manifest)
        outputs[kind.name] = built
    warnings = checked.warnings + problems.warnings
    for built in outputs.values():
        warnings += built.findings
    if strict and strict_errors(warnings):
        from .errors import ValidationError
        raise ValidationError(strict_errors(warnings),
                              written=[b.path for b in outputs.values()])
    if _host[0] is not None:
        engine_note = _host[0].engine_note()
    notes = [f"column-balancing speed-up not applied: {engine_note}"] if engine_note else []
    return BuildResult(outputs, warnings, time.perf_counter() - started, checked.layout, notes,
                       log)


def _judge(kind, built: Built, path: Path, manifest: Manifest) -> None:
    """Preflight the written ``path`` of an edition and review it: ``built.findings``."""
    with _reporter[0].stage(f"preflight ({kind.name})"):
        built.preflight = kind.preflight(path, manifest)
    built.findings = built.preflight.as_problems() + kind.review(built, manifest)


def _built(kind, manifest: Manifest, out: Path, rendered, padding: int,
           seconds: float) -> Built:
    """What the build reports of one PDF edition's render."""
    back = 1 if manifest.back_page else 0
    padded = list(range(rendered.pages - back - padding + 1, rendered.pages - back + 1))
    built = Built(kind.name, out / kind.output_name(manifest), rendered.pages,
                  len(rendered.pdf), seconds, padded if padding else [])
    built.sources = rendered.sources
    return built


class _Staging:
    """The PDFs of a build, each written beside its target (``….new.pdf``) and preflighted
    there as soon as it is rendered (the email edition's while the print edition still
    renders, on the core it leaves idle), and put in place together only once every one
    is written and judged (:func:`_write_pdfs`)."""

    def __init__(self, manifest: Manifest, out: Path, preflight: bool):
        self.manifest, self.out, self.preflight = manifest, out, preflight
        self.staged: dict[str, tuple[Built, Path]] = {}  # edition -> (built, final path)
        self._lock = threading.Lock()

    def ready(self, name: str, rendered, padding: int) -> None:
        """A render's hook (see _render_parallel): stage its edition's PDF now."""
        if rendered.pdf:
            self.stage(_built(get_edition(name), self.manifest, self.out, rendered, padding,
                              0.0), rendered.pdf)

    def stage(self, built: Built, data: bytes) -> Built:
        final = built.path
        built.path = final.with_name(f"{final.stem}.new{final.suffix}")
        with _reporter[0].stage("write"):
            try:
                write_atomically(built.path, data)
            except OSError as exc:  # named as the file the editor asked for
                raise OSError(exc.errno, exc.strerror, str(final)) from exc
        with self._lock:
            self.staged[built.edition] = (built, final)
        if self.preflight:  # each in its own child: the editions are judged side by side
            _judge(REGISTRY[built.edition], built, built.path, self.manifest)
        return built

    def discard(self) -> None:
        """Remove every staged file (the build stopped before putting them in place)."""
        with self._lock:
            staged, self.staged = self.staged, {}
        for built, _ in staged.values():
            built.path.unlink(missing_ok=True)

    def commit(self) -> dict[str, Built]:
        """Put every staged PDF in place (the last good ones are replaced only now)."""
        outputs: dict[str, Built] = {}
        for name, (built, final) in list(self.staged.items()):
            os.replace(built.path, final)
            renamed = str(built.path)
            built.path = final
            if built.preflight is not None:
                built.preflight.path = str(final)
            built.findings = [replace(f, file=final) if str(f.file) == renamed else f
                              for f in built.findings]
            outputs[name] = built
            del self.staged[name]
        return outputs


def _write_pdfs(pending: list, staging: _Staging, strict: bool,
                warnings: list) -> dict[str, Built]:
    """Stage the PDFs not staged yet (``pending``: built and bytes, side by side), then put
    them all in place. With ``--strict``, PDFs with problems stay as ``….new.pdf`` for the
    editor to look at, and the last good PDFs are left as they were."""
    from .errors import ValidationError

    _in_parallel([functools.partial(staging.stage, built, data) for built, data in pending])
    found = warnings + [f for built, _ in staging.staged.values() for f in built.findings]
    if strict and strict_errors(found):
        written = [built.path for built, _ in staging.staged.values()]
        staging.staged = {}  # kept for the editor
        raise ValidationError(strict_errors(found), written=written)
    return staging.commit()


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
        if _host[0] is not None:
            _host[0].kill_children()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _render_parallel(manifest, checked, out, editions, problems, allow_remote, fit, pages,
                     padder=None, print_prep=None, printed=None, chosen=None,
                     chosen_name=None, ready=None):
    """Render the editions at once: each render runs in its own child process, so two
    threads that only start a child and wait for its result use both cores. ``printed``:
    the padding edition's render at this fit, already under way (see _print_on_guess).
    ``chosen``: the search's layout of edition ``chosen_name`` at this fit, kept in its
    child: its PDF is written from it. ``ready(name, rendered, padding)`` is called in each
    edition's thread as soon as its render is done."""
    prepared = {}
    paddings = {name: get_edition(name).padding(pages, manifest)
                if get_edition(name).needs_page_count else 0 for name in editions}
    for name in editions:
        if padder is not None and name == padder.name and print_prep is not None:
            edition = copy.copy(print_prep())  # shared: never mutate it
            edition.padding_pages = paddings[name]
        else:
            edition = _prepare(name, manifest, checked.layout, out, problems, paddings[name])
        edition.extra_css += "\n" + (fit or "")
        prepared[name] = edition

    def job(name):
        if printed is not None and name == padder.name:
            rendered, seconds, found = printed()
            problems.extend(found)
            return rendered, paddings[name], seconds
        t0 = time.perf_counter()
        if chosen is not None and chosen.kept is not None and name == chosen_name \
                and not paddings[name]:
            rendered = _write_kept(manifest, checked, name, chosen, problems)
            return rendered, 0, time.perf_counter() - t0
        rendered = _render(manifest, checked, out, name, problems, allow_remote,
                           prepared[name])
        return rendered, paddings[name], time.perf_counter() - t0

    def job_then_ready(name):  # ``ready``: staged as soon as it is rendered
        result = job(name)
        if ready is not None:
            ready(name, result[0], result[1])
        return result

    names = list(editions)
    results = _in_parallel([lambda name=name: job_then_ready(name) for name in names])
    return dict(zip(names, results))


def _print_on_guess(manifest, checked, out, allow_remote, guess, print_prep, padder):
    """The padding edition rendered on the last build's fit and page count (``guess``, a
    memo entry). Returns (rendered, seconds, its problems): kept only if the reference
    edition keeps that fit."""
    t0 = time.perf_counter()
    found = Problems()
    edition = copy.copy(print_prep())  # shared: never mutate it
    edition.padding_pages = padder.padding(guess["pages"], manifest)
    edition.extra_css += "\n" + guess["fit"]
    rendered = _render(manifest, checked, out, padder.name, found, allow_remote, edition)
    return rendered, time.perf_counter() - t0, found


def _render_on_guess(manifest, checked, out, problems, allow_remote, guess, printing,
                     reference, padder):
    """The reference edition rendered on the last build's CSS and page count (``guess``, a
    memo entry) while the padding edition's render on it goes on (``printing``: waits for
    it): that one is kept only if fit and repair keeps the guess (else it searches
    afresh). Returns (results, css, outcome)."""
    start = guess["fit"]
    padding = padder.padding(guess["pages"], manifest)
    t0 = time.perf_counter()
    found = Problems()
    edition = _prepare(reference.name, manifest, checked.layout, out, found)
    edition.extra_css += "\n" + start
    email = _render(manifest, checked, out, reference.name, found, allow_remote, edition)
    email.problems = found
    email, css, outcome = _fitted(manifest, checked, out, reference.name, allow_remote,
                                  first=(start, email), guess=guess, write=False)
    email_s = time.perf_counter() - t0
    if email.pdf:  # else laid out only: written (and its problems found) by the caller
        problems.extend(email.problems)
    printed, print_s, spare = printing()
    if css != guess["fit"] or email.pages != guess["pages"]:
        return {reference.name: (email, 0, email_s)}, css, outcome
    problems.extend(spare)
    return ({reference.name: (email, 0, email_s), padder.name: (printed, padding, print_s)},
            css, outcome)


def _background(call):
    """Start ``call`` in a thread now; return a function that waits for its result."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future.result


def _warm(kind, checked, out: Path, pdfs: dict[str, Path]):
    """Start ``kind.warm`` in a child process (a thread would import and lock while render
    children are forked, and a child forked mid-import waits for that lock forever);
    return a function that waits for it. Its failure is not the build's: the real step,
    later, does the work again and reports what is wrong."""
    import multiprocessing

    def work():
        try:
            kind.warm(checked, out, pdfs)
        except Exception:  # noqa: BLE001 - see above
            pass

    if "fork" not in multiprocessing.get_all_start_methods():
        return lambda: None  # the edition's own build does the work
    process = multiprocessing.get_context("fork").Process(target=work, daemon=True)
    process.start()
    return process.join


def _report_layout(results: dict, problems: Problems, manifest: Manifest,
                   layout: Layout, budget: int | None) -> None:
    """The audit's findings on every rendered edition become warnings (one per finding,
    naming the edition when only some editions have it); the repairs made become notes."""
    from .audit import run_audit
    from .repair import budget_for, over_budget

    found: dict[str, list[str]] = {}
    for name, (rendered, _, _) in results.items():
        if rendered.layout is None:
            continue
        for finding in run_audit(rendered.layout, layout.audit):
            found.setdefault(str(finding), []).append(name)
    for text, names in found.items():
        where = "" if len(names) == len(results) else f"{' and '.join(names)} edition: "
        problems.warn(f"layout: {where}{text}", file=manifest.path)
    reference = results.get(page_reference().name)
    if reference is not None:
        if budget is None:  # an entry written before the memo kept the budget
            budget = budget_for(reference[0].pages, manifest.issue.pages,
                                page_multiple(manifest))
        message = over_budget(reference[0], budget)
        if message:
            problems.warn(f"layout: {message}", file=manifest.path, key="issue.pages")


def _fitted(manifest, checked, out, name, allow_remote, first=None, guess=None,
            write: bool = True):
    """Render the reference edition at the layout's fit level for the page budget, with the
    audit's findings repaired (see repair.py); ``first``: (css, rendered) already done.
    ``write=False``: the search lays out only (no PDF is written for the renders it
    tries; the caller writes the one chosen).

    Returns (rendered, css, outcome). Each attempt collects its own problems
    (``rendered.problems``): only the chosen render's count."""
    from .repair import Guess, fit_and_repair

    def render(css):
        if first is not None and css == first[0]:
            return first[1]
        found = Problems()
        edition = _prepare(name, manifest, checked.layout, out, found)
        edition.extra_css += "\n" + css
        rendered = _render(manifest, checked, out, name, found, allow_remote, edition,
                           write=write, keep=not write)
        rendered.problems = found
        rendered.edition = edition
        return rendered

    def render_many(sheets):  # side by side, one render child each
        return _in_parallel([functools.partial(render, css) for css in sheets])

    with _reporter[0].stage("fit and repair"):
        outcome = fit_and_repair(checked.layout, render, wanted=manifest.issue.pages,
                                 multiple=page_multiple(manifest),
                                 guess=Guess.from_memo(guess), render_many=render_many)
    return outcome.rendered, outcome.css, outcome


#: Layouts of the search kept waiting in their children, oldest first (see _keep).
_kept: list = []
#: How many stay waiting at most: the renders side by side and the best so far. An older
#: one is let go; if the search then chooses it, its edition is laid out again.
KEPT_AT_MOST = 3


_kept_lock = threading.Lock()  # the search renders side by side, in threads


def _keep(rendered) -> None:
    with _kept_lock:
        _kept.append(rendered)
        while sum(r.kept is not None for r in _kept) > KEPT_AT_MOST:
            oldest = next(r for r in _kept if r.kept is not None)
            oldest.drop()
            _kept.remove(oldest)


def _drop_kept(but=None) -> None:
    """Let every kept layout go (``but`` the one chosen)."""
    with _kept_lock:
        for rendered in list(_kept):
            if rendered is not but:
                rendered.drop()
        _kept[:] = [but] if but is not None and but.kept is not None else []


def _write_kept(manifest, checked, name, chosen, problems):
    """The PDF of the layout the search chose, written by the child that laid it out
    (nothing laid out again), then finished as any render is."""
    reporter = _reporter[0]
    with reporter.stage(f"write ({name}, laid out)"):
        try:
            written = chosen.write()
        except RenderError:
            _photos_failed()
            raise
    problems.extend(chosen.problems)
    _photos_done()
    with reporter.stage(f"finish ({name})"):
        written.pdf = get_edition(name).finish(written.pdf, manifest, checked.layout,
                                               chosen.edition, written.pages, problems)
    written.sources = chosen.edition.sources
    return written


def _prepare(name: str, manifest, layout, out, problems: Problems, padding_pages: int = 0):
    """The edition ``name``: in a build, prepared once and laid out beside its photo pass
    (see buildphotos.py), a copy each time; outside a build, prepared now."""
    if _photos[0] is not None:
        return _photos[0].edition(name, problems, padding_pages)
    return prepare_edition(name, manifest, layout, out, problems, padding_pages)


def _photos_done() -> None:
    """The build's photo pass is over (its error raised), its copies in the editions."""
    if _photos[0] is not None:
        _photos[0].done()


def _photos_failed() -> None:
    """After a render failed: the photo pass's error first, if it failed."""
    if _photos[0] is not None:
        _photos[0].failed_first()


def _render(manifest, checked, out, name, problems, allow_remote, edition=None,
            write: bool = True, keep: bool = False):
    """Compose, render and finish one edition; ``write=False``: lay out only (no PDF);
    ``keep``: and keep the layout waiting in its child (see :func:`_write_kept`)."""
    if edition is None:
        edition = _prepare(name, manifest, checked.layout, out, problems)
    # column photos the fit runs across both columns or grows get copies for that size
    edition = with_fit_photos(name, edition, manifest, checked.layout, checked.articles, out)
    reporter = _reporter[0]
    with reporter.stage(f"compose ({name})"):
        html = _compose(name, manifest, checked, problems, edition)
    roots = [manifest.folder, *checked.layout.roots, *edition.roots]
    with reporter.stage(f"lay out and write ({name})"):
        try:
            rendered = render_pdf(html, manifest.folder, roots, problems,
                                  allow_remote=allow_remote, pdf_options=edition.pdf_options,
                                  time_limit=checked.time_limit, write=write, keep=keep,
                                  stand_ins=edition.stand_ins,
                                  photos_failed=str(_photos[0].failed) if _photos[0]
                                  else None)
        except RenderError:
            _photos_failed()
            raise
    if rendered.kept is not None:
        _keep(rendered)
    reporter.note(f"{name} edition: {rendered.pages} pages laid out")
    with reporter.stage(f"finish ({name})"):
        check_words(checked.articles, rendered.text, problems, manifest.issue.language,
                    checked.allow_html)
        _check_back_page(rendered, checked, problems)
        if write:
            _photos_done()
            rendered.pdf = get_edition(name).finish(rendered.pdf, manifest, checked.layout,
                                                    edition, rendered.pages, problems)
    rendered.sources = edition.sources
    return rendered


#: What an edition holds for the build's bookkeeping, never for the templates.
_BOOKKEEPING = {"extra_css", "sources", "stand_ins", "unsettled"}


def _compose(name: str, manifest: Manifest, checked, problems: Problems, edition) -> str:
    """The edition's HTML (compose_bounded), composed once per document structure in a
    build: the fit search's renders differ mostly in style alone (a fit level, tighter
    spacing), and a compose is a child process and a tenth of a second before each round.
    Two renders share a document when their editions are the same but for the fit's CSS
    and that CSS makes the same changes to the document (compose.document_changes); the
    later one takes the earlier's HTML with its own CSS put in place of the other's."""
    css = edition.extra_css
    key = (name, tuple((f.name, repr(getattr(edition, f.name)))
                       for f in dataclasses.fields(edition) if f.name not in _BOOKKEEPING),
           repr(document_changes(css)))
    store = _composed[0]
    known = store.get(key) if store is not None and css else None
    if known is not None and known[0].count(known[1]) == 1:
        html, composed_with, found = known
        problems.items.extend(found)
        return html.replace(composed_with, css)
    found = Problems()
    html = compose_bounded(manifest, checked.articles, checked.layout, found, edition,
                           allow_html=checked.allow_html, time_limit=checked.time_limit)
    problems.items.extend(found.items)
    if store is not None and css and html.count(css) == 1:  # (a CSS found once can be swapped)
        store.setdefault(key, (html, css, list(found.items)))
    return html


def _check_back_page(rendered, checked: Checked, problems: Problems) -> None:
    """The back page holds its sections, every word of them (backpage.py)."""
    from . import backpage
    from .articles import inline_renderer

    manifest = checked.manifest
    if manifest.back_page is None:
        return
    backpage.check_fit(rendered.back, manifest, problems,
                       checked.layout.options.get("back_logos") if checked.layout else None)
    backpage.check_words(manifest, rendered.text, problems,
                         inline_renderer(manifest.issue.language, checked.allow_html),
                         checked.allow_html)


def _check_alt_texts(manifest: Manifest, problems: Problems) -> None:
    """Missing alt text is a warning: the email edition must be accessible."""
    from .images import photo_key

    for i, spec in enumerate(manifest.articles):
        for j, photo in enumerate(spec.photos):
            if not (photo.alt or "").strip():
                where = photo.where
                problems.warn("photo has no alt text; add 'alt:' describing it for readers "
                              "using screen readers", file=where.file if where else None,
                              line=where.line if where else None,
                              column=where.column if where else None,
                              key=photo_key(manifest, i, j, photo, "alt"))
