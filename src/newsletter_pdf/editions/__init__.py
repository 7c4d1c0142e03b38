"""Editions as plug-ins: one module per edition, merged into one registry here.

Each module (``print.py``, ``email.py``…) defines an ``EDITION`` object that declares its
output name, image targets, page CSS, finishing and preflight (see :mod:`.base`). The
registry supplies the CLI's ``--edition`` choices and the order of ``all``; adding an
edition is one new module plus its line below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Problems, UsageError
from .base import (  # noqa: F401  (part of the package's API)
    PdfEdition,
    image_widths,
    settle,
    with_fit_photos,
)
from .email import EDITION as EMAIL
from .email import email_settings  # noqa: F401
from .print import DEFAULT_PROFILE, press_profile, print_settings  # noqa: F401
from .print import EDITION as PRINT
from .web import EDITION as WEB

if TYPE_CHECKING:
    from ..compose import Edition
    from ..layouts import Layout
    from ..manifest import Manifest

#: Every edition by name, in the order ``all`` lists them.
REGISTRY: dict[str, PdfEdition] = {e.name: e for e in (PRINT, EMAIL, WEB)}
EDITIONS: tuple[str, ...] = tuple(REGISTRY)
#: The editions that are one PDF file (``preflight --for`` judges a PDF for one of them).
PDF_EDITIONS: tuple[str, ...] = tuple(n for n, e in REGISTRY.items() if e.is_pdf)

#: Limits for preparing one edition's photos (a hostile file must not take the machine).
PREPARE_TIME_LIMIT = 600.0
PREPARE_MEMORY_MB = 4096


def get_edition(name: str) -> PdfEdition:
    """The edition called ``name``; a usage error naming the choices otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown edition {name}; use {', '.join(EDITIONS)} or all") \
            from None


def page_reference() -> PdfEdition:
    """The edition whose page count is the issue's (the others pad to it)."""
    return next(e for e in REGISTRY.values() if e.counts_pages)


def page_multiple(manifest: Manifest) -> int:
    """The multiple the page budget aims at: the padding edition's (print: 4), whichever
    editions this build writes, so that every edition gets the same pages."""
    return max([kind.page_multiple(manifest) for kind in REGISTRY.values()
                if kind.needs_page_count] or [1])


def make_edition(name: str, manifest: Manifest, layout: Layout, out_dir: Path,
                 problems: Problems, padding_pages: int = 0,
                 cached_only: bool = False, planned: bool = False) -> Edition | None:
    """Prepare the images and the settings of one edition (in this process); with
    ``cached_only``, None unless every photo is in the cache; with ``planned``, photos not
    in the cache are planned (see :meth:`.base.PdfEdition.prepare`)."""
    return get_edition(name).prepare(manifest, layout, out_dir, problems, padding_pages,
                                     cached_only, planned)


def plan_edition(name: str, manifest: Manifest, layout: Layout, out_dir: Path,
                 problems: Problems, padding_pages: int = 0) -> Edition | None:
    """The edition with each photo as cached or, while the photo pass prepares it, as
    planned from its original's header (laid out from stand-ins, see standins.py); None
    if a photo cannot be planned (then wait for the pass). Call :func:`.base.settle` on it
    once the pass is done."""
    return make_edition(name, manifest, layout, out_dir, problems, padding_pages,
                        planned=True)


def photo_targets(names, manifest: Manifest, layout: Layout) -> dict[Path, list]:
    """Each raster photo of the issue and what the editions ``names`` prepare it for."""
    widths = image_widths(layout, manifest.issue.page_size)
    targets: dict[Path, list] = {}
    for name in names:
        kind = get_edition(name)
        for path, width in kind.photo_widths(manifest, widths).items():
            targets.setdefault(path, []).append(kind.image_target(manifest, width))
    return targets


def photo_bases(manifest: Manifest, layout: Layout) -> dict:
    """For each photo, the target it is decoded for: the most demanding of every PDF
    edition's (print's, usually), whichever editions a build makes — so a copy is the same
    built alone or beside the others, and one decode serves them all."""
    from ..imageprep import finest

    return {path: finest(path, found)
            for path, found in photo_targets(PDF_EDITIONS, manifest, layout).items()}


def prepare_photos(names: list[str], manifest: Manifest, layout: Layout,
                   out_dir: Path) -> None:
    """Every photo of the issue prepared for all the editions ``names`` at once, in one
    limited child, each photo decoded once for all of them: a progressive JPEG's decode is
    most of its preparation (about 0.8 s of CPU for the sample, each edition). The copies
    land in the cache, where each edition's :func:`prepare_edition` then finds them. A
    damaged photo stops the build with the check's words."""
    from ..bounded import run_bounded
    from ..errors import RenderError
    from ..imageprep import cache_dir_for, plannable
    from .base import prepare_sources

    cache = cache_dir_for(out_dir)
    # Photos that cannot be planned (see standins.py) first: an edition waits for them.
    jobs = dict(sorted(photo_targets(names, manifest, layout).items(),
                       key=lambda job: plannable(job[0])))
    bases = photo_bases(manifest, layout)
    cached = prepare_sources(manifest, layout, jobs, cache, Problems(), True, bases)
    if all(None not in copies for copies in cached.values()):
        return  # a rebuild: nothing to decode

    def prepare():
        # One photo at a time: the pass runs beside the search's two layouts, which the
        # build waits for, and a second thread of it would take a core's half from them
        # (the scheduler shares the cores by thread). The copies are wanted only when a
        # PDF is written, after the search: the pass finishes beside the print render.
        prepare_sources(manifest, layout, jobs, cache, Problems(), bases=bases, workers=1)

    editions = " and ".join(names) + (" editions" if len(names) > 1 else " edition")
    run_bounded(prepare, what=f"preparing the photos of the {editions}",
                time_limit=PREPARE_TIME_LIMIT,
                memory_mb=PREPARE_MEMORY_MB, error=RenderError,
                hint="make the largest photos smaller (under about 25 megapixels each)")


def prepare_edition(name: str, manifest: Manifest, layout: Layout, out_dir: Path,
                    problems: Problems, padding_pages: int = 0) -> Edition:
    """:func:`make_edition` in a limited child process (time and memory): photo
    preparation is bounded like every other stage. The prepared files land in the cache.

    When every photo is in the cache already (a rebuild), nothing is decoded — only the
    cached copies' and the originals' headers are read, as the check does — so it is done
    here, without the child (about a tenth of a second before the first render)."""
    from ..bounded import run_bounded
    from ..errors import RenderError

    found = Problems()
    edition = make_edition(name, manifest, layout, out_dir, found, padding_pages,
                           cached_only=True)
    if edition is not None:
        problems.items.extend(found.items)
        return edition

    def prepare():
        found = Problems()
        edition = make_edition(name, manifest, layout, out_dir, found, padding_pages)
        return edition, found.items

    edition, items = run_bounded(
        prepare, what=f"preparing the photos of the {name} edition",
        time_limit=PREPARE_TIME_LIMIT, memory_mb=PREPARE_MEMORY_MB, error=RenderError,
        hint="make the largest photos smaller (under about 25 megapixels each)")
    problems.items.extend(items)
    return edition
