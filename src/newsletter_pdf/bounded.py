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
    child = _Child(func, what, time_limit, memory_mb, hint, error, host)
    try:
        return child.result()
    finally:
        child.close()


def run_kept(func: Callable[[], T], *, what: str, time_limit: float | None,
             memory_mb: int | None = None, hint: str = "",
             error: type[NewsletterError] = NewsletterError, host=None) -> tuple[T, Kept | None]:
    """As :func:`run_bounded`, for a ``func`` that hands its result over early
    (:func:`hand_over`) and waits: the result, and the child kept waiting — ask it to go
    on (:meth:`Kept.resume`) or stop it (:meth:`Kept.close`). ``None`` when the child
    returned without handing over (or cannot be forked)."""
    if not can_fork():  # pragma: no cover - Windows
        return func(), None
    child = _Child(func, what, time_limit, memory_mb, hint, error, host)
    try:
        value = child.result()
    except BaseException:
        child.close()
        raise
    if not child.kept:
        child.close()
        return value, None
    return value, Kept(child)


class Kept:
    """A bounded child that handed its result over and waits to go on (see run_kept)."""

    def __init__(self, child: _Child):
        self._child = child

    @property
    def alive(self) -> bool:
        return self._child.receiver is not None

    @property
    def time_limit(self) -> float | None:
        return self._child.time_limit

    def resume(self):
        """Let it go on; its final result (bounded by the same time limit), then it ends."""
        child = self._child
        try:
            os.kill(child.process.pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass  # it died: its result pipe says so
        try:
            return child.result()
        finally:
            child.close()

    def close(self) -> None:
        """Stop it (not needed after all)."""
        self._child.close()


_handover: list = [None]  # in a child: where its result goes


def hand_over(value) -> None:
    """In a child started by :func:`run_kept`: send ``value`` as its result now and wait
    until the build asks it to go on (it is stopped otherwise). Elsewhere: nothing."""
    conn = _handover[0]
    if conn is None:
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # before sending: none lost
    conn.send(("kept", value))
    signal.sigwait({signal.SIGUSR1})


class _Child:
    """One bounded child: started at once; its results read with the time limit."""

    def __init__(self, func, what, time_limit, memory_mb, hint, error, host):
        self.what, self.time_limit, self.memory_mb = what, time_limit, memory_mb
        self.error, self.kept = error, False
        self.hint = f"; {hint}" if hint else ""
        sweep_scratch()
        self.scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        if host is not None:
            sender = None  # the child's result pipe exists once it has started
            self.process = host.process(func, memory_mb, self.scratch)
        else:
            ctx = multiprocessing.get_context("fork")
            self.receiver, sender = ctx.Pipe(duplex=False)
            self.process = ctx.Process(target=_child_main,
                                       args=(sender, func, memory_mb, self.scratch),
                                       name="newsletter-bounded", daemon=True)
        try:
            with sigterm_interrupts():
                self.process.start()
        except BaseException:
            if sender is not None:
                sender.close()
                self.receiver.close()
            self.receiver = None
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        if sender is None:
            self.receiver = self.process.receiver
        else:
            sender.close()

    def result(self):
        what, hint, error, limit = self.what, self.hint, self.error, self.time_limit
        too_slow = error(f"{what} took longer than {limit:g} s and was stopped{hint}"
                         if limit else f"{what} was stopped")
        with sigterm_interrupts():
            started = time.monotonic()
            if not self.receiver.poll(limit):
                raise too_slow
            try:
                status, payload = self.receiver.recv()
            except EOFError:
                self.process.join(5)
                raise error(f"{what} failed: {death_message(self.process.exitcode)}"
                            f"{hint}") from None
            if limit is not None and time.monotonic() - started > limit * 2:
                raise too_slow  # pragma: no cover - recv of a huge result stalled
        self.kept = status == "kept"
        if status in ("ok", "kept"):
            return payload
        if status == "interrupted":
            raise KeyboardInterrupt
        if status == "memory":
            raise error(f"{what} ran out of memory (limit {self.memory_mb} MB){hint}")
        if status == "raised":
            raise payload
        raise error(f"{what} failed: {payload}")

    def close(self) -> None:
        """Kill it if still running, reap it, remove its scratch folder."""
        receiver, self.receiver = self.receiver, None
        if receiver is None:
            return
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        receiver.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


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
    _handover[0] = conn
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
