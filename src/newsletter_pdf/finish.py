"""Stage 6 — finishing: what is done to a rendered PDF before it is written.

* **Reproducible bytes**: WeasyPrint writes a random XMP DocumentID into PDF/X-4 files,
  names images after a hash of their URL (which holds the folders the issue and the build
  live in) and its deflate output varies; we make all three stable, so the same sources
  give byte-identical PDFs wherever they are built.
* **Print marks**: with crop marks the sheet is widened for them, the BleedBox is set back
  to the real bleed, the marks are put in registration colour, and a slug line is added.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid

import pikepdf

from . import __version__
from .errors import Problems
from .fonts import display_font
from .manifest import Manifest
from .outputs import pdf_name
from .slug import add_slug_lines


def finish(pdf: bytes, manifest: Manifest, layout, edition, name: str, pages: int,
           problems: Problems) -> bytes:
    """All finishing steps for one rendered edition."""
    pdf = _stable_document_id(pdf, manifest, name)
    pdf = _reading_direction(pdf, manifest)
    if edition.bleed_box_mm is not None:  # crop marks: a slug line beside them
        pdf = _with_slug_lines(pdf, manifest, layout, edition, name, pages, problems)
    return _deterministic(pdf, file_identifier(manifest, name), edition.bleed_box_mm)


def file_identifier(manifest: Manifest, edition: str) -> bytes:
    """The first half of the file identifier (/ID), fixed for an issue's edition: the same
    sources give byte-identical PDFs (the second half is derived from the content)."""
    return hashlib.md5(f"{manifest.slug}/{edition}".encode()).hexdigest().encode()


def _reading_direction(pdf: bytes, manifest: Manifest) -> bytes:
    """A right-to-left issue says so (/ViewerPreferences /Direction /R2L): viewers then
    show its spreads right to left, and ``impose`` binds it on the right."""
    from .language import direction

    if direction(manifest.issue.language, manifest.issue.dir) != "rtl":
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        prefs = doc.Root.get("/ViewerPreferences")
        if not isinstance(prefs, pikepdf.Dictionary):
            prefs = doc.Root.ViewerPreferences = pikepdf.Dictionary()
        prefs.Direction = pikepdf.Name.R2L
        out = io.BytesIO()
        doc.save(out, deterministic_id=True, compress_streams=False)  # (see _deterministic)
        return out.getvalue()


def _with_slug_lines(pdf, manifest, layout, edition, name, pages, problems) -> bytes:
    date = manifest.issue.date.isoformat()
    lines = [f"{pdf_name(manifest, name)} · page {n} of {pages} · {manifest.issue_label} · "
             f"{date} · {edition.output_condition} · newsletter-pdf {__version__}"
             for n in range(1, pages + 1)]
    return add_slug_lines(pdf, lines, display_font(manifest, layout), problems)


def _stable_xobject_names(doc) -> None:
    """WeasyPrint names each image after a hash of its URL, which holds the folder the
    issue and the build live in: rename them in order of appearance, so the same sources
    give the same bytes wherever they are built."""
    pattern = re.compile(rb"/(i[0-9a-f]{32}\d*)\b")
    names: dict[bytes, bytes] = {}
    streams = [page.obj.Contents for page in doc.pages
               if isinstance(page.obj.get("/Contents"), pikepdf.Stream)]
    for obj in doc.objects:  # forms (and patterns) draw images too
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form":
            streams.append(obj)
    decoded = []
    for stream in streams:
        try:
            data = stream.read_bytes()
        except pikepdf.PdfError:
            continue
        for match in pattern.finditer(data):
            names.setdefault(match.group(1), b"Im%d" % (len(names) + 1))
        decoded.append((stream, data))
    if not names:
        return
    for stream, data in decoded:
        new = pattern.sub(lambda m: b"/" + names.get(m.group(1), m.group(1)), data)
        if new != data:
            stream.write(new)
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Dictionary) and "/XObject" in obj and \
                isinstance(obj.XObject, pikepdf.Dictionary):
            table = obj.XObject
            for key in list(table.keys()):
                renamed = names.get(key[1:].encode())
                if renamed:
                    table[pikepdf.Name("/" + renamed.decode())] = table[key]
                    del table[key]


def _stable_overlay_names(doc) -> None:
    """pikepdf names each form it overlays on a page (the slug line beside the crop marks)
    at random: rename them in order of appearance, so the same sources give the same
    bytes (pages may share one resource dictionary: one mapping for the whole file)."""
    ours = re.compile(r"/(x\d+|Im\d+|i[0-9a-f]{32}\d*)")
    drawn = re.compile(rb"/([A-Za-z0-9_.\-]+)(?=\s*Do\b)")
    tables, contents = [], []
    for page in doc.pages:
        table = page.obj.get("/Resources", {}).get("/XObject")
        if isinstance(table, pikepdf.Dictionary):
            tables.append(table)
        streams = page.obj.get("/Contents")
        for stream in (list(streams) if isinstance(streams, pikepdf.Array) else [streams]):
            if isinstance(stream, pikepdf.Stream):
                contents.append((stream, stream.read_bytes()))
    odd = {str(key) for table in tables for key in table.keys() if not ours.fullmatch(key)}
    if not odd:
        return
    names: dict[str, str] = {}
    for _, data in contents:
        for match in drawn.finditer(data):
            name = "/" + match.group(1).decode()
            if name in odd and name not in names:
                names[name] = f"/Overlay{len(names) + 1}"
    for name in sorted(odd - set(names)):
        names[name] = f"/Overlay{len(names) + 1}"
    for table in tables:
        for old, new in names.items():
            if old in table:
                table[pikepdf.Name(new)] = table[old]
                del table[old]
    for stream, data in contents:
        new = drawn.sub(lambda m: names.get("/" + m.group(1).decode(),
                                            "/" + m.group(1).decode()).encode(), data)
        if new != data:
            stream.write(new)


def _marks_in_registration(page) -> None:
    """WeasyPrint draws crop marks in RGB black; a press wants them on every plate
    (registration: 100 % of each ink), and PDF/X wants no RGB."""
    xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
    for _, form in xobjects.items():
        if form.get("/Subtype") != "/Form":
            continue
        data = form.read_bytes()
        if b"BT" in data or b"0 0 0 RG" not in data:
            continue
        form.write(data.replace(b"0 0 0 rg", b"1 1 1 1 k").replace(b"0 0 0 RG", b"1 1 1 1 K"))


def _deterministic(pdf: bytes, identifier: bytes, bleed_box_mm: float | None = None) -> bytes:
    """Re-save through qpdf with deterministic compression and file identifier: WeasyPrint's
    own output varies in its deflate bytes from run to run (same content, different
    encoding), and users must be able to tell whether anything changed. qpdf keeps the
    identifier's first half (``identifier``) and derives the second from the content."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.trailer.ID = pikepdf.Array([pikepdf.String(identifier)] * 2)
        _stable_xobject_names(doc)
        _stable_overlay_names(doc)
        if bleed_box_mm is not None:  # crop marks widened the sheet: the bleed stays real
            pad = bleed_box_mm * 72 / 25.4
            for page in doc.pages:
                t = [float(v) for v in page.obj.TrimBox]
                page.obj.BleedBox = pikepdf.Array([t[0] - pad, t[1] - pad, t[2] + pad,
                                                   t[3] + pad])
                _marks_in_registration(page)
        # compressed here, once (the renderer writes its streams uncompressed)
        doc.save(out, deterministic_id=True, recompress_flate=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _stable_document_id(pdf: bytes, manifest: Manifest, edition: str) -> bytes:
    """WeasyPrint writes a random XMP DocumentID into PDF/X-4 files; make it a stable
    one derived from the issue, so the same sources give byte-identical PDFs. The XMP
    stream of PDF/X-4 is uncompressed and the UUID keeps its length, so offsets hold."""
    stable = uuid.uuid5(uuid.NAMESPACE_URL, f"newsletter-pdf:{manifest.slug}:{edition}")
    return re.sub(rb"xmp\.did:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                  b"xmp.did:" + str(stable).encode(), pdf)
