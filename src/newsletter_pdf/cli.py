"""The ``newsletter`` command: thin wrappers around the pipeline in :mod:`build`.

Exit codes: 0 success, 1 content or validation error, 2 usage error. No traceback unless
``--debug``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .editions import EDITIONS, PDF_EDITIONS
from .errors import NewsletterError, ValidationError, disk_error, display_path


class Group(click.Group):
    """Turns our exceptions into one clear message and the right exit code.

    Commands in modules of their own (``send``: the mail stack) are imported only when
    asked for, so a build does not load them (about a tenth of a second at start-up)."""

    lazy = {"send": "newsletter_pdf.send_cli"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str):
        if name in self.lazy and name not in self.commands:
            import importlib

            self.add_command(getattr(importlib.import_module(self.lazy[name]), name))
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            if isinstance(exc, ValidationError):
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
                count = len(exc.problems)
                found = f"{count} problem{'s' if count != 1 else ''} found"
                if exc.written:  # --strict judged the files it had written
                    click.echo(f"{found} with --strict in what was written (kept for you to "
                               f"look at): {', '.join(map(display_path, exc.written))}",
                               err=True)
                else:
                    click.echo(f"{found}; nothing was written.", err=True)
            else:
                click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; existing PDFs were left as they were.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, traceback only with --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # …unless it is a full or read-only disk: not a bug, say what to do.
            clear = disk_error(exc) if isinstance(exc, OSError) else None
            if clear is not None:
                click.echo(f"error: {clear}", err=True)
                ctx.exit(1)
            click.echo(f"internal error: {type(exc).__name__}: {exc} "
                       "(rerun with --debug for details, and please report it)", err=True)
            ctx.exit(1)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="newsletter")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Typeset a quarterly newsletter from a YAML manifest, Markdown and photos."""
    ctx.obj = {"debug": debug}


def _announce(layout) -> None:
    from .layouts import announcement

    line = announcement(layout) if layout is not None else None
    if line:
        click.echo(line, err=True)


def _warn(warnings) -> None:
    for warning in warnings:
        click.echo(str(warning), err=True)


@main.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the PDFs (default: build/<issue folder name>/).")
@click.option("--edition", type=click.Choice([*EDITIONS, "all"]), multiple=True,
              default=("all",), show_default=True,
              help="Which edition(s) to build (repeat it for several: --edition print "
                   "--edition email).")
@click.option("--strict", is_flag=True,
              help="Treat warnings (size budget, photos under print.error_ppi…) as errors; "
                   "photos between error_ppi and min_ppi stay warnings.")
@click.option("--allow-remote", is_flag=True,
              help="Allow http(s) resources (off: nothing reaches the network).")
@click.option("--allow-html", is_flag=True,
              help="Let a sanitised, safe subset of raw HTML in articles through "
                   "(default: shown as text, with a warning).")
@click.option("--time-limit", type=float, default=600, show_default=True, metavar="SECONDS",
              help="Stop a render that runs longer than this (0: no limit).")
@click.option("--timings", is_flag=True, help="Print where the time went, stage by stage.")
@click.option("--fresh", is_flag=True,
              help="Search the layout afresh, as a first build does (by default a rebuild "
                   "keeps the last build's fit while it still gives the page budget and no "
                   "new layout findings).")
