"""The engine host: a process, forked when a build starts, that imports WeasyPrint and
forks each render child from there.

Importing WeasyPrint (Pango, HarfBuzz, fontconfig and their libraries) takes about 0.7 s,
longer than a rebuild's check. Imported in the build's own process it holds the
interpreter while the check runs, and a render cannot start before it is over. The host
does it on the other core instead, while the build checks, prepares and composes; by the
time the first render is asked for, a warm engine is waiting, and every render child is a
fork of it (nothing imported twice, as before).

The host is a fork of the build taken before any thread starts, so each render runs the
build's own code and settings, exactly as a child forked from the build would. The build
talks to it over a socket pair: "run" hands over the two ends of the pipes a render child
reads its work from and writes its result to (the work itself goes straight from the build
to the child, never through the host), "wait" reaps a child and says how it ended. The
children are bounded like any other (see :mod:`.bounded`): they die with the host, which
dies with the build. Where ``fork`` does not exist there is no host, and the build imports
the engine itself.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import socket
import threading
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler

#: The engine host of the build in progress (None: renders fork from the build's process).
#: Every render of a build uses it, the print edition's slug lines included.
active: list[EngineHost | None] = [None]


class EngineHost:
    """The build's side of the host: start it, ask it for render children, close it."""

    def __init__(self, pid: int, channel: socket.socket):
        self.pid, self._channel = pid, channel
        self._lock = threading.Lock()  # the editions' threads ask side by side
        self.children: set[HostedChild] = set()  # started and not yet reaped

    @classmethod
    def start(cls) -> EngineHost | None:
        """Fork the host now (call it before any thread starts); None where it cannot be."""
        if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
            return None  # pragma: no cover - Windows
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            pid = os.fork()
        except OSError:
            return None  # no host: the build forks its renders itself
        if pid == 0:  # the host
            status = 1
            try:
                ours.close()
                _serve(theirs)
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        return cls(pid, ours)

    def _ask(self, message: tuple, fds: list[int] = ()) -> object:
        with self._lock:
            if fds:
                socket.send_fds(self._channel, [pickle.dumps(message)], list(fds))
            else:
                self._channel.send(pickle.dumps(message))
            answer = self._channel.recv(65536)
        if not answer:
            raise OSError("the engine host stopped")
        return pickle.loads(answer)

    def process(self, func, memory_mb: int | None, scratch: str) -> HostedChild:
        """A render child (not yet started) that runs ``func()`` bounded like
        :func:`.bounded.run_bounded`'s own children."""
        return HostedChild(self, func, memory_mb, scratch)

    def kill_children(self) -> None:
        """Stop every render child at once (Ctrl-C: their threads then reap them)."""
        for child in list(self.children):
            child.kill()

    def preload(self, languages, stylesheets: list[str] = (), roots: list = ()) -> None:
        """Have the host read these languages' hyphenation patterns now, once, and build
        the layout's ``stylesheets`` (file URLs under ``roots``): every render child forked
        after inherits them instead of parsing them itself (about 0.1 s a language, and a
        twentieth of a render for the stylesheets, in every render). Nothing is awaited;
        the host does it before the next request."""
        with self._lock:
            self._channel.send(pickle.dumps(("languages", sorted(set(languages)),
                                             list(stylesheets), list(roots))))

    def engine_note(self) -> str | None:
        """Why the engine patch was not applied in the host (None: it was)."""
        return self._ask(("note",))

    def close(self) -> None:
        """Stop the host (its children, if any are left, die with it) and reap it."""
        try:
            self._channel.close()
        finally:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


