"""Preflight: check any PDF for the print shop or for email, with numbers.

It catches what print shops actually reject — RGB-only output, no bleed, unembedded fonts,
low-resolution photos, page counts that cannot be saddle-stitched, no PDF/X OutputIntent —
and what makes an emailed PDF bad — too large, untagged, no title or language, photos
without alt text, no bookmarks. ``newsletter preflight`` prints a table or JSON and exits 1
when a check for the chosen purpose fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pikepdf

from .errors import Problem
from .pdfinspect import PageInfo, inspect_pdf
from .units import MM_PER_PT

MIN_BLEED_MM = 2.9  # 3 mm asked; allow rounding


@dataclass
class Check:
    """One preflight verdict."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    #: A warning that stays a warning with ``--strict`` (photos between error_ppi and
    #: min_ppi: the check fails on its own below error_ppi).
    advisory: bool = False


@dataclass
class Report:
    """Everything preflight found out about one PDF."""

    path: str
    purpose: str
    size: int
    pages: list[dict] = field(default_factory=list)
    document: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.status == "fail"]

    def as_problems(self) -> list[Problem]:
        """Failures and warnings as (warning) problems for the build report."""
        return [Problem(f"preflight ({self.purpose}) {c.name}: {c.detail}",
                        file=Path(self.path), warning=True,
                        advisory=c.advisory and c.status == "warn")
                for c in self.checks if c.status in ("warn", "fail")]

    def to_json(self) -> str:
        data = asdict(self)
        data["ok"] = self.ok
        return json.dumps(data, indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        lines = [f"{self.path} — preflight for {self.purpose}",
                 f"{len(self.pages)} pages, {self.size / 1_048_576:.2f} MB, "
                 f"PDF/X: {self.document.get('pdfx') or 'no'}, "
                 f"OutputIntent: {self.document.get('output_intent') or 'none'}, "
                 f"tagged: {'yes' if self.document.get('tagged') else 'no'}", ""]
        lines.append(f"{'page':>4}  {'trim (mm)':<15} {'bleed':>6}  {'fonts':>5}  "
                     f"{'images (ppi, colour)':<40} links")
        for page in self.pages:
            images = ", ".join(f"{i['ppi']:.0f} {i['colour_space']}" for i in page["images"])
            bleed = "-" if page["bleed_mm"] is None else f"{page['bleed_mm']:.1f}"
            lines.append(f"{page['number']:>4}  {page['trim_mm']:<15} {bleed:>6}  "
                         f"{len(page['fonts']):>5}  {images[:40]:<40} {len(page['links'])}")
        lines.append("")
        width = max(len(c.name) for c in self.checks) if self.checks else 10
        for c in self.checks:
            mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[c.status]
            lines.append(f"{mark}  {c.name:<{width}}  {c.detail}")
        lines.append("")
        lines.append("PASS" if self.ok else f"FAIL ({len(self.failures)} checks failed)")
        return "\n".join(lines)


#: Trim sizes (mm) of the paper an issue can ask for.
PAPER_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
#: The only link schemes a newsletter PDF may carry (and ``tel:`` with digits only: the
#: contact block's phone numbers, a tap to call on a phone).
SAFE_SCHEMES = ("http:", "https:", "mailto:")
MAX_SHEET_BEYOND_TRIM_MM = 30.0  # bleed, crop marks and a slug line fit in this
SAFE_TEL = re.compile(r"^tel:\+?[0-9]{3,20}$")
# Actions that run code, open or submit files, or play media: never in a newsletter.
_ACTIONS = {"/JavaScript", "/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData",
            "/ResetForm", "/Rendition", "/Movie", "/Sound", "/RichMediaExecute", "/Hide",
            "/SetOCGState", "/Trans", "/GoTo3DView"}


def preflight_pdf(path: Path | str, purpose: str = "print", budget_bytes: int | None = None,
                  min_ppi: int = 300, error_ppi: int = 150, pad_multiple: int = 4,
                  min_bleed_mm: float = MIN_BLEED_MM, page_size: str | None = None) -> Report:
    """Inspect ``path`` and judge it for ``purpose`` ('print' or 'email').

    ``page_size`` ('A4' or 'Letter', the issue's paper) makes any page of another trim
    size a failure; without it, every page must have the size of the first.
    """
    path = Path(path)
    pages = inspect_pdf(path)
    report = Report(str(path), purpose, path.stat().st_size)
    report.document = _document_facts(path)
    for page in pages:
        report.pages.append(_page_facts(page))
    odd = _safety_checks(report, path)
    _page_size_check(report, pages, page_size, odd)
    PURPOSES[purpose](report, pages, budget_bytes=budget_bytes, min_ppi=min_ppi,
                      error_ppi=error_ppi, pad_multiple=pad_multiple,
                      min_bleed_mm=min_bleed_mm)
    return report


def _for_print(report, pages, *, min_ppi, error_ppi, pad_multiple, min_bleed_mm, **_) -> None:
    _print_checks(report, pages, min_ppi, error_ppi, pad_multiple, min_bleed_mm)


def _for_email(report, pages, *, budget_bytes, error_ppi, **_) -> None:
    _email_checks(report, pages, budget_bytes or 3 * 1_048_576, error_ppi)


#: What a PDF is judged for (``preflight --for``): the checks beyond safety and page size.
PURPOSES = {"print": _for_print, "email": _for_email}


#: Limits for reading a PDF that may be hostile (a form-XObject fan-out, a flate bomb).
PDF_TIME_LIMIT = 120.0
PDF_MEMORY_MB = 1536


def preflight_bounded(path: Path | str, **options) -> Report:
    """:func:`preflight_pdf` in a limited child process, with a clear message when the
    file cannot be read, is endless to read, or needs more memory than any newsletter."""
    from .bounded import run_bounded
    from .errors import NewsletterError

    def run() -> Report:
        try:
            return preflight_pdf(path, **options)
        except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError,
                RecursionError) as exc:  # damaged files raise many kinds
            raise NewsletterError(f"{path}: cannot read this PDF ({exc})") from None

    return run_bounded(run, what=f"preflight of {path}", time_limit=PDF_TIME_LIMIT,
                       memory_mb=PDF_MEMORY_MB,
                       hint="is it a newsletter PDF? a damaged or hostile file can be endless "
                            "to read")


