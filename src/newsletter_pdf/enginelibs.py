"""Importing the engine without a compiler run for every library name it tries.

WeasyPrint opens its C libraries (GObject, Pango, HarfBuzz, fontconfig, ...) by trying
several names each, for every platform: ``libgobject-2.0-0``, ``gobject-2.0-0``, ...,
``libgobject-2.0.so.0``. For each name that is not a file, cffi asks
``ctypes.util.find_library``, which on Linux runs ``ldconfig -p`` and then, when that finds
nothing, ``gcc`` and ``ld`` to look for it. Seven libraries times a few names is 16 runs of
gcc and 32 of ld: 0.3 s of the engine's 0.75 s import, on every build and in every process
that imports it.

:func:`load` imports the engine with a lookup that reads the dynamic linker's cache once
and answers from it (what ``find_library`` itself tries first); a name the cache does not
hold is not found, and WeasyPrint goes on to its next name (the plain ``.so`` one, which
the dynamic linker opens by itself). Should the engine then fail to load, it is imported
again with the standard lookup, so no system that worked before stops working.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys


def load() -> None:
    """Import WeasyPrint (once per process), with the quick library lookup on Linux."""
    if "weasyprint" in sys.modules:
        return
    if not sys.platform.startswith("linux"):
        import weasyprint  # noqa: F401
        return
    import ctypes.util

    standard = ctypes.util.find_library
    ctypes.util.find_library = _from_linker_cache
    try:
        import weasyprint  # noqa: F401
    except OSError:
        # A library only the standard lookup finds (not in the linker's cache): again,
        # from the start, the standard way.
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
        ctypes.util.find_library = standard
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = standard


def _from_linker_cache(name: str) -> str | None:
    """The file name ``find_library(name)`` gives when the linker's cache knows it."""
    abi = "libc6,x86-64" if os.uname().machine == "x86_64" and sys.maxsize > 2**32 else ""
    found = re.search(rb"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(os.fsencode(name)),
                                                       re.escape(abi.encode())),
                      _linker_cache())
    return os.fsdecode(found.group(1)) if found else None


@functools.lru_cache(maxsize=1)
def _linker_cache() -> bytes:
    """``ldconfig -p``: every library the dynamic linker's cache holds (read once)."""
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            return subprocess.run([ldconfig, "-p"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env={"LC_ALL": "C", "LANG": "C"}, timeout=10,
                                  check=False).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return b""
