"""Stage 5 — rendering: HTML to PDF with WeasyPrint, confined, time-limited, written atomically.

* WeasyPrint reads resources only through :class:`~.fetcher.ConfinedFetcher`.
* The render runs in a forked child process (where ``fork`` exists): a render that runs
  past ``time_limit`` seconds is stopped with a clear message, a render that runs out of
  memory (``memory_limit_mb``, or the kernel's OOM killer) is reported instead of taking
  the whole tool down, and Ctrl-C stops the child at once. Without ``fork`` the render
  runs in-process, time-limited by ``SIGALRM`` where available.
* A failed or interrupted build must never destroy the last good PDF, so the PDF is
  written to a temporary file beside the target and renamed into place only when
  complete; the temporary file is removed on any failure, and leftovers of a killed
  build (whose process no longer exists) are swept up by the next write.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import backpage
from .audit.pagemap import page_map
from .bounded import NamedCall, hand_over, run_bounded, run_kept
from .errors import Problems, RenderError
from .textcheck import laid_out_text

DEFAULT_TIME_LIMIT = 600.0  # seconds; a 300-page two-column article takes about a minute
#: How long a render waits for photos still being prepared before it gives up (seconds):
#: the photo pass has its own, shorter, limit and stops the build when it fails.
PHOTO_WAIT = 900.0
_NO_PHOTOS = "the photos being prepared never arrived (their preparation failed or was stopped)"


@dataclass
class Rendered:
    """The result of one render: the PDF bytes and what it took."""

    pdf: bytes
    pages: int
    refused: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # WeasyPrint's own log warnings
    text: str = ""  # the laid-out text, line by line (for the no-silent-loss check)
    layout: object | None = None  # audit.PageMap: what sits where on each page
    back: dict = field(default_factory=dict)  # backpage.measure: does the back page fit
    #: A layout kept waiting in its child (``render_pdf(keep=True)``): :meth:`write` asks
    #: it for the PDF of this very layout, :meth:`drop` lets it go.
    kept: object | None = field(default=None, compare=False, repr=False)

    def write(self) -> Rendered:
        """The PDF of a kept layout (its child writes it), as a finished render."""
        kept, self.kept = self.kept, None
        try:
            return kept.resume()
        except RenderError as exc:
            if "took longer than" in str(exc):
                raise _too_slow(kept.time_limit) from None
            raise

    def drop(self) -> None:
        kept, self.kept = self.kept, None
        if kept is not None:
            kept.close()

    def __getstate__(self):  # a kept child stays with the process that started it
        return {**self.__dict__, "kept": None}


class _Collect(logging.Handler):
    """Collects WeasyPrint's warnings (bad CSS, missing resources) for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _TimeUp(BaseException):
    """Raised by SIGALRM in the in-process fallback (BaseException: WeasyPrint catches
    ``Exception`` in places and must not swallow it)."""


def render_pdf(html: str, base_dir: Path, roots: list[Path], problems: Problems, *,
               allow_remote: bool = False, pdf_options: dict | None = None,
               time_limit: float | None = DEFAULT_TIME_LIMIT,
               memory_limit_mb: int | None = None,
               isolate: bool | None = None, host=None, write: bool = True,
               keep: bool = False, stand_ins: dict | None = None,
               photos_failed: str | None = None) -> Rendered:
    """Lay out and write the PDF in memory; refused resources become problems.

    ``write=False`` lays out only (``pdf`` is empty): the page count, the page map and the
    text are all a search of the layout needs, and writing is about a quarter of a render.
    ``keep`` (with ``write=False``, in a child): the child then waits with its layout, and
    ``rendered.write()`` gets the PDF of it later without laying it out again (or
    ``rendered.drop()`` lets it go): a search keeps the layout it may choose.

    ``time_limit`` (seconds, ``None`` or 0 for none) stops a runaway render with a
    :class:`RenderError`. ``memory_limit_mb`` caps the render's address space (isolated
    renders only). ``isolate`` forces (True) or forbids (False) the child process;
    by default it is used wherever ``fork`` is available. ``host``: an
    :class:`~.enginehost.EngineHost` that forks the child (a warm engine) instead of this
    process; by default the build's own, if one is running.

    ``stand_ins`` (file path → (width, height, mode)): photos still being prepared, laid
    out from their size alone; the PDF is written once they are there (see standins.py),
    or the render stops once the file ``photos_failed`` exists.
    """
    from .enginehost import active

    host = host if host is not None else active[0]
    args = (html, base_dir, roots, allow_remote, pdf_options, write, False, stand_ins,
            photos_failed)
    limit = time_limit if time_limit and time_limit > 0 else None
    if isolate is None:
        isolate = "fork" in multiprocessing.get_all_start_methods()
    if isolate:
        rendered = _render_in_child(args, limit, memory_limit_mb, host, keep and not write)
    else:
        rendered = _render_in_process(args, limit)
    for url, reason in rendered.refused:
        problems.error(f"resource refused: {url} ({reason})")
    return rendered


