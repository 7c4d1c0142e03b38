"""Jinja2 for templates that are input: confined to their folders, sandboxed, bounded.

Layout templates and email templates come from the issue's folder as often as from us, so
they get the same treatment as the resources WeasyPrint reads:

* :class:`ConfinedLoader` reads a template only when its real path (after ``..`` and
  symlinks) is a regular file inside one of its folders. A symlinked ``body.txt`` pointing
  at ``/proc/self/environ`` is refused, not mailed.
* :class:`BoundedSandbox` is Jinja's sandbox plus limits on what one expression can build
  (``'x' * 10**9``, ``2 ** 10**8``, ``range`` products), so a template cannot take the
  machine's memory in one step. Time and total memory are bounded by evaluating templates
  in a limited child process (:mod:`.bounded`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.sandbox

#: The largest template file read (a layout template is a few KB).
MAX_TEMPLATE_BYTES = 1_000_000
#: The longest string or list one expression may build.
MAX_VALUE_LENGTH = 5_000_000


class TemplateRefused(jinja2.TemplateError):
    """A template that exists but may not be read (it leads outside its folder, is not a
    regular file, or is too large). Not a ``TemplateNotFound``: Jinja's ChoiceLoader would
    swallow the reason and try the next folder."""


class ConfinedLoader(jinja2.BaseLoader):
    """Like ``FileSystemLoader(folders)``, but never leaves a folder (see module doc)."""

    def __init__(self, folders: Iterable[Path]):
        self.folders = [Path(f) for f in folders]

    def locate(self, name: str) -> Path | None:
        """The real path of template ``name``, or None if no folder has it; raises
        :class:`jinja2.TemplateNotFound` with the reason if it would leave its folder."""
        parts = jinja2.loaders.split_template_path(name)  # refuses '..' segments
        for folder in self.folders:
            candidate = folder.joinpath(*parts)
            if not os.path.lexists(candidate):
                continue
            try:
                real = candidate.resolve(strict=True)
                root = folder.resolve(strict=True)
                mode = real.stat().st_mode
            except (OSError, RuntimeError):
                raise TemplateRefused(
                    f"{candidate} cannot be read (a broken or looping symlink?)") from None
            if not real.is_relative_to(root):
                raise TemplateRefused(
                    f"{candidate} leads outside its folder {folder} (to {real}); templates "
                    "and layout files are read only from inside their own folder")
            if not stat.S_ISREG(mode):
                raise TemplateRefused(f"{candidate} is not a regular file")
            if real.stat().st_size > MAX_TEMPLATE_BYTES:
                raise TemplateRefused(f"{candidate} is over {MAX_TEMPLATE_BYTES // 1000} KB")
            return real
        return None

    def get_source(self, environment, template: str):
        path = self.locate(template)
        if path is None:
            raise jinja2.TemplateNotFound(template)
        source = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
        return source, str(path), lambda: path.is_file() and path.stat().st_mtime == mtime

    def list_templates(self) -> list[str]:
        found = set()
        for folder in self.folders:
            if folder.is_dir():
                for path in folder.rglob("*"):
                    if path.is_file():
                        found.add(path.relative_to(folder).as_posix())
        return sorted(found)


def _size(value) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


class BoundedSandbox(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox with a cap on what one ``*``, ``**`` or ``+`` may build."""

    intercepted_binops = frozenset(["*", "**", "+"])

    def call_binop(self, context, operator: str, left, right):
        if operator == "**":
            if isinstance(right, int) and abs(right) > 1000 and not (
                    isinstance(left, (int, float)) and abs(left) <= 1):
                raise jinja2.sandbox.SecurityError(
                    f"the power {left!r} ** {right!r} is too large for a template")
            return left ** right
        if operator == "*":
            if isinstance(left, int) and _size(right):
                left, right = right, left
            if _size(left) and isinstance(right, int) and _size(left) * right > MAX_VALUE_LENGTH:
                raise jinja2.sandbox.SecurityError(
                    f"a template tried to build a value of {_size(left) * right:,} "
                    f"characters (at most {MAX_VALUE_LENGTH:,})")
            return left * right
        if _size(left) + _size(right) > MAX_VALUE_LENGTH:
            raise jinja2.sandbox.SecurityError(
                f"a template tried to build a value of more than {MAX_VALUE_LENGTH:,} "
                "characters")
        return left + right


def referenced_templates(env: jinja2.Environment, name: str,
                         seen: set[str] | None = None) -> list[str]:
    """``name`` and every template it includes, imports or extends by a constant name,
    loaded (so a template that leaves its folder is found by ``check``, before any build)."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    source = env.loader.get_source(env, name)[0]
    found = [name]
    for child in jinja2.meta.find_referenced_templates(env.parse(source)):
        if child:
            found += referenced_templates(env, child, seen)
    return found
