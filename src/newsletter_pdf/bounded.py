"""Run one stage in a forked child with a time and memory limit: every stage is bounded.

A render, a layout template, a hostile PDF handed to ``preflight`` or ``impose`` (a form
XObject fan-out, a flate bomb) — each runs here, so it cannot take the machine's memory or
run for ever: past ``time_limit`` seconds the child is killed and the caller gets a
:class:`~.errors.NewsletterError` (or the subclass it asks for) naming the stage and what to
do; past ``memory_mb`` the child's allocations fail (``RLIMIT_AS``) and the same happens.

The child:

* ignores Ctrl-C (the parent decides) and dies with the parent (``PR_SET_PDEATHSIG``), so a
  ``kill -9`` of the build leaves no child behind;
* has no secrets in its environment (SMTP passwords, tokens), whatever the parent has;
* writes temporary files into a scratch folder that the parent removes, and that the next
  run sweeps when the parent was killed before it could (:func:`sweep_scratch`).

Where ``fork`` does not exist (Windows) the function runs in this process, unbounded.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import NewsletterError

T = TypeVar("T")
SCRATCH_PREFIX = "newsletter-render-"
#: Environment variables that never reach a child: credentials of any kind.
SECRET = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL", re.I)


@dataclass(frozen=True)
class NamedCall:
    """``module.name(*args)``, looked up by name where it runs: it pickles whatever the
    function is, and a process forked from this one (the engine host) runs its own copy of
    the module, as a child forked from here would."""

    module: str
    name: str
    args: tuple = ()

    def __call__(self):
        import importlib

        return getattr(importlib.import_module(self.module), self.name)(*self.args)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_bounded(func: Callable[[], T], *, what: str, time_limit: float | None,
                memory_mb: int | None = None, hint: str = "",
                error: type[NewsletterError] = NewsletterError, host=None) -> T:
    """``func()`` in a limited child; its result (pickled) or ``error`` with a message.

    ``what`` names the stage for messages ("the render", "the layout template"…); ``hint``
    says what the user can do when it is too slow or too big. ``host``: an
    :class:`~.enginehost.EngineHost` to fork the child from (``func`` must then pickle:
    a :class:`NamedCall`), instead of this process.
    """
    if not can_fork():  # pragma: no cover - Windows
        return func()
    sweep_scratch()
    scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    if host is not None:
        receiver = sender = None  # the child's result pipe exists once it has started
        process = host.process(func, memory_mb, scratch)
    else:
        ctx = multiprocessing.get_context("fork")
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child_main, args=(sender, func, memory_mb, scratch),
                              name="newsletter-bounded", daemon=True)
    hint = f"; {hint}" if hint else ""
    too_slow = error(f"{what} took longer than {time_limit:g} s and was stopped{hint}"
                     if time_limit else f"{what} was stopped")
    with sigterm_interrupts():
        try:
            process.start()
            if sender is None:
                receiver = process.receiver
            else:
                sender.close()
            started = time.monotonic()
            if not receiver.poll(time_limit):
                raise too_slow
            try:
                status, payload = receiver.recv()
            except EOFError:
                process.join(5)
                raise error(f"{what} failed: {death_message(process.exitcode)}{hint}") \
                    from None
            if time_limit is not None and time.monotonic() - started > time_limit * 2:
                raise too_slow  # pragma: no cover - recv of a huge result stalled
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            if receiver is not None:
                receiver.close()
            shutil.rmtree(scratch, ignore_errors=True)
    if status == "ok":
        return payload
    if status == "interrupted":
        raise KeyboardInterrupt
    if status == "memory":
        raise error(f"{what} ran out of memory (limit {memory_mb} MB){hint}")
    if status == "raised":
        raise payload
    raise error(f"{what} failed: {payload}")


def _forget_imports_in_progress() -> None:
    """In a child forked while another thread of the parent was importing a module: that
    thread is gone, and the module's import lock (held by it) would never be released — the
    child's first import of the module would wait for ever (seen: a print finish importing
    lxml while the other edition's thread did). Drop the locks and the half-initialised
    modules, so the child imports them afresh. Only this thread runs in the child."""
    import importlib._bootstrap as bootstrap

    for name, module in list(sys.modules.items()):
        if getattr(getattr(module, "__spec__", None), "_initializing", False):
            del sys.modules[name]
    for table in ("_module_locks", "_blocking_on"):
        held = getattr(bootstrap, table, None)
        if isinstance(held, dict):
            held.clear()


def _child_main(conn, func, memory_mb: int | None, scratch: str) -> None:
    _forget_imports_in_progress()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    for name in [n for n in os.environ if SECRET.search(n)]:
        del os.environ[name]
    tempfile.tempdir = scratch
    os.environ["TMPDIR"] = scratch
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        result = ("ok", func())
    except KeyboardInterrupt:
        result = ("interrupted", None)
    except MemoryError:
        result = ("memory", None)
    except NewsletterError as exc:  # the stage's own clear message: passed on as it is
        result = ("raised", exc)
    except BaseException as exc:  # report, never hang the parent
        result = ("error", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("error", "the result is too large to hand over (out of memory)"))
    except Exception as exc:  # an exception that cannot be pickled
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def die_with_parent() -> None:
    """Linux: the child gets SIGKILL if the parent dies (e.g. killed with -9)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def sigterm_interrupts():
    """While we wait on a child, SIGTERM behaves like Ctrl-C (clean-up runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " — most likely out of memory" if -exitcode == signal.SIGKILL else ""
        return f"stopped by {name}{hint}"
    return f"stopped unexpectedly (exit code {exitcode})"


def sweep_scratch(folder: Path | None = None) -> list[Path]:
    """Remove scratch folders of runs whose process no longer exists (a ``kill -9`` of a
    build leaves its children's scratch behind: several MB each time). Returns them."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for path in folder.glob(f"{SCRATCH_PREFIX}*"):
            match = re.match(rf"{SCRATCH_PREFIX}(\d+)-", path.name)
            if not match or not path.is_dir():
                continue
            try:
                os.kill(int(match[1]), 0)
            except ProcessLookupError:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
            except OSError:
                pass  # alive, another user's
    return removed
