"""What every PDF edition shares; each edition module subclasses :class:`PdfEdition`.

An edition declares its output name, how its photos are prepared (size, colour space,
format), the CSS it adds to the page, its finishing steps and its preflight. The build
asks the edition rather than testing its name, so a new edition is one module plus its
entry in the registry (``editions/__init__.py``).
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stages load on first use: `newsletter --help` stays fast
    from ..compose import Edition
    from ..errors import Problem, Problems
    from ..imageprep import Target
    from ..layouts import Layout
    from ..manifest import Manifest


#: How much wider each placement is on US Letter (215.9 mm) than on A4 (210 mm), the
#: page the widths are given for: the margins stay, so the text measure grows by the
#: 5.9 mm and each of the two columns by half of it; the cover fills the page and its
#: bleed (1/8 in a side on Letter instead of 3 mm).
LETTER_EXTRA_MM = {"cover": 215.9 + 2 * 3.175 - 216.0, "top": 5.9, "span": 5.9,
                   "column": 2.95}


def image_widths(layout: Layout, page_size: str = "A4") -> dict[str, float]:
    """The largest width (mm) the layout gives each placement on ``page_size``; the layout
    can say (``options.image_widths_mm``, for A4; a ``Letter:`` mapping inside it for
    Letter, else the A4 widths widened by :data:`LETTER_EXTRA_MM`)."""
    # logo_height: the cover sets the logo by its height (cover.css, .masthead-logo), so a
    # wide logo is as wide as that height times its shape, often wider than "logo".
    defaults = {"cover": 216.0, "top": 180.0, "span": 180.0, "column": 87.0, "logo": 60.0,
                "logo_height": 17.0, "column_height": 70.0,
                # the back page's logos: as wide as the layout lets one be (backpage.py),
                # with room (a copy exactly that wide prints a rounding under the ppi)
                "back_logo": 1.25 * float((layout.options.get("back_logos") or {})
                                          .get("max_width_mm", 40.0))}
    given = dict(layout.options.get("image_widths_mm", {}) or {})
    per_size = {size: given.pop(size) for size in ("A4", "Letter") if size in given}
    defaults.update(given)
    if page_size == "Letter":
        for key, extra in LETTER_EXTRA_MM.items():
            defaults[key] = math.ceil(defaults[key] + extra)
    defaults.update(per_size.get(page_size) or {})
    # The loosest fit levels let column photos stand taller than the designed cap (the
    # ladder's --photo-cap): a photo is prepared for the tallest any level can set it, or a
    # portrait photo fitted at a loose level prints under the wanted ppi.
    caps = [_mm(level.get("--photo-cap")) for level in
            ((layout.repair or {}).get("ladder") or {}).get("levels") or ()
            if isinstance(level, dict)]
    defaults["tallest_column_photo"] = max([defaults["column_height"],
                                            *[cap for cap in caps if cap]])
    return defaults


def _mm(value) -> float | None:
    """``"100mm"`` as 100.0; None for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*mm\s*", str(value or ""))
    return float(match[1]) if match else None