def _safety_checks(report: Report, path: Path) -> list[int]:
    """What no newsletter may carry, whatever the purpose: embedded files, scripts and
    other actions, annotations other than links, links outside http/https/mailto.

    Every dictionary of the file is looked at — direct ones nested in an annotation's
    array or an action's ``/Next`` chain as much as indirect objects and stream
    dictionaries — so hiding an action inside another object does not get it past.
    Returns the pages whose size is scaled or turned (``/UserUnit``, ``/Rotate``).
    """
    files, actions, annotations, links = set(), set(), set(), set()
    with pikepdf.open(path) as pdf:
        for obj in _dictionaries(pdf):
            kind = obj.get("/Type")
            if kind in ("/EmbeddedFile", "/Filespec") or "/EF" in obj:
                files.add("embedded file")
            action = obj.get("/S")
            if "/JS" in obj or action == "/JavaScript":
                actions.add("/JavaScript")
            elif action in _ACTIONS:
                actions.add(str(action))
            if "/AA" in obj:
                actions.add("/AA (automatic action)")
            if "/XFA" in obj:
                actions.add("/XFA (scripted form)")
            if kind == "/Annot" or "/Subtype" in obj and "/Rect" in obj:
                subtype = str(obj.get("/Subtype", ""))
                if subtype != "/Link":
                    annotations.add(subtype or "(no subtype)")
            if action == "/URI" or "/URI" in obj:
                uri = _text(obj.get("/URI"))
                if not (uri.strip().lower().startswith(SAFE_SCHEMES) or SAFE_TEL.match(uri)):
                    links.add(uri[:60])
        names = pdf.Root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            if "/EmbeddedFiles" in names:
                files.add("embedded file")
            if "/JavaScript" in names:
                actions.add("/JavaScript")
        opening = pdf.Root.get("/OpenAction")
        if isinstance(opening, pikepdf.Dictionary):
            kind = opening.get("/S")
            if kind is not None and kind != "/GoTo":
                actions.add(f"/OpenAction {kind}")
        odd = [n for n, page in enumerate(pdf.pages, 1)
               if float(page.obj.get("/UserUnit", 1)) != 1
               or int(page.obj.get("/Rotate", 0)) % 360 != 0]
    add = report.checks.append
    add(Check("embedded files", "fail" if files else "ok",
              "the PDF carries embedded files (attachments): a newsletter must not"
              if files else "none"))
    add(Check("actions", "fail" if actions else "ok",
              f"scripts or actions: {', '.join(sorted(actions))}" if actions else "none"))
    add(Check("annotations", "fail" if annotations else "ok",
              f"annotations other than links: {', '.join(sorted(annotations))}"
              if annotations else "links only"))
    add(Check("link targets", "fail" if links else "ok",
              f"links outside http, https and mailto: {', '.join(sorted(links))}"
              if links else "http, https and mailto only"))
    return odd