def build(issue: Path, out_dir: Path | None, edition: tuple[str, ...], strict: bool,
          allow_remote: bool, allow_html: bool, time_limit: float, timings: bool,
          fresh: bool) -> None:
    """Build the print-shop and email PDFs of ISSUE (a folder or its issue.yaml).

    On a terminal, the stage being worked on is shown as it goes."""
    from .enginehost import EngineHost

    editions = EDITIONS if "all" in edition else tuple(dict.fromkeys(edition))
    # The engine host starts first of all: its import of WeasyPrint (about 0.6 s) runs
    # beside this process's own imports and check, and is over when the first render asks.
    host = EngineHost.start() if set(editions) & set(PDF_EDITIONS) else None
    try:
        from .build import build_issue
        from .progress import Reporter

        reporter = Reporter()
        result = build_issue(issue, out_dir=out_dir, editions=editions, strict=strict,
                             allow_remote=allow_remote, allow_html=allow_html,
                             time_limit=time_limit or None, reporter=reporter, fresh=fresh,
                             host=host)
    finally:
        if host is not None:
            host.close()
    _warn(result.warnings)
    _announce(result.layout)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    for line in result.repairs:
        click.echo(f"layout: {line}", err=True)
    for built in result.outputs.values():
        verdict = ""
        if built.preflight is not None:
            verdict = ", preflight " + ("passed" if built.preflight.ok else
                                        f"FAILED ({'; '.join(built.preflight.failures)})")
        extent = f"{built.files} files, page weight" if built.files else f"{built.pages} pages,"
        click.echo(f"{display_path(built.path)}: {built.edition} edition, {extent} "
                   f"{built.size / 1_048_576:.2f} MB, {built.seconds:.1f} s{verdict}")
        if built.padded:
            click.echo(f"  pages {', '.join(map(str, built.padded))} added as Notes pages "
                       f"to reach a multiple of 4 (the back page stays last)")
    click.echo(f"built in {result.seconds:.1f} s")
    if timings:
        click.echo(reporter.table())


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--for", "purpose", type=click.Choice(list(PDF_EDITIONS)), default="print",
              show_default=True, help="What the PDF is for.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--budget-mb", type=float, default=3.0, show_default=True,
              help="Email size budget.")
@click.option("--min-ppi", type=int, default=300, show_default=True,
              help="Print: photos below this get a warning.")
@click.option("--error-ppi", type=int, default=150, show_default=True,
              help="Print: photos below this fail the check.")
@click.option("--pad-multiple", type=int, default=4, show_default=True,
              help="Print: the page count must be a multiple of this (0: any).")
@click.option("--page-size", type=click.Choice(["A4", "Letter"]),
              help="The issue's paper: any page of another trim size fails (default: every "
                   "page must have the size of the first).")
def preflight(pdf: Path, purpose: str, as_json: bool, budget_mb: float, min_ppi: int,
              error_ppi: int, pad_multiple: int, page_size: str | None) -> None:
    """Check any PDF for the print shop or for email; exit 1 if a check fails."""
    from .preflight import preflight_bounded

    report = preflight_bounded(pdf, purpose=purpose, budget_bytes=int(budget_mb * 1_048_576),
                               min_ppi=min_ppi, error_ppi=error_ppi,
                               pad_multiple=pad_multiple, page_size=page_size)
    click.echo(report.to_json() if as_json else report.to_text())
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write (default: <pdf>-imposed.pdf, or <pdf>-booklet-a5.pdf "
                   "with --booklet a5).")
@click.option("--booklet", type=click.Choice(["a5"]),
              help="a5: an A5 booklet on A4 sheets, for office printers.")
@click.option("--binding", type=click.Choice(["left", "right"]),
              help="Spine on the left or the right (default: from the PDF's reading "
                   "direction; right-to-left issues are bound on the right).")
def impose(pdf: Path, output: Path | None, booklet: str | None, binding: str | None) -> None:
    """Write 2-up saddle-stitch spreads of PDF in printer's order."""
    from .bounded import run_bounded
    from .impose import impose as do_impose
    from .preflight import PDF_MEMORY_MB, PDF_TIME_LIMIT

    suffix = f"-booklet-{booklet}.pdf" if booklet else "-imposed.pdf"
    target = output or pdf.with_name(pdf.stem + suffix)
    sides = run_bounded(lambda: do_impose(pdf, target, booklet, binding), what=f"imposing {pdf}",
                        time_limit=PDF_TIME_LIMIT, memory_mb=PDF_MEMORY_MB,  # see preflight
                        hint="is it a newsletter PDF? a damaged or hostile file can be "
                             "endless to read")
    click.echo(f"{display_path(target)}: {sides} sheet sides ({sides // 2} sheets, print "
               "double-sided, flip on the short edge)")


