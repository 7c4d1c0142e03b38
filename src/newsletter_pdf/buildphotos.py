"""A build's editions and their photos: one pass prepares every copy while the editions lay out.

Every PDF edition of a build wants its own copy of each photo (print: CMYK at 300 ppi;
email: sRGB at 150 ppi). One *photo pass* prepares them all, each photo decoded once, in a
bounded child started by the first edition that has a copy to make (a rebuild, every copy
cached, starts none). Meanwhile the editions are laid out from the copies' planned sizes
(stand-ins, see :mod:`.standins`): a render writes its PDF once the copies are there. A
photo that cannot be planned (a PNG: its transparency decides its format) is prepared
first, and an edition waits for it. When the pass fails it leaves a file that the waiting
renders look for, and its error is the build's.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from .editions import plan_edition, prepare_edition, prepare_photos, settle
from .errors import Problems
from .imageprep import cache_dir_for

if TYPE_CHECKING:
    from .compose import Edition
    from .enginehost import EngineHost
    from .layouts import Layout
    from .manifest import Manifest
    from .progress import Reporter

#: How often an edition waiting for its PNG copies looks for them (each look reads every
#: photo's header, beside the pass).
POLL = 0.05


class BuildPhotos:
    """The editions of one build (``names``: the PDF editions it writes), each prepared
    once: every render of the fit and repair search, and the fingerprint, gets a copy."""

    def __init__(self, names: list[str], manifest: Manifest, layout: Layout, out: Path,
                 reporter: Reporter, host: EngineHost | None):
        self.names, self.manifest, self.layout, self.out = names, manifest, layout, out
        self.reporter, self.host = reporter, host
        #: Left by a failed pass: renders waiting for its photos stop (render_pdf).
        self.failed = cache_dir_for(out) / f".photos-failed-{os.getpid()}-{time.monotonic_ns()}"
        self._lock = threading.Lock()
        self._pass: Future | None = None
        self._prepared: dict[tuple[str, int], tuple[Edition, list]] = {}

    def edition(self, name: str, problems: Problems, padding_pages: int = 0) -> Edition:
        """The edition ``name`` (a copy: never mutate the shared one); the problems its
        preparation found are added to ``problems`` each time."""
        made = self._prepared.get((name, padding_pages))
        if made is None:
            found = Problems()
            with self.reporter.stage(f"prepare photos ({name})"):
                edition = None
                while edition is None:
                    found = Problems()
                    edition = plan_edition(name, self.manifest, self.layout, self.out, found,
                                           padding_pages)
                    if edition is not None and not edition.stand_ins:
                        break  # every copy in the cache (a rebuild): no pass for it
                    self.start()
                    if edition is None and not self.running():
                        break
                    if edition is None:  # its PNGs come first: take it once they are there
                        time.sleep(POLL)
                if edition is None:
                    self.done()
                    found = Problems()
                    edition = prepare_edition(name, self.manifest, self.layout, self.out,
                                              found, padding_pages)
            made = self._prepared[(name, padding_pages)] = (edition, found.items)
        problems.items.extend(made[1])
        return copy.copy(made[0])

    def start(self) -> None:
        """Start the photo pass (once)."""
        with self._lock:
            if self._pass is not None:
                return
            pool = ThreadPoolExecutor(max_workers=1)
            self._pass = pool.submit(self._run)
            pool.shutdown(wait=False)

    def _run(self) -> None:
        try:
            with self.reporter.stage("prepare photos"):
                prepare_photos(self.names, self.manifest, self.layout, self.out)
        except BaseException:
            # Renders waiting for these photos would wait in vain: stop them (each waiter
            # then finds this error first, see failed_first).
            try:
                self.failed.parent.mkdir(parents=True, exist_ok=True)
                self.failed.touch()
            except OSError:  # cannot say so: stop the renders there are
                if self.host is not None:
                    self.host.kill_children()
            raise

    def running(self) -> bool:
        return self._pass is not None and not self._pass.done()

    def done(self) -> None:
        """Wait for the pass (its error is the build's), then complete the prepared
        editions' photo sources with the copies it made."""
        if self._pass is None:
            return
        self._pass.result()
        with self._lock:
            for edition, _ in list(self._prepared.values()):
                settle(edition)

    def failed_first(self) -> None:
        """After a render failed: if the pass failed, its error is the one to report (the
        render was stopped because of it)."""
        if self._pass is not None:
            self._pass.result()

    def close(self) -> None:
        self.failed.unlink(missing_ok=True)