def _dictionaries(pdf: pikepdf.Pdf):
    """Every dictionary in ``pdf`` once: indirect or direct, stream dictionaries too.

    Iterative (a hostile file can nest arrays thousands deep); stream data is not read.
    """
    seen: set[tuple[int, int]] = set()
    stack = [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if getattr(obj, "is_indirect", False):
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            yield obj
            stack.extend(obj[key] for key in obj.keys())


def _text(value) -> str:
    if isinstance(value, pikepdf.String):
        return bytes(value).decode("latin-1")
    return str(value) if value is not None else ""


def _page_size_check(report: Report, pages: list[PageInfo], page_size: str | None,
                     odd: list[int] = ()) -> None:
    def size_mm(box) -> tuple[float, float]:
        return ((box[2] - box[0]) * MM_PER_PT, (box[3] - box[1]) * MM_PER_PT)

    def trim_mm(page: PageInfo) -> tuple[float, float]:
        return size_mm(page.trim_box or page.media_box)

    if not pages:
        return
    want = PAPER_MM.get(page_size or "") or trim_mm(pages[0])
    # The sheet may exceed the trim by the bleed and crop marks, never by more.
    margin = 2 * MAX_SHEET_BEYOND_TRIM_MM
    wrong = [p.number for p in pages
             if abs(trim_mm(p)[0] - want[0]) > 1 or abs(trim_mm(p)[1] - want[1]) > 1
             or size_mm(p.media_box)[0] > want[0] + margin
             or size_mm(p.media_box)[1] > want[1] + margin or p.number in odd]
    name = page_size or f"{want[0]:.0f}×{want[1]:.0f} mm (page 1)"
    report.checks.append(Check(
        "page size", "fail" if wrong else "ok",
        f"pages {_ranges(wrong)} are not {name} (or are scaled or turned)" if wrong
        else f"every page {name}"))


def _page_facts(page: PageInfo) -> dict:
    trim = page.trim_box or page.media_box
    bleed = None
    if page.bleed_box and page.trim_box:
        bleed = min(abs(page.bleed_box[i] - page.trim_box[i]) for i in range(4)) * MM_PER_PT
    return {
        "number": page.number,
        "media_box": page.media_box, "trim_box": page.trim_box, "bleed_box": page.bleed_box,
        "trim_mm": f"{(trim[2] - trim[0]) * MM_PER_PT:.1f}×{(trim[3] - trim[1]) * MM_PER_PT:.1f}",
        "bleed_mm": bleed,
        "fonts": [asdict(f) for f in page.fonts],
        "images": [{"name": i.name, "pixels": f"{i.pixel_width}×{i.pixel_height}",
                    "placed_mm": f"{i.width_pt * MM_PER_PT:.0f}×{i.height_pt * MM_PER_PT:.0f}",
                    "ppi": round(i.ppi, 1), "colour_space": i.colour_space}
                   for i in page.images],
        "text_colour_spaces": sorted(page.text_colour_spaces),
        "colour_spaces": sorted(page.colour_spaces),
        "links": page.links,
    }


def _document_facts(path: Path) -> dict:
    facts: dict = {}
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        facts["version"] = str(pdf.pdf_version)
        info = pdf.docinfo
        facts["title"] = str(info.get("/Title", "")) or None
        facts["author"] = str(info.get("/Author", "")) or None
        facts["lang"] = str(root.get("/Lang", "")) or None
        intents = root.get("/OutputIntents") or []
        facts["output_intent"] = None
        for intent in intents:
            profile = intent.get("/DestOutputProfile")
            n = int(profile.get("/N", 0)) if profile is not None else 0
            facts["output_intent"] = (f"{str(intent.get('/S', '')).lstrip('/')} "
                                      f"{str(intent.get('/OutputConditionIdentifier', ''))} "
                                      f"({ {1: 'Gray', 3: 'RGB', 4: 'CMYK'}.get(n, n)} profile)")
            facts["output_intent_components"] = n
        meta = pdf.open_metadata()
        facts["pdfx"] = meta.get("pdfxid:GTS_PDFXVersion") or str(
            info.get("/GTS_PDFXVersion", "")) or None
        facts["pdfa"] = meta.get("pdfaid:part")
        facts["pdfua"] = meta.get("pdfuaid:part")
        tree = root.get("/StructTreeRoot")
        facts["tagged"] = tree is not None and bool(
            root.get("/MarkInfo", {}).get("/Marked", False))
        figures, alts = _figures(tree) if tree is not None else (0, 0)
        facts["figures"] = figures
        facts["figures_with_alt"] = alts
        with pdf.open_outline() as outline:
            facts["bookmarks"] = len(list(outline.root))
        facts["embedded_files"] = len(pdf.attachments)
    return facts


def _figures(tree) -> tuple[int, int]:
    figures = alts = 0
    stack = [tree]
    seen = set()
    while stack:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            continue
        key = node.objgen
        if key != (0, 0):
            if key in seen:
                continue
            seen.add(key)
        if node.get("/S") == "/Figure":
            figures += 1
            if str(node.get("/Alt", "")).strip():
                alts += 1
        kids = node.get("/K")
        if kids is not None:
            stack.append(kids)
    return figures, alts


def _safe_area_check(report: Report, pages: list[PageInfo], safe_mm: float) -> None:
    """Text must stay ``safe_mm`` inside the trim: trimming wanders by a millimetre or two."""
    from .pdfinspect import text_origins

    margin = safe_mm / MM_PER_PT

    def unsafe(page, x, y) -> bool:
        trim = page.trim_box or page.media_box
        bleed = page.bleed_box or trim
        if x < bleed[0] or y < bleed[1] or x > bleed[2] or y > bleed[3]:
            return False  # beyond the bleed: slug lines and marks, cut away by design
        # (run widths are not known exactly: the right edge is judged by the origin)
        return (x < trim[0] + margin - 0.5 or y < trim[1] + margin or
                y > trim[3] - margin or x > trim[2] - margin)

    # Where each text operator starts (read with the rest of the page by qpdf's parser,
    # the text and graphics state followed): exact where pypdf's visitor forgets the
    # page's transform.
    spots, unread = {}, []
    for page in pages:
        if page.text_unread:
            unread.append(page)  # qpdf cannot read it: judged by what pypdf reads
            continue
        spot = next(((x, y) for x, y in page.text_positions if unsafe(page, x, y)), None)
        if spot is not None:
            spots[page.number] = spot
    offenders = []
    runs = text_origins(report.path) if spots or unread else []
    for page in unread:
        spot = next(((x, y) for x, y, _w, text in runs[page.number - 1]
                     if text.strip() and unsafe(page, x, y)), None)
        if spot is not None:
            spots[page.number] = spot
    if spots:  # only now read the text (far slower) to say which words
        for number, (x, y) in sorted(spots.items()):
            words = next((text.strip()[:30] for rx, ry, _w, text in runs[number - 1]
                          if abs(rx - x) < 0.01 and abs(ry - y) < 0.01 and text.strip()),
                         None)
            offenders.append((number, repr(words) if words else
                              f"text at {x * MM_PER_PT:.0f} mm, {y * MM_PER_PT:.0f} mm from "
                              "the lower left corner"))
    if offenders:
        report.checks.append(Check("safe area", "fail", "text closer than "
                                   f"{safe_mm:.0f} mm to the trim on " + "; ".join(
                                       f"page {n} ({t})" for n, t in offenders)))
    else:
        report.checks.append(Check("safe area", "ok",
                                   f"all text at least {safe_mm:.0f} mm inside the trim"))


def _print_checks(report: Report, pages: list[PageInfo], min_ppi: int, error_ppi: int,
                  pad_multiple: int, min_bleed_mm: float, safe_mm: float = 5.0) -> None:
    add = report.checks.append
    doc = report.document
    if doc.get("output_intent_components") == 4:
        add(Check("output intent", "ok", doc["output_intent"]))
    else:
        add(Check("output intent", "fail", "no CMYK OutputIntent: not a PDF/X file for "
                  "press; build the print edition"))
    add(Check("PDF/X", "ok" if doc.get("pdfx") else "fail",
              doc.get("pdfx") or "no GTS_PDFXVersion marker"))
    no_bleed = [p.number for p in pages if not p.bleed_box or not p.trim_box]
    thin = [p for p in report.pages if p["bleed_mm"] is not None and
            p["bleed_mm"] < min_bleed_mm]
    if no_bleed:
        add(Check("bleed", "fail", f"no TrimBox/BleedBox on pages {_ranges(no_bleed)}: the "
                  f"shop needs {min_bleed_mm + 0.1:.0f} mm bleed"))
    elif thin:
        add(Check("bleed", "fail", f"bleed {thin[0]['bleed_mm']:.1f} mm on pages "
                  f"{_ranges([p['number'] for p in thin])}; at least "
                  f"{min_bleed_mm + 0.1:.0f} mm needed"))
    else:
        bleeds = [p["bleed_mm"] for p in report.pages]
        add(Check("bleed", "ok", f"{min(bleeds):.1f} mm on every page"))
    _font_check(report, pages)
    # judged to the whole ppi, as printed: a copy 0.03 ppi short of 300 prints at 300
    low = [(p.number, i) for p in pages for i in p.images if round(i.ppi) < min_ppi]
    very_low = [(n, i) for n, i in low if round(i.ppi) < error_ppi]
    if very_low:
        add(Check("image resolution", "fail", "; ".join(
            f"page {n}: {i.pixel_width}×{i.pixel_height} px at {i.ppi:.0f} ppi" +
            f" (prints sharp only up to {i.pixel_width / min_ppi * 25.4:.0f} mm wide)"
            for n, i in very_low)))
    elif low:
        add(Check("image resolution", "warn", "; ".join(
            f"page {n}: {i.ppi:.0f} ppi (largest size at {min_ppi} ppi: "
            f"{i.pixel_width / min_ppi * 25.4:.0f} mm wide)" for n, i in low),
            advisory=True))
    else:
        ppis = [i.ppi for p in pages for i in p.images]
        add(Check("image resolution", "ok",
                  f"lowest {min(ppis):.0f} ppi" if ppis else "no images"))
    rgb = sorted({n for n in range(1, len(pages) + 1)
                  for cs in pages[n - 1].colour_spaces if "RGB" in cs})
    if rgb:
        images = [f"page {n}: a {i.pixel_width}×{i.pixel_height} px image"
                  for n in rgb for i in pages[n - 1].images if "RGB" in i.colour_space]
        add(Check("colour", "fail", f"RGB colour on pages {_ranges(rgb)}"
                  + (f" ({'; '.join(images)})" if images else "")
                  + ": a print shop wants CMYK; newsletter-pdf's print edition converts every "
                  "photo and colour, so a file it made with RGB in it is a bug to report"))
    else:
        add(Check("colour", "ok", "CMYK and grey only"))
    text_spaces = {cs for p in pages for cs in p.text_colour_spaces}
    add(Check("text colour", "ok" if text_spaces <= {"DeviceCMYK", "DeviceGray"} else "fail",
              ", ".join(sorted(text_spaces)) or "no text"))
    _safe_area_check(report, pages, safe_mm)
    n = len(pages)
    if pad_multiple > 1 and n % pad_multiple:
        add(Check("page count", "fail", f"{n} pages: saddle stitching needs a multiple of "
                  f"{pad_multiple}"))
    else:
        add(Check("page count", "ok", f"{n} pages"))


def _email_checks(report: Report, pages: list[PageInfo], budget: int, error_ppi: int) -> None:
    add = report.checks.append
    doc = report.document
    size = report.size
    add(Check("file size", "ok" if size <= budget else "fail",
              f"{size / 1_048_576:.2f} MB of a {budget / 1_048_576:.1f} MB budget"))
    add(Check("tagged (PDF/UA)", "ok" if doc.get("tagged") else "fail",
              f"PDF/UA-{doc['pdfua']}" if doc.get("pdfua") else
              ("structure tree present" if doc.get("tagged") else "no structure tree")))
    add(Check("title", "ok" if doc.get("title") else "fail", doc.get("title") or "missing"))
    add(Check("language", "ok" if doc.get("lang") else "fail", doc.get("lang") or "missing"))
    add(Check("bookmarks", "ok" if doc.get("bookmarks") else "warn",
              f"{doc.get('bookmarks', 0)} entries"))
    images = sum(len(p.images) for p in pages)
    if doc.get("tagged"):
        missing = doc["figures"] - doc["figures_with_alt"]
        add(Check("alt text", "ok" if not missing and doc["figures"] else "warn",
                  f"{doc['figures_with_alt']} of {doc['figures']} figures have alt text "
                  f"({images} images drawn)"))
    links = sum(len(p.links) for p in pages)
    add(Check("links", "ok" if links else "warn", f"{links} link annotations"))
    _font_check(report, pages)
    low = [i for p in pages for i in p.images if i.ppi < 100]
    add(Check("image resolution", "warn" if low else "ok",
              f"{len(low)} images under 100 ppi" if low else "all images ≥ 100 ppi"))


def _font_check(report: Report, pages: list[PageInfo]) -> None:
    fonts = {f.name: f for p in pages for f in p.fonts}
    missing = sorted(name for name, f in fonts.items() if not f.embedded)
    if missing:
        report.checks.append(Check("fonts", "fail", "not embedded: " + ", ".join(missing)))
    else:
        subset = sum(1 for f in fonts.values() if f.subset)
        report.checks.append(Check("fonts", "ok", f"{len(fonts)} fonts embedded "
                                   f"({subset} subset)"))


def _ranges(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(f"{start}" if start == n else f"{start}–{n}")
            start = None
    return ", ".join(parts)