class PdfEdition:
    """One PDF edition of an issue. Subclasses override the hooks below."""

    name = "proof"
    #: Editions render in this order (lowest first) when built one after the other.
    render_order = 50
    #: Its page count is the issue's: other editions pad to it (the email edition renders
    #: fastest, with small images, and copyfits first).
    counts_pages = False
    #: It needs the issue's page count before rendering (to add blank pages).
    needs_page_count = False
    #: One PDF file (the web edition is a folder).
    is_pdf = True
    #: Shown by ``build --help`` and in the README's edition table.
    summary = ""
    #: The column photos' height its photos are prepared for (a key of image_widths):
    #: the designed cap; the print edition prepares for the loosest fit level's, where a
    #: photo under its ppi is a print fault (on screen, a loose level's photo at 105 ppi
    #: instead of 150 is not worth an email of photos at 350 ppi at the tight levels).
    column_photo_height = "column_height"

    # -- declarations --------------------------------------------------------------------

    def output_name(self, manifest: Manifest) -> str:
        """The file name this edition is written to in the output folder."""
        from ..outputs import pdf_name

        return pdf_name(manifest, self.name)

    def image_target(self, manifest: Manifest, width_mm: float) -> Target:
        """How a photo placed at most ``width_mm`` wide is prepared for this edition."""
        raise NotImplementedError

    def configure(self, edition: Edition, manifest: Manifest, layout: Layout,
                  padding_pages: int) -> None:
        """Set this edition's page CSS, PDF options and boxes on ``edition``."""

    def svg_url(self, path: Path, manifest: Manifest, cache: Path) -> str | None:
        """A prepared copy of vector art, or None to place the original."""
        return None

    def roots(self, manifest: Manifest, cache: Path) -> list[Path]:
        """Folders (besides the issue's and the layout's) the renderer may read."""
        return [cache]

    def padding(self, page_count: int | None, manifest: Manifest) -> int:
        """Blank pages to add before the back page (print: saddle stitching)."""
        return 0

    def page_multiple(self, manifest: Manifest) -> int:
        """The page count must be a multiple of this (print: 4, saddle stitching); the page
        budget aims at it so that no blank page is needed."""
        return 1

    # -- steps ---------------------------------------------------------------------------

    def prepare(self, manifest: Manifest, layout: Layout, out_dir: Path, problems: Problems,
                padding_pages: int = 0, cached_only: bool = False,
                planned: bool = False) -> Edition | None:
        """Prepare this edition's images (cached by content) and its settings.
        ``cached_only``: None unless every photo is in the cache already; with ``planned``,
        a photo not in the cache is planned instead (its copy's path and size, see
        standins.py), and None only if one cannot be planned."""
        from ..compose import Edition
        from ..imageprep import Planned, cache_dir_for, plan_image
        from ..images import image_references
        from . import photo_bases

        widths = image_widths(layout, manifest.issue.page_size)
        cache = cache_dir_for(out_dir)
        edition = Edition(name=self.name)
        self.configure(edition, manifest, layout, padding_pages)
        # No pdf_identifier: WeasyPrint would hash every object of the file for it (a
        # tenth of writing a print PDF), and finishing sets the file identifier anyway.
        # Uncompressed: finishing re-saves the file through qpdf, which compresses every
        # stream (and gathers the small objects into object streams) once, there;
        # WeasyPrint's own deflate (level 9) was undone and redone by it.
        edition.pdf_options.update({"custom_metadata": True, "uncompressed_pdf": True})
        for path, _, _ in image_references(manifest):
            if path.suffix.lower() == ".svg":
                url = self.svg_url(path, manifest, cache)
                if url:
                    edition.image_urls[str(path)] = url
        needed = self.photo_widths(manifest, widths)
        jobs = list(needed.items())
        targets = {path: self.image_target(manifest, width) for path, width in jobs}
        bases = photo_bases(manifest, layout)
        made = prepare_sources(manifest, layout, {path: [target]
                                                  for path, target in targets.items()},
                               cache, problems, cached_only or planned, bases)
        done = [made[path][0] for path, _ in jobs]
        if planned and None in done:
            done = [prepared or plan_image(path, targets[path], cache, bases[path])
                    for (path, _), prepared in zip(jobs, done)]
        if None in done:
            return None
        for (path, width), prepared in zip(jobs, done):
            resolved = prepared.path.resolve()
            edition.image_urls[str(path)] = resolved.as_uri()
            if isinstance(prepared, Planned):
                edition.stand_ins[str(resolved)] = (prepared.width, prepared.height,
                                                    prepared.mode)
            edition.unsettled.append((path, width, prepared.path,
                                       placement_of(manifest, path)))
        if not edition.stand_ins:
            settle(edition)
        edition.roots = self.roots(manifest, cache)
        return edition

    def photo_widths(self, manifest: Manifest, widths: dict[str, float]) -> dict[Path, float]:
        """Each raster image of the issue and the largest width (mm) the layout can give it
        in this edition (one file may be placed twice: prepared for the larger)."""
        from ..images import image_references

        needed: dict[Path, float] = {}
        for path, key, _ in image_references(manifest):
            if path.suffix.lower() != ".svg":
                needed[path] = max(placed_width(manifest, path, key, widths,
                                                self.column_photo_height),
                                   needed.get(path, 0.0))
        return needed

    def finish(self, pdf: bytes, manifest: Manifest, layout: Layout, edition: Edition,
               pages: int, problems: Problems) -> bytes:
        """Finishing steps on the rendered PDF (reproducible bytes, print marks…)."""
        from ..finish import finish

        return finish(pdf, manifest, layout, edition, self.name, pages, problems)

    def preflight(self, path: Path, manifest: Manifest):
        """Judge the written file for this edition's purpose (a preflight.Report)."""
        raise NotImplementedError

    def review(self, built, manifest: Manifest) -> list[Problem]:
        """Warnings about the written file beyond its preflight (e.g. photos under ppi)."""
        return []

    def warm(self, checked, out: Path, pdfs: dict[str, Path]) -> None:
        """Fill the caches this edition's build will read (run on the other core while the
        PDFs lay out, so its own build later is quick). Nothing by default."""