class HostedChild:
    """One render child of the host, with the parts of ``multiprocessing.Process`` that
    :func:`.bounded.run_bounded` uses: ``start``, ``is_alive``, ``kill``, ``join``,
    ``exitcode``; ``receiver`` is where its result arrives."""

    def __init__(self, host: EngineHost, func, memory_mb: int | None, scratch: str):
        self._host, self._memory_mb, self._scratch = host, memory_mb, scratch
        self._work = bytes(ForkingPickler.dumps(func))  # unpicklable work fails here, early
        self.pid: int | None = None
        self.exitcode: int | None = None
        self.receiver: Connection | None = None
        self._reaped = False

    def start(self) -> None:
        work_r, work_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            self.pid = self._host._ask(("run", self._memory_mb, self._scratch),
                                       [work_r, result_w])
        except BaseException:
            for fd in (work_r, work_w, result_r, result_w):
                os.close(fd)
            raise
        os.close(work_r)
        os.close(result_w)
        self._host.children.add(self)
        self.receiver = Connection(result_r, writable=False)
        with Connection(work_w, readable=False) as work:
            try:
                work.send_bytes(self._work)
            except BrokenPipeError:
                pass  # the child died before reading: its end of the result pipe says so

    def is_alive(self) -> bool:
        return self.pid is not None and not self._reaped

    def kill(self) -> None:
        if self.is_alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def join(self, timeout: float | None = None) -> None:
        """Reap the child (it has sent its result or died, or was killed)."""
        if self.is_alive():
            self._reaped = True
            self._host.children.discard(self)
            try:
                self.exitcode = self._host._ask(("wait", self.pid))
            except OSError:  # the host is gone, and its children with it
                self.exitcode = -signal.SIGKILL


# -- in the host ---------------------------------------------------------------------------

def _serve(channel: socket.socket) -> None:
    from .bounded import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides what Ctrl-C stops
    die_with_parent()
    note = _warm()
    # What the host holds (the engine's modules, the hyphenation patterns) lives as long as
    # each child: out of the collector's sight, a child's full collections do not walk it,
    # nor copy its pages (a collection writes to every object it visits).
    gc.freeze()
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(channel, 65536, 2)
        except OSError:
            return
        if not data:
            return  # the build closed its end: done
        message = pickle.loads(data)
        if message[0] == "languages":  # no answer: the build does not wait for it
            _hyphenation(message[1])
            _stylesheets(*message[2:])
            gc.freeze()
            continue
        if message[0] == "run":
            answer = _fork_child(channel, fds, *message[1:])
        elif message[0] == "wait":
            answer = _reap(message[1])
        else:
            answer = note
        channel.send(pickle.dumps(answer))


def _warm() -> str | None:
    """Import and patch the engine once; every child forked from here inherits it."""
    try:
        from . import render, weasyprint_patch  # noqa: F401  (render: what children run)

        return weasyprint_patch.apply()
    except Exception as exc:  # noqa: BLE001 - each render reports the engine's failure
        return f"the engine could not be loaded ({type(exc).__name__}: {exc})"


def _hyphenation(languages: list[str]) -> None:
    """Read the hyphenation patterns WeasyPrint will ask for (Pyphen keeps them per file
    for the process: a child forked from here finds them read)."""
    try:
        import pyphen
    except ImportError:  # pragma: no cover - WeasyPrint depends on it
        return
    for language in languages:
        try:
            if pyphen.language_fallback(language):
                pyphen.Pyphen(lang=language)
        except Exception:  # noqa: BLE001 - a render reads (and reports) it itself
            pass


def _stylesheets(urls: list[str], roots: list) -> None:
    """Build the layout's stylesheets (see weasyprint_patch: reused while unchanged),
    fetched as a render fetches them: confined to the build's folders."""
    if not urls:
        return
    try:
        from .fetcher import ConfinedFetcher
        from .weasyprint_patch import warm_stylesheets

        warm_stylesheets(urls, ConfinedFetcher(roots))
    except Exception:  # noqa: BLE001 - each render reads (and reports) them itself
        pass


def _fork_child(channel: socket.socket, fds: list[int], memory_mb, scratch) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            channel.close()
            _child(*fds, memory_mb, scratch)
        finally:
            os._exit(0)
    for fd in fds:
        os.close(fd)
    return pid


def _child(work_fd: int, result_fd: int, memory_mb, scratch) -> None:
    from .bounded import _child_main

    # A render child lays out one document and exits: the cyclic collector's passes over
    # the layout's millions of short-lived objects cost about a tenth of a render, and free
    # almost nothing (the 100-page issue's render peaks at the same memory without them).
    gc.disable()
    result = Connection(result_fd, readable=False)
    try:
        with Connection(work_fd, writable=False) as work:
            func = pickle.loads(work.recv_bytes())
    except BaseException as exc:  # noqa: BLE001 - said to the build, never a hang
        result.send(("error", f"the work could not be handed over ({type(exc).__name__})"))
        result.close()
        return
    _child_main(result, func, memory_mb, scratch)


def _reap(pid: int) -> int | None:
    try:
        _pid, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)