def _render(html: str, base_dir: Path, roots: list[Path], allow_remote: bool,
            pdf_options: dict | None, write: bool = True, keep: bool = False,
            stand_ins: dict | None = None, photos_failed: str | None = None) -> Rendered:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from . import pdflang, standins, weasyprint_patch
    from .fetcher import ConfinedFetcher  # imports WeasyPrint: only where it renders

    weasyprint_patch.apply()  # once per process; refuses (with a warning) if not 70.0
    pdflang.install()  # /Lang on each article's structure element
    deadline = time.monotonic() + PHOTO_WAIT
    if stand_ins and not standins.supported():  # lay out from the real photos only
        if not standins.wait_for(stand_ins, deadline, photos_failed):
            raise RenderError(_NO_PHOTOS)
        stand_ins = None
    fetcher = ConfinedFetcher(roots, allow_remote=allow_remote, stand_ins=stand_ins)
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    font_config = None
    images: dict = {}  # WeasyPrint's image cache of this render: URL → image
    try:
        font_config = FontConfiguration()
        source = weasyprint.HTML(string=html, base_url=base_dir.as_uri() + "/",
                                 url_fetcher=fetcher)
        document = source.render(font_config=font_config, cache=images,
                                 **(pdf_options or {}))
        text = laid_out_text(document)
        layout = page_map(document, source.etree_element)
        back = backpage.measure(document)
        if keep:  # the layout now; the PDF of it later, if the build asks (run_kept)
            hand_over(Rendered(pdf=b"", pages=len(document.pages),
                               refused=list(fetcher.refused), warnings=list(handler.messages),
                               text=text, layout=layout, back=back))
        if (write or keep) and fetcher.stood_in:  # the photos' pixels, now
            if not standins.wait_for(fetcher.stood_in, deadline, photos_failed):
                raise RenderError(_NO_PHOTOS)
            if not standins.put_in_place(images, fetcher.stood_in):
                # a copy is not what was planned (never expected): lay out the real ones
                return _render(html, base_dir, roots, allow_remote, pdf_options, write or keep)
        pdf = document.write_pdf(**(pdf_options or {})) if write or keep else b""
    except MemoryError:
        raise RenderError("the render ran out of memory; make photos smaller (under "
                          "about 25 megapixels each) or split very long articles") from None
    except RecursionError:
        raise RenderError("the document is nested too deeply to lay out (lists or "
                          "quotes inside each other hundreds of levels deep); flatten "
                          "it") from None
    except Exception as exc:  # WeasyPrint raises many kinds; the user needs one message
        raise RenderError(f"WeasyPrint could not render the issue: "
                          f"{type(exc).__name__}: {exc}") from exc
    finally:
        logger.removeHandler(handler)
        # WeasyPrint copies web fonts to a temporary folder it removes only when the
        # FontConfiguration is garbage-collected (never, in a child that exits at once).
        folder = getattr(font_config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            font_config._folder = None
    return Rendered(pdf=pdf, pages=len(document.pages), refused=list(fetcher.refused),
                    warnings=handler.messages, text=text, layout=layout, back=back)


def _too_slow(limit: float) -> RenderError:
    return RenderError(f"the render took longer than the time limit of {limit:g} s and was "
                       "stopped; raise the limit (--time-limit) or look for what is slow: "
                       "very long articles, huge tables or very large images")


# -- in a child process -------------------------------------------------------------------

def _render_in_child(args, limit: float | None, memory_limit_mb: int | None,
                     host=None, keep: bool = False) -> Rendered:
    bounds = {"what": "the render", "time_limit": limit, "memory_mb": memory_limit_mb,
              "error": RenderError, "host": host,
              "hint": "make photos smaller (under about 25 megapixels each) or split very "
                      "long articles"}
    try:
        if not keep:
            return run_bounded(NamedCall(__name__, "_render", args), **bounds)
        rendered, kept = run_kept(NamedCall(__name__, "_render", (*args[:6], True, *args[7:])),
                                  **bounds)
        rendered.kept = kept
        return rendered
    except RenderError as exc:
        if limit is not None and "took longer than" in str(exc):
            raise _too_slow(limit) from None
        raise


# -- in this process (no fork: Windows) -----------------------------------------------------

def _render_in_process(args, limit: float | None) -> Rendered:
    can_alarm = (limit is not None and hasattr(signal, "SIGALRM")
                 and threading.current_thread() is threading.main_thread())
    if not can_alarm:
        return _render(*args)

    def on_alarm(signum, frame):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return _render(*args)
    except _TimeUp:
        raise _too_slow(limit) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
