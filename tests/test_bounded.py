"""Bounded children forked from a process whose other threads are busy."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from newsletter_pdf.bounded import can_fork, run_bounded
from newsletter_pdf.errors import RenderError

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork")


def test_a_child_forked_while_another_thread_imports_a_module_can_import_it(tmp_path,
                                                                           monkeypatch):
    # Another thread holds the module's import lock (mid-import) when the child is forked:
    # the child must import the module afresh, not wait for a thread it does not have.
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(1.5)\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importer = threading.Thread(target=__import__, args=("slow_to_import",))
    importer.start()
    try:
        time.sleep(0.3)  # the thread is inside the module's code now
        assert "slow_to_import" in sys.modules
        value = run_bounded(lambda: __import__("slow_to_import").VALUE, what="the import",
                            time_limit=10, memory_mb=None, error=RenderError)
    finally:
        importer.join()
        sys.modules.pop("slow_to_import", None)
    assert value == 42


def test_a_kept_layout_writes_the_same_pdf_as_a_render_that_writes(tmp_path):
    # The search lays out and keeps the child waiting; the PDF asked of it later is the
    # very PDF a render that writes at once makes (the layout is not done again).
    import os

    from newsletter_pdf.errors import Problems
    from newsletter_pdf.render import render_pdf

    html = ("<html><head><style>@page { size: A6 }</style></head><body>"
            + "<p>A paragraph of text that goes on for a while.</p>" * 40 + "</body></html>")
    options = {"pdf_identifier": b"0123456789abcdef"}
    direct = render_pdf(html, tmp_path, [tmp_path], Problems(), pdf_options=options)
    laid = render_pdf(html, tmp_path, [tmp_path], Problems(), pdf_options=options,
                      write=False, keep=True)
    assert laid.pdf == b"" and laid.pages == direct.pages > 1 and laid.kept is not None
    pid = laid.kept._child.process.pid
    os.kill(pid, 0)  # waiting, with its layout
    written = laid.write()
    assert written.pdf == direct.pdf and laid.kept is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped


def test_a_kept_layout_not_chosen_is_stopped(tmp_path):
    import os

    from newsletter_pdf.errors import Problems
    from newsletter_pdf.render import render_pdf

    laid = render_pdf("<p>x</p>", tmp_path, [tmp_path], Problems(), write=False, keep=True)
    pid = laid.kept._child.process.pid
    laid.drop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    laid.drop()  # twice: nothing
