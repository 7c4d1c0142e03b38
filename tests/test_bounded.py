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
