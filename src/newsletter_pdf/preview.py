"""``newsletter preview``: a warm process that shows each save as pages in a browser.

The process imports and patches WeasyPrint once and keeps the issue checked and its
email-edition photos prepared. It polls the issue's files; on a save it

1. re-reads the articles and, when only article files changed, lays out **the edited
   article alone** (its own pages, no cover, no back page; its columns filled in order,
   not balanced) and writes those pages as PNGs at once — the quick view;
2. then lays out **the whole issue** behind it and writes every page and a contact sheet.

A page served on ``http://127.0.0.1:PORT/`` shows both and reloads itself when a new
version is written; the build's warnings and problems are listed beside the pages. Only
the preview folder is served, only on loopback. Nothing is written outside
``build/<issue>/preview/``.
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NewsletterError, Problems

POLL_SECONDS = 0.1
DPI = 60
#: The quick view fills its columns in order instead of balancing the last page's: the
#: lines, photos and page breaks are the same, and balancing is most of the layout time
#: (the issue view, a few seconds later, balances as the build does).
QUICK_CSS = "\n.story-body { column-fill: auto; }"


@dataclass
class Update:
    """What one save produced."""

    version: int
    kind: str  # "article" (the quick view) or "issue"
    seconds: float
    pages: list[str] = field(default_factory=list)  # PNG file names
    messages: list[str] = field(default_factory=list)


class PreviewSession:
    """The warm state of one issue's preview (usable without the server, e.g. in tests)."""

    def __init__(self, issue: Path, out_dir: Path | None = None, dpi: int = DPI):
        from . import weasyprint_patch
        from .build import check_issue
        from .outputs import default_output_dir

        weasyprint_patch.apply()
        import weasyprint  # noqa: F401 (imported once: every render child inherits it)

        self.issue = Path(issue)
        self.checked = check_issue(self.issue)
        self.out = Path(out_dir) if out_dir else default_output_dir(self.checked.manifest)
        self.folder = self.out / "preview"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dpi = dpi
        self.version = 0
        self.updates: list[Update] = []
        self.lock = threading.Lock()
        self._edition = None
        self._mtimes = self._scan()
        self._warm_engine()

    def _warm_engine(self) -> None:
        """Lay out the first article once in this process: every render child forked
        later starts with the fonts loaded and the engine's caches filled (about a third
        off each quick view). A failure here is reported by the real views."""
        import dataclasses as dc

        from .articles import read_articles
        from .compose import compose_html
        from .render import render_pdf

        manifest = self.checked.manifest
        if not manifest.articles:
            return
        problems = Problems()
        try:
            one = dc.replace(manifest, articles=manifest.articles[:1], cover=None,
                             back_page=None)
            articles = read_articles(one, problems, allow_html=self.checked.allow_html)
            edition = self._edition_for(problems)
            markup = compose_html(one, articles, self.checked.layout, problems, edition)
            roots = [manifest.folder, *self.checked.layout.roots, *edition.roots]
            render_pdf(markup, manifest.folder, roots, problems, pdf_options={},
                       time_limit=None, isolate=False)
        except Exception:  # noqa: BLE001 - see the docstring
            pass

    # -- watching ----------------------------------------------------------------------
    def _scan(self) -> dict[Path, float]:
        folders = [self.checked.manifest.folder, *self.checked.layout.chain]
        found = {}
        for folder in folders:
            for path in folder.rglob("*"):
                if path.is_file() and "build" not in path.relative_to(folder).parts[:1]:
                    try:
                        found[path] = path.stat().st_mtime_ns
                    except OSError:
                        continue
        return found

    def changed(self) -> list[Path]:
        """Files added, removed or saved since the last call."""
        now = self._scan()
        changed = [p for p in now.keys() | self._mtimes.keys()
                   if now.get(p) != self._mtimes.get(p)]
        self._mtimes = now
        return sorted(changed)

    # -- rendering ---------------------------------------------------------------------
    def _edition_for(self, problems: Problems):
        if self._edition is None:
            from .editions import prepare_edition

            self._edition = prepare_edition("email", self.checked.manifest,
                                            self.checked.layout, self.out, problems)
        return self._edition

    def _render(self, manifest, articles, problems: Problems, css: str = ""):
        import copy

        from .compose import compose_html
        from .render import render_pdf

        edition = copy.copy(self._edition_for(problems))  # kept: never mutate it
        edition.extra_css += "\n" + css
        markup = compose_html(manifest, articles, self.checked.layout, problems, edition)
        roots = [manifest.folder, *self.checked.layout.roots, *edition.roots]
        rendered = render_pdf(markup, manifest.folder, roots, problems, pdf_options={},
                              time_limit=self.checked.time_limit)
        rendered.problems = problems
        return rendered

    def _last_fit(self) -> dict | None:
        """The fit the last build or preview of this issue settled on (layout memo)."""
        from . import layoutmemo

        return layoutmemo.latest(self.out, self.checked.manifest)

    def _fitted(self, checked, problems: Problems):
        """The whole issue as the build lays it out: the last fit kept while it holds,
        else the page budget searched and the audit's findings repaired (repair.py)."""
        from . import layoutmemo
        from .editions import page_multiple
        from .repair import Guess, fit_and_repair

        guess = Guess.from_memo(self._last_fit())

        def render(css):
            found = Problems()
            return self._render(checked.manifest, checked.articles, found, css)

        outcome = fit_and_repair(checked.layout, render, wanted=checked.manifest.issue.pages,
                                 multiple=page_multiple(checked.manifest), guess=guess)
        problems.extend(getattr(outcome.rendered, "problems", None) or Problems())
        if not problems.errors:
            key = layoutmemo.fingerprint(checked.manifest, checked, self.out, Problems())
            layoutmemo.remember(self.out, key, outcome.css, outcome, checked.manifest)
        for finding in outcome.findings:
            problems.warn(f"layout: {finding}")
        for line in outcome.log:
            problems.warn(f"layout: {line}")
        return outcome.rendered

    def _pngs(self, pdf: bytes, prefix: str) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "p.pdf"
            source.write_bytes(pdf)
            subprocess.run(["pdftoppm", "-png", "-r", str(self.dpi), str(source),
                            f"{tmp}/{prefix}"], check=True, timeout=120)
            names = []
            for page in sorted(Path(tmp).glob(f"{prefix}-*.png")):
                number = int(page.stem.rsplit("-", 1)[1])
                name = f"{prefix}-{number:03d}.png"
                shutil.move(str(page), self.folder / f".{name}.tmp")
                (self.folder / f".{name}.tmp").replace(self.folder / name)
                names.append(name)
        for stale in self.folder.glob(f"{prefix}-*.png"):
            if stale.name not in names:
                stale.unlink()
        return names

    def _publish(self, kind: str, started: float, pages: list[str],
                 problems: Problems) -> Update:
        with self.lock:
            self.version += 1
            update = Update(self.version, kind, time.perf_counter() - started, pages,
                            [str(p) for p in problems.items])
            self.updates.append(update)
            state = {"version": self.version, "updates": [dataclasses.asdict(u) for u in
                                                          self.updates[-6:]]}
            (self.folder / ".state.json.tmp").write_text(json.dumps(state), encoding="utf-8")
            (self.folder / ".state.json.tmp").replace(self.folder / "state.json")
        return update

    def article_view(self, article_file: Path) -> Update | None:
        """The quick view: the article of ``article_file`` laid out alone."""
        from .articles import read_articles

        started = time.perf_counter()
        problems = Problems()
        manifest = self.checked.manifest
        index = next((i for i, spec in enumerate(manifest.articles)
                      if (manifest.folder / spec.file).resolve() == article_file.resolve()),
                     None)
        if index is None:
            return None
        one = dataclasses.replace(manifest, articles=[manifest.articles[index]], cover=None,
                                  back_page=None)
        articles = read_articles(one, problems, allow_html=self.checked.allow_html)
        if problems.errors or not articles:
            return self._publish("article", started, [], problems)
        last = self._last_fit()  # the type size and spacing the issue is set in
        rendered = self._render(one, articles, problems,
                                (last["fit"] if last else "") + QUICK_CSS)
        pages = self._pngs(rendered.pdf, "article")
        return self._publish("article", started, pages, problems)

    def issue_view(self) -> Update:
        """The whole issue, every page and a contact sheet."""
        from .build import check_issue

        started = time.perf_counter()
        problems = Problems()
        try:
            checked = check_issue(self.issue)
        except NewsletterError as exc:
            for item in getattr(exc, "problems", None) or [exc]:
                problems.error(str(item))
            return self._publish("issue", started, [], problems)
        photos_changed = [p.file for spec in checked.manifest.articles for p in spec.photos] \
            != [p.file for spec in self.checked.manifest.articles for p in spec.photos]
        if photos_changed or checked.layout.chain != self.checked.layout.chain:
            self._edition = None
        self.checked = checked
        problems.extend(checked.warnings)
        try:
            rendered = self._fitted(checked, problems)
        except NewsletterError as exc:
            problems.error(str(exc))
            return self._publish("issue", started, [], problems)
        pages = self._pngs(rendered.pdf, "page")
        _contact_sheet(self.folder, pages)
        return self._publish("issue", started, pages, problems)

    def on_change(self, paths: list[Path]) -> list[Update]:
        """React to saved files: the quick view of each edited article, then the issue."""
        updates = []
        manifest_path = self.checked.manifest.path
        if manifest_path not in paths:
            for path in paths:
                if path.suffix == ".md":
                    try:
                        update = self.article_view(path)
                    except NewsletterError as exc:
                        problems = Problems()
                        problems.error(str(exc))
                        update = self._publish("article", time.perf_counter(), [], problems)
                    if update is not None:
                        updates.append(update)
        updates.append(self.issue_view())
        return updates

    def watch(self, stop: threading.Event) -> None:
        """Poll for saves until ``stop`` is set."""
        while not stop.is_set():
            paths = [p for p in self.changed() if self.folder not in p.parents]
            if paths:
                self.on_change(paths)
            stop.wait(POLL_SECONDS)


