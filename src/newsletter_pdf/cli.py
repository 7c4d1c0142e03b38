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
from .errors import NewsletterError, ValidationError, display_path


class Group(click.Group):
    """Turns our exceptions into one clear message and the right exit code."""

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
                click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was "
                           "written.", err=True)
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


def _warn(warnings) -> None:
    for warning in warnings:
        click.echo(str(warning), err=True)


@main.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the PDFs (default: build/<issue folder name>/).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-remote", is_flag=True,
              help="Allow http(s) resources (off: nothing reaches the network).")
def build(issue: Path, out_dir: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the issue's PDF from ISSUE (an issue folder or its issue.yaml)."""
    from .build import build_issue

    built = build_issue(issue, out_dir=out_dir, strict=strict, allow_remote=allow_remote)
    _warn(built.warnings)
    click.echo(f"{display_path(built.path)}: {built.pages} pages, "
               f"{built.size / 1_048_576:.1f} MB, built in {built.seconds:.1f} s")


@main.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(issue: Path, strict: bool) -> None:
    """Validate ISSUE without rendering: manifest, articles, photos, layout, fonts."""
    from .build import check_issue

    checked = check_issue(issue, strict=strict)
    _warn(checked.warnings)
    n = len(checked.manifest.articles)
    click.echo(f"{display_path(checked.manifest.path)}: OK — {n} articles, layout "
               f"{checked.layout.name!r}"
               + (f", {len(checked.warnings)} warnings" if checked.warnings else ""))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
