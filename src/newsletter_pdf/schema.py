"""Typed, located reading of YAML into frozen dataclasses.

mkdocs validates its config with typed option descriptors and reports every problem at
once; we do the same, and go one further by keeping each YAML node's line and column so
every problem reads ``issue.yaml:14:5: articles[2].photos[0].file: …``.

A dataclass describes a mapping: each field's type says what the value must be, its
``metadata["doc"]`` documents it, ``metadata["required"]`` makes it mandatory. Supported
types: ``str``, ``int``, ``float``, ``bool``, ``datetime.date``, :class:`FileRef` (a file
relative to the manifest that must exist), ``Literal[...]`` choices, ``list[T]``,
``dict[str, str]``, ``T | None`` and nested dataclasses. A dataclass with a
``SCALAR_FIELD`` class attribute also accepts a bare scalar meaning that one field.
A field named ``where`` receives the node's :class:`Where`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import Problems

# Expanding aliases can turn a few hundred bytes into gigabytes ("billion laughs");
# no real manifest comes near this many nodes.
MAX_NODES = 100_000


@dataclass(frozen=True)
class Where:
    """Where a value came from: file, 1-based line and column, and key path."""

    file: Path | None = None
    line: int | None = None
    column: int | None = None
    key: str = ""

    def as_kwargs(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "key": self.key}


class FileRef(type(Path())):  # type: ignore[misc]
    """A path from the manifest, resolved against the manifest's folder; must exist."""


def field(doc: str, default=dataclasses.MISSING, *, required: bool = False, **kw):
    """A documented dataclass field (``required`` fields have no default)."""
    metadata = {"doc": doc, "required": required, **kw}
    if required:
        return dataclasses.field(metadata=metadata)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=metadata)
    return dataclasses.field(default=None if default is dataclasses.MISSING else default,
                             metadata=metadata)


