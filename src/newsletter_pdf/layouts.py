"""Stage 3 — layouts: folders of Jinja2 templates and CSS, found on a search path.

A layout is a folder holding ``layout.yaml`` (small defaults: fonts, colours, stylesheets,
``extends:``), ``templates/`` and ``css/``. It is looked up in the issue's own
``layouts/`` folder, then the user's folder (``$NEWSLETTER_LAYOUTS`` or
``~/.local/share/newsletter-pdf/layouts``), then the built-in ones. A layout that
``extends`` another inherits everything and overrides what it provides: a template block
(``{% extends "!newsletter/article.html" %}``) or one stylesheet of the same name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from .errors import Problems
from .manifest import Manifest
from .schema import load_yaml
from .templating import BoundedSandbox, ConfinedLoader, TemplateRefused

LAYOUT_FILE = "layout.yaml"
KNOWN_KEYS = {"name", "description", "extends", "stylesheets", "fonts", "colours", "options",
              "audit", "repair"}


def data_dir(name: str) -> Path:
    """A built-in data folder (layouts, fonts, profiles): in the wheel or the checkout."""
    packaged = Path(__file__).parent / "_data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


def user_layouts_dir() -> Path:
    env = os.environ.get("NEWSLETTER_LAYOUTS")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "newsletter-pdf" / "layouts"


@dataclass
class Layout:
    """A resolved layout: its folder chain (child first) and merged defaults."""

    name: str
    chain: list[Path]  # the layout's folder first, then the folders it extends
    stylesheets: list[str]
    fonts: dict
    colours: dict
    options: dict
    audit: dict = field(default_factory=dict)   # thresholds of the layout audit
    repair: dict = field(default_factory=dict)  # the repair moves, their limits, the fit ladder
    roots: list[Path] = field(default_factory=list)  # folders the renderer may read

    def find(self, relative: str) -> Path | None:
        """The first file named ``relative`` along the chain (child overrides parent).

        Confined like the templates: a file whose real path leaves its layout folder (a
        symlink to a system file, a ``..`` in the name) or is not a regular file raises
        :class:`~.templating.TemplateRefused` (``check`` reports it; see load_layout).
        """
        for folder in self.chain:
            found = ConfinedLoader([folder]).locate(relative)
            if found is not None:
                return found
        return None

    def stylesheet_paths(self) -> list[Path]:
        """The stylesheets in use (one refused or missing was reported by ``check``)."""
        paths = []
        for name in self.stylesheets:
            try:
                path = self.find(f"css/{name}")
            except (TemplateRefused, jinja2.TemplateNotFound):
                continue
            if path is not None:
                paths.append(path)
        return paths

    def font_dirs(self, issue_dir: Path) -> list[Path]:
        """Where font files are looked for: issue, layouts, then the built-in fonts/."""
        return [issue_dir / "fonts", *(folder / "fonts" for folder in self.chain),
                data_dir("fonts")]

    def jinja_env(self, folder: str = "templates") -> jinja2.Environment:
        """Templates of the chain; ``!<name>/x.html`` names one layout's own template.

        ``folder``: ``templates`` (the PDF editions) or ``web`` (the web edition)."""
        loaders = [ConfinedLoader([d / folder for d in self.chain])]
        prefixes = {f"!{d.name}": ConfinedLoader([d / folder]) for d in self.chain}
        # Sandboxed, confined and bounded: an issue's own templates are input too, and must
        # not run code, read files outside their folder or build gigabyte strings.
        env = BoundedSandbox(
            loader=jinja2.ChoiceLoader([jinja2.PrefixLoader(prefixes, delimiter="/"),
                                        *loaders]),
            autoescape=True, trim_blocks=True, lstrip_blocks=True,
            undefined=jinja2.StrictUndefined)
        return env


def search_path(issue_dir: Path) -> list[Path]:
    return [issue_dir / "layouts", user_layouts_dir(), data_dir("layouts")]


def load_layout(manifest: Manifest, problems: Problems) -> Layout | None:
    """Find the manifest's layout on the search path and resolve its ``extends`` chain."""
    issue_dir = manifest.folder
    chain: list[Path] = []
    configs: list[dict] = []
    name = manifest.layout
    while name:
        # A layout is a folder *name*: a path could pull any folder on the machine into
        # what the renderer may read (and its templates into what runs).
        if not isinstance(name, str) or "/" in name or "\\" in name or name in (".", "..") \
                or name.startswith("."):
            problems.error(f"layout {name!r} is not a layout name; give the name of a folder "
                           "in layouts/ (no '/' or '..')", file=manifest.path, key="layout")
            return None
        folder = next((d / name for d in search_path(issue_dir)
                       if (d / name / LAYOUT_FILE).is_file() and d / name not in chain), None)
        if folder is None:
            where = [str(d) for d in search_path(issue_dir)]
            problems.error(f"layout {name!r} not found; looked in {', '.join(where)}. "
                           "Use 'newsletter' or create that folder with a layout.yaml",
                           file=manifest.path, key="layout")
            return None
        config = _read_config(folder / LAYOUT_FILE, problems)
        if config is None:
            return None
        chain.append(folder)
        configs.append(config)
        name = config.get("extends")
        if len(chain) > 8:
            problems.error("layouts extend each other in a loop", file=folder / LAYOUT_FILE,
                           key="extends")
            return None
    merged: dict = {"stylesheets": [], "fonts": {}, "colours": {}, "options": {}, "audit": {},
                    "repair": {}}
    for config in reversed(configs):  # parent first, child overrides
        if "stylesheets" in config:
            merged["stylesheets"] = list(config["stylesheets"])
        for key in ("fonts", "colours", "options", "audit", "repair"):
            merged[key].update(config.get(key) or {})
    layout = Layout(name=manifest.layout, chain=chain, **merged)
    for sheet in layout.stylesheets:
        try:
            found = layout.find(f"css/{sheet}")
        except TemplateRefused as exc:
            problems.error(f"stylesheet refused: {exc}", file=chain[0] / LAYOUT_FILE,
                           key="stylesheets")
            continue
        except jinja2.TemplateNotFound:  # '..' in the name
            found = None
        if found is None:
            problems.error(f"stylesheet css/{sheet} not found in layout {layout.name!r}",
                           file=chain[0] / LAYOUT_FILE, key="stylesheets")
    layout.roots = [*chain, *[d for d in layout.font_dirs(issue_dir) if d.is_dir()]]
    _check_templates(layout, problems)
    return layout


