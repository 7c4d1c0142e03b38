"""Progress on a terminal, and where the time went (``--timings``).

A :class:`Reporter` is handed to the pipeline. Each stage is timed with
``with reporter.stage("render email"):`` (stages may run in parallel threads: their times
add up per name, and the wall-clock total is kept apart). On a terminal the stage being
worked on is shown on one self-erasing line; elsewhere (a pipe, CI, a log) nothing is
printed.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import TextIO


class Reporter:
    """Times stages; shows them live on a terminal."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._active: list[str] = []
        self.started = time.perf_counter()

    @contextlib.contextmanager
    def stage(self, name: str):
        with self._lock:
            self._active.append(name)
        self._show()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t0
            with self._lock:
                self.timings[name] = self.timings.get(name, 0.0) + elapsed
                self.counts[name] = self.counts.get(name, 0) + 1
                self._active.remove(name)
            self._show()

    def note(self, text: str) -> None:
        """A finished fact worth a line on a terminal (e.g. pages laid out)."""
        if self.live:
            with self._lock:
                self.stream.write("\r\033[K" + text + "\n")
                self.stream.flush()

    def _show(self) -> None:
        if not self.live:
            return
        with self._lock:
            line = " + ".join(self._active)
            elapsed = time.perf_counter() - self.started
            self.stream.write("\r\033[K" + (f"[{elapsed:5.1f} s] {line}…" if line else ""))
            self.stream.flush()

    def table(self) -> str:
        """Where the time went, slowest first (stages in parallel overlap)."""
        total = time.perf_counter() - self.started
        width = max([len(n) for n in self.timings] + [5])
        lines = [f"{'stage':<{width}}  {'seconds':>8}  {'runs':>4}"]
        for name, seconds in sorted(self.timings.items(), key=lambda kv: -kv[1]):
            lines.append(f"{name:<{width}}  {seconds:>8.2f}  {self.counts[name]:>4}")
        lines.append(f"{'wall clock':<{width}}  {total:>8.2f}   (stages on two cores overlap)")
        return "\n".join(lines)


#: A reporter that says nothing (the default for library callers).
def silent() -> Reporter:
    return Reporter(live=False)
