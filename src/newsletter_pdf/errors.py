"""The small exception tree and the problem report shared by every stage.

A *problem* is one thing wrong with the user's input, located as precisely as we can
(`file:line:column: key.path: message`). Stages collect problems instead of raising on
the first one, so the user sees everything at once; :class:`ValidationError` carries the
whole list. Anything deriving from :class:`NewsletterError` is a user-facing error: the
CLI prints its message and exits with :attr:`exit_code`, without a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One located problem with the user's input (an error or a warning)."""

    message: str
    file: Path | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    key: str = ""
    warning: bool = False
    #: A warning that ``--strict`` leaves a warning: its check has its own, lower error
    #: threshold (a photo between ``error_ppi`` and ``min_ppi``).
    advisory: bool = False

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = display_path(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        prefix = "warning: " if self.warning else ""
        return f"{where}{prefix}{key}{self.message}"


def display_path(path: Path) -> str:
    """A path as the user will recognise it: relative to the working directory if inside."""
    path = Path(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return str(path)
    return rel if not rel.startswith("..") else str(path)


class NewsletterError(Exception):
    """Base of every error that is the user's to fix; printed without a traceback."""

    exit_code = 1


class UsageError(NewsletterError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class ValidationError(NewsletterError):
    """One or more problems were found in the issue's sources."""

    def __init__(self, problems: list[Problem], written: list[Path] | tuple = ()):
        self.problems = [p for p in problems if not p.warning]
        #: Files already written when the problems were found (``--strict`` judges the
        #: written PDFs: their preflight and photo check run on the files).
        self.written = list(written)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # raised in a bounded child, re-raised in the build
        return (type(self), (self.problems, self.written))


class RenderError(NewsletterError):
    """WeasyPrint could not lay the issue out or write the PDF."""


class Problems:
    """An accumulator of problems; :meth:`raise_if_errors` aborts once, with all of them."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, message: str, **where) -> None:
        self.items.append(Problem(message, **where))

    def warn(self, message: str, **where) -> None:
        self.items.append(Problem(message, warning=True, **where))

    def extend(self, other: Problems | list[Problem]) -> None:
        self.items.extend(other.items if isinstance(other, Problems) else other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.warning]

    def raise_if_errors(self, strict: bool = False) -> None:
        """Raise :class:`ValidationError` if there are errors (or warnings, when strict)."""
        if strict and strict_errors(self.items):
            raise ValidationError(strict_errors(self.items))
        if self.errors:
            raise ValidationError(self.items)


def strict_errors(problems: list[Problem]) -> list[Problem]:
    """What ``--strict`` stops on: every error and every warning, as errors — except
    advisory warnings, whose check has its own error threshold."""
    return [Problem(p.message, p.file, p.line, p.column, p.key) for p in problems
            if not p.advisory]


def disk_error(exc: OSError) -> NewsletterError | None:
    """A clear message for a write that the disk refused, naming the folder and the fix;
    None when ``exc`` is not about writing a file."""
    import errno
    from pathlib import Path

    if exc.filename is None:
        return None
    path = Path(exc.filename)
    folder = path if path.is_dir() else path.parent
    where = display_path(folder)
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        fix = f"the disk holding {where} is full; free some space or build elsewhere (-o DIR)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = (f"{where} is read-only for you; build into a folder you can write (-o DIR), "
               "or change its permissions")
    elif exc.errno == errno.ENAMETOOLONG:
        fix = "the name is too long for this file system; shorten newsletter.slug"
    else:
        return None
    return NewsletterError(f"cannot write {display_path(path)}: {exc.strerror}; {fix}. "
                           "Nothing else was changed.")