def with_fit_photos(name: str, edition: Edition, manifest: Manifest, layout: Layout,
                    articles: list, out_dir: Path) -> Edition:
    """``edition`` (its photos prepared for the manifest's placements) with copies made for
    the sizes its fit (``extra_css``) sets column photos at beyond them: run across both
    columns (prepared for the span's width) or grown taller than the column photos'
    height the edition prepares for. From a column copy, a photo set twice as wide would
    print at half the wanted ppi. Cached like every copy; ``edition``'s photos are left as
    they are (the new copies' entries join the sources it shares with every copy of it)."""
    from ..imageprep import cache_dir_for, prepare_images
    from ..photocheck import PhotoSource, original_size, prepared_digest
    from ..placements import read_grows, read_spans
    from . import get_edition

    spans, grows = read_spans(edition.extra_css), read_grows(edition.extra_css)
    if not spans and not grows:
        return edition
    kind = get_edition(name)
    widths = image_widths(layout, manifest.issue.page_size)
    tall = widths.get(kind.column_photo_height, widths["column_height"])
    wanted: dict[Path, float] = {}
    queue = list(articles)
    while queue:  # the articles and the boxes set within them
        article = queue.pop()
        queue.extend(article.boxes)
        for photo in article.photos:
            path = Path(photo.file)
            if photo.placement != "column" or path.suffix.lower() == ".svg":
                continue
            if (f"art-{article.id}", path.name) in spans:
                wanted[path] = widths["span"]
            elif grows.get(path.name, 0) > tall:
                wanted[path] = max(wanted.get(path, 0.0), min(
                    widths["column"], grows[path.name] * _aspect(path)))
    if not wanted:
        return edition
    edition = copy.copy(edition)
    # (its sources stay shared: photos prepared later are added to them, see settle; an
    # entry for a fit's copy is known by that copy's content alone)
    edition.image_urls = dict(edition.image_urls)
    cache = cache_dir_for(out_dir)
    for path, width in sorted(wanted.items()):
        target = kind.image_target(manifest, width)
        with _strict_decoding():  # (its column copy decoded it already: not damaged)
            prepared = prepare_images(path, [target], cache, basis=target)[0]
        edition.image_urls[str(path)] = prepared.path.resolve().as_uri()
        edition.sources.setdefault(prepared_digest(prepared.path),
                                   PhotoSource(path, *original_size(path), width, "span"))
    return edition


def settle(edition: Edition) -> None:
    """Add the photos prepared since ``edition`` was (all are there now) to its sources:
    known in the PDF by content (two photos often share a prepared size), judged by the
    original's pixels, not by our copy's."""
    from ..photocheck import PhotoSource, original_size, prepared_digest

    waiting = []
    for path, width, made, placement in edition.unsettled:
        if not made.is_file():  # not made: an edition only laid out (the page reference
            waiting.append((path, width, made, placement))  # of a build of the print
            continue                                        # edition alone)
        edition.sources.setdefault(prepared_digest(made),
                                   PhotoSource(path, *original_size(path), width, placement))
    edition.unsettled[:] = waiting