def _contact_sheet(folder: Path, pages: list[str], columns: int = 6) -> None:
    from PIL import Image

    if not pages:
        return
    images = [Image.open(folder / name) for name in pages]
    width = max(im.width for im in images) // 3
    height = max(im.height for im in images) // 3
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (width + 8) + 8, rows * (height + 8) + 8), "#777")
    for i, im in enumerate(images):
        thumb = im.convert("RGB").resize((width, height))
        sheet.paste(thumb, (8 + (i % columns) * (width + 8), 8 + (i // columns) * (height + 8)))
        im.close()
    sheet.save(folder / ".sheet.png.tmp", "PNG")
    (folder / ".sheet.png.tmp").replace(folder / "sheet.png")


INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Preview — {title}</title>
<style>
body {{ font: 14px/1.4 sans-serif; margin: 0; background: #eee; display: flex; }}
main {{ flex: 1; padding: 12px; }} aside {{ width: 340px; padding: 12px; background: #fff; }}
img {{ width: 420px; margin: 6px; box-shadow: 0 1px 4px #0004; background: #fff; }}
h2 {{ font-size: 15px; margin: 12px 6px 4px; }} li {{ margin-bottom: 6px; }}
.error {{ color: #a00; }}
</style></head><body>
<main><h2>Edited article</h2><div id="article"></div>
<h2>The whole issue <a href="sheet.png">(contact sheet)</a></h2><div id="pages"></div></main>
<aside><h2>Problems and warnings</h2><ul id="messages"></ul><p id="status"></p></aside>
<script>
let seen = -1;
async function refresh() {{
  try {{
    const state = await (await fetch("state.json?" + Date.now())).json();
    if (state.version !== seen) {{
      seen = state.version;
      const last = kind => [...state.updates].reverse().find(u => u.kind === kind);
      for (const [kind, id] of [["article", "article"], ["issue", "pages"]]) {{
        const u = last(kind);
        if (!u) continue;
        document.getElementById(id).innerHTML = u.pages.map(
          p => `<img alt="${{p}}" src="${{p}}?v=${{u.version}}">`).join("");
      }}
      const u = state.updates[state.updates.length - 1];
      const list = document.getElementById("messages");
      list.textContent = "";
      for (const m of u.messages) {{
        const li = document.createElement("li");
        li.textContent = m;
        if (!m.includes("warning:")) li.className = "error";
        list.appendChild(li);
      }}
      document.getElementById("status").textContent =
        `version ${{u.version}}: ${{u.kind}} in ${{u.seconds.toFixed(2)}} s`;
    }}
  }} catch (e) {{}}
  setTimeout(refresh, 300);
}}
refresh();
</script></body></html>
"""


def serve(session: PreviewSession, port: int = 8765) -> tuple[object, int]:
    """Serve the preview folder on 127.0.0.1 (a thread); return (server, port)."""
    import functools
    import http.server

    (session.folder / "index.html").write_text(
        INDEX.format(title=html.escape(session.checked.manifest.newsletter.title)),
        encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(session.folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
