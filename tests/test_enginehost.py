"""The engine host: render children forked from a process that imported WeasyPrint while
the build checked, bounded like every other child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from newsletter_pdf.bounded import NamedCall, run_bounded
from newsletter_pdf.enginehost import EngineHost
from newsletter_pdf.errors import RenderError


@pytest.fixture
def host():
    started = EngineHost.start()
    assert started is not None
    yield started
    started.close()


def test_a_child_is_forked_from_the_host_and_its_result_comes_back(host):
    assert run_bounded(NamedCall("os", "getppid"), what="the render", time_limit=60,
                       host=host) == host.pid
    assert host.children == set()  # reaped


def test_the_host_has_the_engine_loaded_and_patched(host):
    assert host.engine_note() is None
    assert run_bounded(NamedCall(__name__, "engine_loaded"), what="the render",
                       time_limit=60, host=host) is True


def engine_loaded() -> bool:  # runs in a child of the host
    return "weasyprint" in sys.modules


def test_children_find_the_preloaded_hyphenation_patterns_read(host):
    host.preload(["en-GB", "de-DE", "xx-nowhere"])  # an unknown language is passed over
    assert run_bounded(NamedCall(__name__, "patterns_read"), what="the render",
                       time_limit=60, host=host) == ["de_DE", "en_GB"]
    assert host.engine_note() is None  # the host answers as before after a preload


def patterns_read() -> list[str]:  # runs in a child of the host
    import pyphen

    return sorted(path.stem.removeprefix("hyph_") for path in pyphen.hdcache)


def test_a_child_killed_by_a_signal_is_reported_as_such(host):
    with pytest.raises(RenderError) as caught:
        run_bounded(NamedCall("signal", "raise_signal", (signal.SIGKILL,)),
                    what="the render", time_limit=60, error=RenderError, host=host,
                    hint="make photos smaller")
    assert str(caught.value) == ("the render failed: stopped by SIGKILL — most likely out "
                                 "of memory; make photos smaller")
    assert host.children == set()


def test_a_child_past_its_time_limit_is_stopped(host):
    with pytest.raises(RenderError, match=r"^the render took longer than 1 s and was stopped"):
        run_bounded(NamedCall("time", "sleep", (60,)), what="the render", time_limit=1,
                    error=RenderError, host=host)
    assert host.children == set()


def test_a_child_past_its_memory_limit_is_reported(host):
    with pytest.raises(RenderError, match=r"^the render ran out of memory \(limit 200 MB\)"):
        run_bounded(NamedCall("builtins", "bytearray", (400 * 1024 * 1024,)),
                    what="the render", time_limit=60, memory_mb=200, error=RenderError,
                    host=host)


def test_the_host_stops_when_closed(host):
    pid = host.pid
    host.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more


def test_a_build_leaves_the_engine_to_the_host(make_issue, tmp_path):
    """The build's own process never imports WeasyPrint: the host does, beside the check."""
    code = ("import sys\nfrom pathlib import Path\n"
            "from newsletter_pdf.build import build_issue\n"
            f"result = build_issue(Path({str(make_issue())!r}), Path({str(tmp_path / 'out')!r}),"
            " editions=['email'])\n"
            "print('weasyprint' in sys.modules, result.outputs['email'].pages, result.notes)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["False", "2"], done.stdout
    assert done.stdout.strip().endswith("[]")  # the patch applied in the host: no note