def prepare_sources(manifest: Manifest, layout: Layout, jobs: dict[Path, list],
                    cache: Path, problems: Problems,
                    cached_only: bool = False,
                    bases: dict | None = None, workers: int = 2) -> dict[Path, list]:
    """Each photo of ``jobs`` prepared for its targets (imageprep.Target), decoded once for
    all of them, for the most demanding PDF edition's target (see photo_bases), ``workers``
    photos at a time (decoding, resizing and encoding release the interpreter lock). A
    damaged photo stops the build with the check's words. ``cached_only``: None for each
    copy not in the cache (nothing is decoded). ``bases``: photo_bases, when the caller has
    them."""
    from concurrent.futures import ThreadPoolExecutor

    from ..imageprep import prepare_images
    from ..images import DECODE_ERRORS
    from . import photo_bases

    bases = bases if bases is not None else photo_bases(manifest, layout)

    def one(job):
        try:
            return prepare_images(job[0], job[1], cache, cached_only, bases[job[0]])
        except DECODE_ERRORS as exc:  # a build's check leaves the decoding to us
            return exc

    with _strict_decoding(), ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, jobs.items()))
    _report_damaged(manifest, list(jobs), results, problems)
    return dict(zip(jobs, results))


@contextlib.contextmanager
def _strict_decoding():
    """Decode to the last byte: WeasyPrint, when imported, lets Pillow accept a truncated
    photo (it would rather print half of it); a build must report it instead."""
    from PIL import ImageFile

    relaxed = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = relaxed


def _report_damaged(manifest: Manifest, paths: list[Path], results: list,
                    problems: Problems) -> None:
    """Photos that would not decode (their result is the exception), reported as the check
    reports them (file, line, what to do); the build stops there."""
    from ..images import decode_problem, image_references, reference_location, sniff

    keys: dict[Path, tuple] = {}
    for path, key, where in image_references(manifest):
        keys.setdefault(path, (key, where))
    for path, result in zip(paths, results):
        if isinstance(result, BaseException):
            key, where = keys[path]
            with open(path, "rb") as handle:
                actual = sniff(handle.read(512))
            problems.error(f"{path.name} {decode_problem(result, actual)}", key=key,
                           **reference_location(manifest, key, where))
    problems.raise_if_errors()


def placed_width(manifest: Manifest, path: Path, key: str, widths: dict[str, float],
                 height: str = "column_height") -> float:
    """The largest width (mm) the layout can give one image reference; ``height`` names
    the column photos' height cap to prepare for (see PdfEdition.column_photo_height)."""
    placement = placement_of(manifest, path, key)
    width = widths[placement]
    if placement == "column":  # a tall photo is capped in height, so it is narrower
        width = min(width, widths.get(height, widths.get("column_height", 70.0))
                    * _aspect(path))
    elif placement == "logo":  # set by its height: a wide logo is wider than "logo"
        width = max(width, widths.get("logo_height", 0.0) * _aspect(path))
    return width


def placement_of(manifest: Manifest, path: Path, key: str = "") -> str:
    """Where the layout places an image (a key of image_widths): ``logo``, ``cover``,
    ``span`` (across the columns: top and span photos) or ``column``. ``key``: the
    manifest key naming it (see images.image_references); else the first that does; and
    ``back_logo``, a logo of a back-page section."""
    if not key:
        from ..images import image_references

        key = next((k for p, k, _ in image_references(manifest) if p == path), "")
    if ".text_images[" in key:
        return "column"  # set in the text's column, at most its width (articles.css)
    if key.startswith("back_page."):  # a logo in a back-page section (backpage.py)
        return "back_logo"
    return "logo" if "logo" in key else "cover" if key == "cover.image" else \
        _placement(manifest, path)


def _aspect(path: Path) -> float:
    """Width / height as displayed (EXIF orientations 5–8 swap the axes)."""
    from ..photocheck import original_size

    w, h = original_size(path)
    return w / h if h else 1.0


def _placement(manifest: Manifest, path: Path) -> str:
    for spec in manifest.articles:
        for photo in spec.photos:
            if Path(photo.file) == path:
                return "span" if photo.placement in ("top", "span") else "column"
    return "span"
