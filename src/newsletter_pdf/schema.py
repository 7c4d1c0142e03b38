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
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import Problems

# Expanding aliases can turn a few hundred bytes into gigabytes ("billion laughs");
# no real manifest comes near this many nodes, this deep, or this large.
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_YAML_CHARS = 5_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"


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


#: PyYAML's libyaml loader where it was built with it (else None): a well-formed document
#: is parsed by it; a faulty or hostile one again by the pure-Python parser, whose messages
#: and places the errors give.
FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _fast(text: str) -> bool:
    """Whether libyaml may parse ``text``: it has no tab (libyaml takes a tab after a key as
    white space where the reference parser, and YAML, refuse it)."""
    return FAST_LOADER is not None and "\t" not in text


def _too_deep(text: str, loader):
    """The event where ``text`` nests more than MAX_DEPTH levels deep, or None. The parser
    streams events without recursion: absurd nesting is found before the (recursive)
    composer sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def load_yaml(text: str):
    """``yaml.safe_load``, with libyaml where there is one (an error is the pure-Python
    parser's, in its words)."""
    if _fast(text):
        try:
            return yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def compose_yaml(text: str, file: Path, problems: Problems, line_offset: int = 0):
    """Parse YAML text to a node tree, recording a located problem on syntax errors.

    Hostile YAML is refused here, before anything walks the tree: alias bombs ("billion
    laughs"), aliases that refer to themselves, absurd nesting and absurd size. Composing
    keeps each aliased node once, so the check costs time and memory proportional to
    the text, not to its expansion.
    """
    if len(text) > MAX_YAML_CHARS:
        problems.error(f"the YAML is {len(text) / 1e6:.0f} million characters long (at most "
                       f"{MAX_YAML_CHARS // 1_000_000} million); a manifest is a few "
                       "kilobytes — is this the right file?", file=file)
        return None
    node = _UNPARSED
    if _fast(text):  # libyaml: the same nodes and marks, ten times as fast
        try:
            if _too_deep(text, FAST_LOADER) is None:
                node = yaml.compose(text, Loader=FAST_LOADER)
        except (yaml.YAMLError, RecursionError):
            pass  # said by the reference parser, in its words and at its place
    if node is _UNPARSED:
        node = _reference_compose(text, file, problems, line_offset)
        if node is _UNPARSED:
            return None
    if node is not None and not _bounded(node, file, problems, line_offset):
        return None
    return node


#: Not parsed (yet, or at all: the problem is recorded).
_UNPARSED = object()


def _reference_compose(text: str, file: Path, problems: Problems, line_offset: int):
    """The node tree by PyYAML's pure-Python parser, or _UNPARSED with the problem
    recorded at its place."""
    try:
        deep = _too_deep(text, yaml.SafeLoader)
        if deep is not None:
            mark = deep.start_mark
            problems.error(f"the YAML is nested more than {MAX_DEPTH} levels deep; "
                           "flatten it", file=file,
                           line=mark.line + 1 + line_offset, column=mark.column + 1)
            return _UNPARSED
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        problems.error(f"the YAML is nested too deeply (more than {MAX_DEPTH} levels); "
                       "flatten it", file=file)
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
    except yaml.YAMLError as exc:
        problems.error(f"YAML error: {exc}", file=file)
    return _UNPARSED


def _bounded(root, file: Path, problems: Problems, line_offset: int) -> bool:
    """Refuse self-referring aliases, alias bombs and deep nesting (iteratively)."""
    size: dict[int, int] = {}  # id(node) -> values it expands to
    state: dict[int, int] = {}  # 1 = being expanded, 2 = done
    stack: list[tuple[object, int, bool]] = [(root, 1, False)]

    def at(node) -> dict:
        mark = node.start_mark
        return {"file": file, "line": mark.line + 1 + line_offset, "column": mark.column + 1}

    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if children_done:
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_NODES:
                problems.error(f"the YAML expands to more than {MAX_NODES:,} values through "
                               "its aliases (&anchor/*alias): an alias bomb?; write the "
                               "values out or use fewer aliases", **at(node))
                return False
            size[key] = total
            state[key] = 2
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            problems.error("an alias refers to the value that contains it (a recursive "
                           "structure); remove the *alias", **at(node))
            return False
        if depth > MAX_DEPTH:
            problems.error(f"the YAML is nested more than {MAX_DEPTH} levels deep; flatten "
                           "it", **at(node))
            return False
        state[key] = 1
        stack.append((node, depth, True))
        for child in _children(node):
            if state.get(id(child)) == 1:
                problems.error("an alias refers to the value that contains it (a "
                               "recursive structure); remove the *alias", **at(child))
                return False
            stack.append((child, depth + 1, False))
    return True


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def issue_root_of(path: Path) -> Path:
    """The issue folder holding ``path``: the nearest folder above with an issue.yaml."""
    path = Path(os.path.abspath(path))
    for folder in path.parents:
        if (folder / "issue.yaml").is_file():
            return folder
    return path.parent


def confine(base_dir: Path, value: str, root: Path) -> tuple[Path | None, str | None]:
    """Resolve ``value`` against ``base_dir``; it must stay inside ``root``.

    Returns ``(path, None)`` when inside (after ``..`` and symlinks), else
    ``(None, reason)`` with a message naming the path and the fix.
    """
    try:
        candidate = Path(os.path.abspath(base_dir / value))
        real = Path(os.path.realpath(candidate))
    except (ValueError, OSError) as exc:  # embedded NUL, name too long
        return None, f"{value!r} is not a usable file name ({exc})"
    root_abs = Path(os.path.abspath(root))
    root_real = Path(os.path.realpath(root))
    if real == root_real or root_real in real.parents:
        return candidate, None
    lexically_inside = any(candidate == r or r in candidate.parents
                           for r in (root_abs, root_real))
    if lexically_inside:
        return None, (f"{value} is a symbolic link to {real}, outside the issue folder "
                      f"({_rel(root)}/); copy the file itself into the issue folder")
    return None, (f"{value} is outside the issue folder ({_rel(root)}/); copy the file "
                  "into the issue folder and refer to it from there")


#: Characters no text field may hold: C0/C1 controls (tab, line feed and carriage return
#: aside) and lone UTF-16 surrogates.
BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: The longest word (or URL) laid out; longer is refused with its line, in every text
#: field and article (a 300 KB "word" or an inline data: URL would be clipped, or take
#: minutes to break into lines: WeasyPrint lays the rest of an unbreakable word out again
#: for every line it breaks off).
MAX_WORD = 300
#: Fields holding one address, never laid out as running text, may be longer.
ADDRESS_KEYS = {"url", "unsubscribe_url", "unsubscribe_mailto", "from_address", "reply_to",
                "subject", "web_url", "pdf_url"}
MAX_ADDRESS = 2000
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")


class Reader:
    """Walks a YAML node tree against dataclass types, collecting problems."""

    def __init__(self, file: Path, base_dir: Path, problems: Problems, line_offset: int = 0,
                 root: Path | None = None):
        self.file = file
        self.base_dir = base_dir
        # Every file path must stay inside this folder (the issue folder).
        self.root = root if root is not None else base_dir
        self.problems = problems
        self.line_offset = line_offset
        self._nodes = 0
        self._constructor = yaml.SafeLoader("")
        self.dropped = 0  # mappings not built (a required value missing or invalid)
        self.locations: dict[str, Where] = {}  # key path -> where its value is
        self.partial = False  # mappings built with some invalid value left out

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
            before = len(self.problems.errors)
            items = [self.read(args[0], child, f"{key}[{i}]")
                     for i, child in enumerate(node.value)]
            if len(self.problems.errors) > before:
                # A partial list would make later checks report phantom problems
                # ("no articles", "no such id"): the items' own errors say it all.
                return None
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
        if isinstance(node, yaml.MappingNode):
            node = self._merged(node, key)
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
            self.locations[sub] = self.where(vnode, sub)
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
        # A mapping with a bad optional value is still built (that value left at its
        # default, the problem already recorded), so later stages can report their own
        # problems in the same run; without a required value it cannot be.
        if any(f.metadata.get("required") and name not in values
               for name, f in fields.items()):
            self.dropped += 1
            return None
        if not ok:
            self.partial = True
        if "where" in {f.name for f in dataclasses.fields(cls)}:
            values["where"] = self.where(node, key)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            self.error(node, key, str(exc))
            return None

    def _merged(self, node, key: str):
        """Apply YAML merge keys (``<<: *defaults``): explicit keys win."""
        if not any(k.tag == MERGE_TAG for k, _ in node.value):
            return node
        own = [(k, v) for k, v in node.value if k.tag != MERGE_TAG]
        names = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        extra = []
        for k, v in node.value:
            if k.tag != MERGE_TAG:
                continue
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.error(source, key, "'<<' merges mappings only (an *alias of a "
                               "mapping or a list of them)")
                    continue
                for sk, sv in self._merged(source, key).value:
                    if isinstance(sk, yaml.ScalarNode) and sk.value not in names:
                        names.add(sk.value)
                        extra.append((sk, sv))
        return yaml.MappingNode(node.tag, own + extra, node.start_mark, node.end_mark)

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
            return self._text(node, key, str(value))
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

    def _text(self, node, key: str, value: str) -> str | None:
        """A text value: no control character (an escape such as ``"\\0"`` or
        ``"\\x1b"`` can write one) and no lone surrogate (``"\\ud800"``), which no PDF,
        HTML or mail header can carry; tabs and line breaks are fine."""
        bad = BAD_TEXT.search(value)
        if bad is not None:
            self.error(node, key, f"the text holds the invisible character "
                       f"U+{ord(bad[0]):04X} (at character {bad.start() + 1}); remove it")
            return None
        if key.rsplit(".", 1)[-1] in ADDRESS_KEYS:
            if len(value) > MAX_ADDRESS:
                self.error(node, key, f"{len(value):,} characters is too long for an "
                           f"address (at most {MAX_ADDRESS:,})")
                return None
            return value
        # A Markdown link's address is not printed: [short text](very-long-url) is fine.
        long = _LONG_WORD.search(re.sub(r"\]\([^()\s]*\)", "]", value))
        if long is not None:
            self.error(node, key, f"a word of {len(long[0]):,} characters ({long[0][:40]}…) "
                       f"cannot be laid out (at most {MAX_WORD}); break it up, or link a long "
                       "address with [short text](url)")
            return None
        return value

    def _file(self, node, key: str, value: str):
        """A file path: inside the issue folder (after ``..`` and symlinks), existing,
        a regular file, readable."""
        if not value.strip():
            self.error(node, key, "must name a file")
            return None
        path, reason = confine(self.base_dir, value, self.root)
        if path is None:
            self.error(node, key, reason)
            return None
        try:
            exists = os.path.lexists(path)
            real_exists = path.exists()
        except OSError as exc:
            self.error(node, key, f"{value!r} is not a usable file name ({exc.strerror})")
            return None
        if not exists:
            self.error(node, key, f"file not found: {value} (paths are relative to "
                       f"{_rel(self.base_dir)}/)")
            return None
        if not real_exists:
            self.error(node, key, f"{value} is a broken symbolic link (to "
                       f"{os.readlink(path)}); replace it with the file itself")
            return None
        if not path.is_file():
            self.error(node, key, f"not a regular file: {value}")
            return None
        if not os.access(path, os.R_OK):
            self.error(node, key, f"file is not readable: {value}; check its permissions "
                       f"(e.g. chmod a+r {value})")
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