@main.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-html", is_flag=True,
              help="Check articles as if raw HTML were allowed (sanitised).")
@click.option("--layout", "lay_out", is_flag=True,
              help="Also lay the issue out (nothing is written) and show the page budget, "
                   "the repairs made and what the layout audit still finds.")
def check(issue: Path, strict: bool, allow_html: bool, lay_out: bool) -> None:
    """Validate ISSUE without rendering: manifest, articles, photos, layout, fonts.

    With --layout, the issue is laid out as the email edition in a temporary folder and the
    audit's findings are shown with their pages; --strict makes them errors."""
    from .build import check_issue

    checked = check_issue(issue, strict=strict, allow_html=allow_html)
    _warn(checked.warnings)
    _announce(checked.layout)
    n = len(checked.manifest.articles)
    click.echo(f"{display_path(checked.manifest.path)}: OK — {n} articles, layout "
               f"{checked.layout.name!r}"
               + (f", {len(checked.warnings)} warnings" if checked.warnings else ""))
    if lay_out:
        _check_layout(issue, strict, allow_html)


def _check_layout(issue: Path, strict: bool, allow_html: bool) -> None:
    import tempfile

    from .build import build_issue
    from .editions import page_reference
    from .errors import Problem, ValidationError

    reference = page_reference().name
    with tempfile.TemporaryDirectory(prefix="newsletter-check-") as folder:
        result = build_issue(issue, out_dir=Path(folder), editions=(reference,),
                             allow_html=allow_html, preflight=False)
    findings = [w for w in result.warnings if w.message.startswith("layout:")]
    for line in result.repairs:
        click.echo(f"layout: {line}")
    pages = result.outputs[reference].pages
    if strict and findings:  # --strict: the findings become errors
        raise ValidationError([Problem(p.message, p.file, p.line, p.column, p.key)
                               for p in findings])
    _warn(findings)
    click.echo(f"layout: {pages} pages, {len(findings)} finding(s)"
               + (", nothing a designer would reject" if not findings else ""))


@main.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Build folder (default: build/<issue folder name>/); pages go to its "
                   "preview/ folder.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
def preview(issue: Path, out_dir: Path | None, port: int) -> None:
    """Show ISSUE's pages in a browser, updated on every save (Ctrl-C to stop).

    Each saved article is laid out alone at once (its pages first), then the whole issue
    behind it, with the problems and warnings beside the pages."""
    import threading

    from .preview import PreviewSession, serve

    session = PreviewSession(issue, out_dir)
    first = session.issue_view()
    server, port = serve(session, port)
    click.echo(f"preview of {display_path(session.issue)}: http://127.0.0.1:{port}/ "
               f"({len(first.pages)} pages in {first.seconds:.1f} s; pages in "
               f"{display_path(session.folder)}). Save a file to update; Ctrl-C to stop.")
    stop = threading.Event()
    try:
        session.watch(stop)
    finally:
        stop.set()
        server.shutdown()


@main.command()
@click.argument("issues", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "site", type=click.Path(path_type=Path), required=True,
              help="The site folder to write (index.html plus one folder per issue).")
@click.option("--allow-html", is_flag=True, help="As for build.")
def archive(issues: Path, site: Path, allow_html: bool) -> None:
    """Build every issue under ISSUES (all editions) and an index page, newest first."""
    from .archive import build_archive

    index, results = build_archive(issues, site, allow_html=allow_html)
    for result in results:
        _warn(result.warnings)
        web = result.outputs["web"]
        click.echo(f"{display_path(web.path)}: {len(result.outputs)} editions, "
                   f"{result.seconds:.1f} s")
    click.echo(f"{display_path(index)}: {len(results)} issues, newest first")



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