def compose_yaml(text: str, file: Path, problems: Problems, line_offset: int = 0):
    """Parse YAML text to a node tree, recording a located problem on syntax errors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        hint = "fix the YAML syntax"
        if "\\t" in what or "\t" in (text.splitlines()[mark.line] if mark and
                                      mark.line < len(text.splitlines()) else ""):
            hint = "YAML indentation must use spaces, not tabs"
        problems.error(f"YAML syntax error: {what}; {hint}",
                       file=file, line=(mark.line + 1 + line_offset) if mark else None,
                       column=(mark.column + 1) if mark else None)
        return None
    except yaml.YAMLError as exc:
        problems.error(f"YAML error: {exc}", file=file)
        return None
    return node


class Reader:
    """Walks a YAML node tree against dataclass types, collecting problems."""

    def __init__(self, file: Path, base_dir: Path, problems: Problems, line_offset: int = 0):
        self.file = file
        self.base_dir = base_dir
        self.problems = problems
        self.line_offset = line_offset
        self._nodes = 0
        self._constructor = yaml.SafeLoader("")

    # -- locations -------------------------------------------------------------------
    def where(self, node, key: str) -> Where:
        if node is None:
            return Where(self.file, None, None, key)
        mark = node.start_mark
        return Where(self.file, mark.line + 1 + self.line_offset, mark.column + 1, key)

    def error(self, node, key: str, message: str) -> None:
        self.problems.error(message, **self.where(node, key).as_kwargs())

    def warn(self, node, key: str, message: str) -> None:
        self.problems.warn(message, **self.where(node, key).as_kwargs())

    # -- reading -----------------------------------------------------------------------
    def read(self, tp, node, key: str):
        """Convert ``node`` to ``tp``; on a problem, record it and return ``None``."""
        self._nodes += 1
        if self._nodes > MAX_NODES:
            if self._nodes == MAX_NODES + 1:
                self.error(node, key, f"the document expands to more than {MAX_NODES} values "
                           "(too many aliases?); simplify it")
            return None
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if _is_null(node):
                return None
            return self.read(inner[0], node, key)
        if origin is typing.Literal:
            value = self._scalar(node, key, str)
            if value is None:
                return None
            if value not in args:
                self.error(node, key, f"{value!r} is not one of {', '.join(map(str, args))}"
                           + _did_you_mean(str(value), [str(a) for a in args]))
                return None
            return value
        if origin is list:
            if _is_null(node):
                return []
            if not isinstance(node, yaml.SequenceNode):
                self.error(node, key, f"expected a list, got {_describe(node)}")
                return None
            items = [self.read(args[0], child, f"{key}[{i}]")
                     for i, child in enumerate(node.value)]
            return [item for item in items if item is not None]
        if origin is dict:
            if not isinstance(node, yaml.MappingNode):
                self.error(node, key, f"expected a mapping, got {_describe(node)}")
                return None
            out = {}
            for k, v in node.value:
                name = self._scalar(k, key, str)
                val = self.read(args[1], v, f"{key}.{name}")
                if name is not None and val is not None:
                    out[name] = val
            return out
        if dataclasses.is_dataclass(tp):
            return self.read_dataclass(tp, node, key)
        return self._scalar(node, key, tp)

    def read_dataclass(self, cls, node, key: str):
        """Read a mapping node into dataclass ``cls`` (unknown keys and gaps reported)."""
        scalar_field = getattr(cls, "SCALAR_FIELD", None)
        if scalar_field and isinstance(node, yaml.ScalarNode) and not _is_null(node):
            node = yaml.MappingNode("tag:yaml.org,2002:map",
                                    [(yaml.ScalarNode("tag:yaml.org,2002:str", scalar_field,
                                                      node.start_mark, node.end_mark), node)],
                                    node.start_mark, node.end_mark)
        if not isinstance(node, yaml.MappingNode):
            what = f"a mapping of {cls.__name__.lower()} settings"
            if scalar_field:
                what += f" or a {scalar_field}"
            self.error(node, key or "(top level)", f"expected {what}, got {_describe(node)}")
            return None
        # Only documented fields are YAML keys; the rest (where, path) are set by us.
        fields = {f.name: f for f in dataclasses.fields(cls) if "doc" in f.metadata}
        hints = typing.get_type_hints(cls)
        values: dict = {}
        seen: dict[str, object] = {}
        ok = True
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                self.error(knode, key, "keys must be plain names")
                ok = False
                continue
            name = str(knode.value)
            sub = f"{key}.{name}" if key else name
            if name in seen:
                self.error(knode, sub, "duplicate key; the earlier value would be silently "
                           "lost — keep only one")
                ok = False
                continue
            seen[name] = knode
            if name not in fields:
                self.error(knode, sub, "unknown key" + _did_you_mean(name, list(fields))
                           + ("" if _did_you_mean(name, list(fields)) else
                              f"; allowed keys: {', '.join(fields)}"))
                ok = False
                continue
            value = self.read(hints[name], vnode, sub)
            if value is None and not _is_null(vnode):
                ok = False
                continue
            if isinstance(value, str) and not value.strip() and fields[name].metadata.get(
                    "required"):
                self.error(vnode, sub, "must not be empty")
                ok = False
                continue
            if value is not None:
                values[name] = value
        for name, f in fields.items():
            if f.metadata.get("required") and name not in values and name not in seen:
                self.error(node, f"{key}.{name}" if key else name,
                           f"required key is missing: {f.metadata.get('doc', '')}".rstrip(": "))
                ok = False
        if not ok:
            return None
        if "where" in {f.name for f in dataclasses.fields(cls)}:
            values["where"] = self.where(node, key)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            self.error(node, key, str(exc))
            return None

    def _scalar(self, node, key: str, tp):
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, key, f"expected {_type_name(tp)}, got {_describe(node)}")
            return None
        try:
            value = self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.error(node, key, f"invalid value: {exc.problem}")
            return None
        except ValueError as exc:  # e.g. 2011-13-31 looks like a date but is not one
            if node.tag.endswith(":timestamp"):
                self.error(node, key, f"{node.value!r} is not a valid date ({exc}); write "
                           "it as YYYY-MM-DD, e.g. 2011-03-31")
            else:
                self.error(node, key, f"invalid value {node.value!r}: {exc}")
            return None
        if tp is str:
            if isinstance(value, (dt.date, bool)) or value is None:
                return None if value is None else str(node.value)
            return str(value)
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif tp is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif tp is dt.date:
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            self.error(node, key, f"{node.value!r} is not a date; write it as YYYY-MM-DD, "
                       "e.g. 2011-03-31")
            return None
        elif tp is FileRef:
            return self._file(node, key, str(value))
        self.error(node, key, f"expected {_type_name(tp)}, got {_describe(node)}")
        return None

    def _file(self, node, key: str, value: str):
        if not value.strip():
            self.error(node, key, "must name a file")
            return None
        path = (self.base_dir / value)
        if not path.exists():
            self.error(node, key, f"file not found: {value} (paths are relative to "
                       f"{_rel(self.base_dir)}/)")
            return None
        if not path.is_file():
            self.error(node, key, f"not a regular file: {value}")
            return None
        if not os.access(path, os.R_OK):
            self.error(node, key, f"file is not readable: {value}; check its permissions")
            return None
        return FileRef(path)


def _rel(path: Path) -> str:
    from .errors import display_path
    return display_path(path)


def _is_null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _describe(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if _is_null(node):
        return "nothing"
    kind = node.tag.rsplit(":", 1)[-1]
    names = {"str": "text", "int": "a number", "float": "a number", "bool": "true/false",
             "timestamp": "a date"}
    return f"{names.get(kind, kind)} {node.value!r}"


def _type_name(tp) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)", FileRef: "a file path"}.get(tp, str(tp))


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