def _check_templates(layout: Layout, problems: Problems) -> None:
    """Load the issue template and everything it includes, so a template that leaves its
    folder (a symlink to a system file) or does not parse fails ``check``, not the build."""
    from .templating import TemplateRefused, referenced_templates

    env = layout.jinja_env()
    try:
        referenced_templates(env, "issue.html")
    except jinja2.TemplateNotFound as exc:
        problems.error(f"template {exc.name} not found", file=layout.chain[0] / LAYOUT_FILE)
    except TemplateRefused as exc:
        problems.error(f"template refused: {exc}", file=layout.chain[0] / LAYOUT_FILE)
    except jinja2.TemplateSyntaxError as exc:
        problems.error(f"template error: {exc.message}",
                       file=Path(exc.filename) if exc.filename else layout.chain[0],
                       line=exc.lineno)


def announcement(layout: Layout) -> str | None:
    """One line when the layout in use is not the built-in one of its name (an issue's or
    the user's own folder replaces it): the editor must know which templates run."""
    builtin = data_dir("layouts")
    folder = layout.chain[0]
    if folder.parent.resolve() == builtin.resolve():
        return None
    replaces = (builtin / layout.name / LAYOUT_FILE).is_file()
    return (f"layout {layout.name!r}: using {folder}"
            + (" (it replaces the built-in layout of that name)" if replaces else ""))


def _read_config(path: Path, problems: Problems) -> dict | None:
    try:  # confined like the templates: never a symlink that leaves the layout folder
        ConfinedLoader([path.parent]).locate(path.name)
    except TemplateRefused as exc:
        problems.error(f"layout defaults refused: {exc}", file=path)
        return None
    try:
        config = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.error(f"cannot read the layout's defaults: {exc}", file=path)
        return None
    if not isinstance(config, dict):
        problems.error("layout.yaml must be a mapping", file=path)
        return None
    unknown = set(config) - KNOWN_KEYS
    if unknown:
        problems.error(f"unknown keys {', '.join(sorted(unknown))}; allowed: "
                       f"{', '.join(sorted(KNOWN_KEYS))}", file=path)
        return None
    return config
