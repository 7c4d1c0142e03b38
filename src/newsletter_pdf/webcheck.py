"""Preflight of a web edition folder: what a reader's browser would fetch, read from the
written files (not from our intentions)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .preflight import Check, Report

#: Attributes that make a browser fetch something (links to follow are not fetches).
FETCHING = {("img", "src"), ("img", "srcset"), ("source", "srcset"), ("link", "href"),
            ("script", "src"), ("iframe", "src"), ("video", "src"), ("audio", "src"),
            ("embed", "src"), ("object", "data"), ("video", "poster")}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
#: What a heading or label reads when a template printed a value nobody set.
UNFILLED = {"", "None", "none", "null", "undefined", "NaN"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.anchors: list[str] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self.h1 = 0
        self.images_without_alt = 0
        self.headings: list[tuple[str, str]] = []  # (tag, text) of every h1–h6
        self.labels: list[tuple[str, str]] = []  # (tag, aria-label) of every labelled element
        self._open: list[tuple[str, list[str]]] = []  # headings being read

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in HEADINGS:
            self._open.append((tag, []))
        if "aria-label" in values:
            self.labels.append((tag, values["aria-label"] or ""))
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "script":
            self.scripts += 1
        if tag == "h1":
            self.h1 += 1
        if tag == "img" and values.get("alt") is None:
            self.images_without_alt += 1
        for name, value in attrs:
            if (tag, name) in FETCHING and value:
                refs = [part.split()[0] for part in value.split(",") if part.strip()] \
                    if name == "srcset" else [value]
                self.fetches += refs
            if tag == "a" and name == "href" and value:
                self.anchors.append(value)

    def handle_endtag(self, tag):
        if tag in HEADINGS and self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            self.headings.append((name, " ".join("".join(parts).split())))

    def handle_data(self, data):
        for _, parts in self._open:
            parts.append(data)

    def unfilled(self) -> list[str]:
        """Headings and labels that read as a value the layout forgot to fill: empty, or
        a programming language's word for nothing ("None", "undefined")."""
        found = [f"<{tag}> {text!r}" for tag, text in self.headings if text in UNFILLED]
        return found + [f"<{tag} aria-label={text!r}>" for tag, text in self.labels
                        if text in UNFILLED]


def site_refs(index: Path) -> _Refs:
    """The references of one HTML page."""
    parser = _Refs()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser


def check_site(folder: Path, budget_bytes: int) -> Report:
    """Judge ``folder/index.html``: every fetch local and present, anchors resolve, no
    script, one h1, alt on every image, page weight under ``budget_bytes``."""
    from .website import page_weight

    index = folder / "index.html"
    refs = site_refs(index)
    report = Report(str(index), "web", page_weight(folder))
    outside = [r for r in refs.fetches if urlsplit(r).scheme or r.startswith("//")]
    missing = [r for r in refs.fetches if r not in outside
               and not (folder / unquote(urlsplit(r).path)).is_file()]
    css = (folder / "style.css").read_text(encoding="utf-8") \
        if (folder / "style.css").is_file() else ""
    if "url(" in css.replace('url("fonts/', ""):
        outside.append("style.css: url(…)")
    report.checks.append(Check("local only", "fail" if outside else "ok",
                               ", ".join(outside) or "every resource is in the folder"))
    report.checks.append(Check("files present", "fail" if missing else "ok",
                               ", ".join(missing) or f"{len(set(refs.fetches))} files"))
    broken = [a for a in refs.anchors if a.startswith("#") and a[1:] not in refs.ids]
    report.checks.append(Check("anchors", "fail" if broken else "ok",
                               ", ".join(broken) or f"{len(refs.anchors)} links"))
    report.checks.append(Check("no script", "fail" if refs.scripts else "ok",
                               f"{refs.scripts} scripts"))
    report.checks.append(Check("one h1", "ok" if refs.h1 == 1 else "fail",
                               f"{refs.h1} h1 elements"))
    unfilled = refs.unfilled()
    report.checks.append(Check(
        "headings", "fail" if unfilled else "ok",
        (", ".join(unfilled) + ": a label the layout left unset (its word table or template)")
        if unfilled else f"{len(refs.headings)} headings, every one with words"))
    report.checks.append(Check("alt texts", "fail" if refs.images_without_alt else "ok",
                               f"{refs.images_without_alt} images without alt"))
    report.checks.append(Check(
        "page weight", "ok" if report.size <= budget_bytes else "warn",
        f"{report.size / 1_048_576:.2f} MB (budget {budget_bytes / 1_048_576:.1f} MB)"))
    return report
