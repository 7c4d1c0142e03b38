"""Writing a file atomically: a reader (or a failed build) never sees half a file.

The data goes to a temporary file beside the target, is flushed to disk and renamed over
the target in one step; temporaries left by a killed build are swept on the next write.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from .bounded import sigterm_interrupts

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


def temp_files(folder: Path) -> list[Path]:
    """Temporary files a write in ``folder`` may have left (for tests and clean-up)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _TEMP.match(p.name))


def _sweep_stale(target: Path) -> None:
    """Remove temp files of ``target`` left by builds whose process no longer exists."""
    for path in temp_files(target.parent):
        match = _TEMP.match(path.name)
        if match["name"] != target.name:
            continue
        pid = int(match["pid"])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                path.unlink()
        except OSError:
            pass  # alive (another user's process): leave it


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file and an atomic rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                               dir=target.parent)
    try:
        with sigterm_interrupts():
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                # mkstemp makes the file private (0600); a PDF is for sharing: give it
                # the mode a plain new file would get (0644 under the usual umask).
                os.fchmod(out.fileno(), 0o666 & ~_umask())
                os.fsync(out.fileno())
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
