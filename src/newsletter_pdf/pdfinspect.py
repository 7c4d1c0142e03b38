"""Reading facts back out of a PDF: boxes, fonts, placed images and their ppi, links, text.

Used by the preflight and by the tests, so both judge the real file rather than our
intentions. Works on any PDF (pikepdf/qpdf), not only ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from .units import PT_PER_INCH


@dataclass
class PlacedImage:
    """One image drawn on a page: its pixels, placed size and effective resolution."""

    page: int  # 1-based
    name: str
    pixel_width: int
    pixel_height: int
    width_pt: float
    height_pt: float
    colour_space: str
    bits: int
    filter: str
    x_pt: float = 0.0
    y_pt: float = 0.0
    has_alt: bool = False
    objgen: tuple[int, int] = (0, 0)  # the image XObject (object, generation): its identity

    @property
    def ppi(self) -> float:
        """Effective ppi: the lower of the two axes (pixels per placed inch)."""
        if self.width_pt <= 0 or self.height_pt <= 0:
            return float("inf")
        return min(self.pixel_width / (self.width_pt / PT_PER_INCH),
                   self.pixel_height / (self.height_pt / PT_PER_INCH))


@dataclass
class FontInfo:
    """A font used on a page."""

    name: str
    subtype: str
    embedded: bool
    subset: bool


@dataclass
class PageInfo:
    number: int
    media_box: list[float]
    trim_box: list[float] | None
    bleed_box: list[float] | None
    images: list[PlacedImage] = field(default_factory=list)
    fonts: list[FontInfo] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # URIs and internal targets
    text_colour_spaces: set = field(default_factory=set)  # fill spaces text was drawn in
    colour_spaces: set = field(default_factory=set)  # every fill/stroke space used
    # where every text-showing operator starts (x, y in points), forms included; every run
    # text_origins reports starts at one of them. text_unread: a stream could not be parsed
    text_positions: list[tuple[float, float]] = field(default_factory=list)
    text_unread: bool = False


def _matrix_mul(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _box(page: pikepdf.Page, name: str) -> list[float] | None:
    value = page.obj.get(name)
    return [float(v) for v in value] if value is not None else None


def _colour_space(image) -> str:
    cs = image.get("/ColorSpace")
    if cs is None:
        return "none (mask)" if image.get("/ImageMask") else "unknown"
    if isinstance(cs, pikepdf.Array):
        kind = str(cs[0])
        if kind == "/ICCBased":
            n = int(cs[1].get("/N", 3))
            return {1: "ICCBased Gray", 3: "ICCBased RGB", 4: "ICCBased CMYK"}.get(n, kind)
        if kind == "/Indexed":
            return f"Indexed {_colour_space({'/ColorSpace': cs[1]})}"
        return kind.lstrip("/")
    return str(cs).lstrip("/")


def _font_infos(resources, seen: dict) -> None:
    fonts = resources.get("/Font") if resources is not None else None
    if not fonts:
        return
    for _, font in fonts.items():
        name = str(font.get("/BaseFont", "?")).lstrip("/")
        subtype = str(font.get("/Subtype", "")).lstrip("/")
        descriptor = font.get("/FontDescriptor")
        if subtype == "Type0":
            descendant = font["/DescendantFonts"][0]
            descriptor = descendant.get("/FontDescriptor")
        embedded = descriptor is not None and any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if subtype == "Type3":
            embedded = True
        seen[name] = FontInfo(name, subtype, embedded,
                              len(name) > 7 and name[6] == "+" and name[:6].isupper())


COLOUR_OPS = {"rg": "DeviceRGB", "RG": "DeviceRGB", "k": "DeviceCMYK", "K": "DeviceCMYK",
              "g": "DeviceGray", "G": "DeviceGray"}
TEXT_OPS = {"Tj", "TJ", "'", '"'}


def _named_space(resources, name: str) -> str:
    if name in ("/DeviceRGB", "/DeviceCMYK", "/DeviceGray", "/Pattern"):
        return name.lstrip("/")
    spaces = resources.get("/ColorSpace") if resources is not None else None
    cs = spaces.get(name) if spaces is not None else None
    if cs is None:
        return name.lstrip("/")
    return _colour_space({"/ColorSpace": cs})


def _text_state(op: str, operands, tm, line, leading):
    """The text matrix, text-line matrix and leading after ``op`` (the operators that
    move where the next text starts; a show operator leaves it for the next to move)."""
    if op == "BT":
        tm = line = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    elif op == "Tm" and len(operands) == 6:
        tm = line = tuple(float(v) for v in operands)
    elif op in ("Td", "TD") and len(operands) == 2:
        x, y = float(operands[0]), float(operands[1])
        leading = -y if op == "TD" else leading
        tm = line = _matrix_mul((1, 0, 0, 1, x, y), line)
    elif op == "TL" and operands:
        leading = float(operands[0])
    if op in ("T*", "'", '"'):
        tm = line = _matrix_mul((1, 0, 0, 1, 0, -leading), line)
    return tm, line, leading


def _walk(content_owner, resources, ctm, page_no: int, out: list[PlacedImage],
          fonts: dict, depth: int = 0, page: PageInfo | None = None) -> None:
    if depth > 12:
        return
    fill = "DeviceGray"  # the PDF default fill colour space
    _font_infos(resources, fonts)
    xobjects = resources.get("/XObject") if resources is not None else None
    stack = []
    tm = line = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)  # text and text-line matrices
    leading = 0.0
    try:
        instructions = pikepdf.parse_content_stream(content_owner)
    except pikepdf.PdfError:
        if page is not None:
            page.text_unread = True
        return
    for operands, operator in instructions:
        op = str(operator)
        if page is not None:
            tm, line, leading = _text_state(op, operands, tm, line, leading)
            if op in TEXT_OPS:
                e, f = tm[4], tm[5]
                page.text_positions.append((e * ctm[0] + f * ctm[2] + ctm[4],
                                            e * ctm[1] + f * ctm[3] + ctm[5]))
            if op in COLOUR_OPS:
                page.colour_spaces.add(COLOUR_OPS[op])
                if op in ("rg", "k", "g"):
                    fill = COLOUR_OPS[op]
            elif op in ("cs", "CS") and operands:
                space = _named_space(resources, str(operands[0]))
                page.colour_spaces.add(space)
                if op == "cs":
                    fill = space
            elif op in TEXT_OPS:
                page.text_colour_spaces.add(fill)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm":
            ctm = _matrix_mul(tuple(float(v) for v in operands), ctm)
        elif op == "Do" and xobjects is not None:
            name = str(operands[0])
            xobject = xobjects.get(name)
            if xobject is None:
                continue
            subtype = xobject.get("/Subtype")
            if subtype == "/Image":
                a, b, c, d, e, f = ctm
                filt = xobject.get("/Filter")
                if isinstance(filt, pikepdf.Array):
                    filt = filt[0] if len(filt) else None
                out.append(PlacedImage(
                    page=page_no, name=name, pixel_width=int(xobject.get("/Width", 0)),
                    pixel_height=int(xobject.get("/Height", 0)),
                    width_pt=math.hypot(a, b), height_pt=math.hypot(c, d),
                    colour_space=_colour_space(xobject),
                    bits=int(xobject.get("/BitsPerComponent", 0)),
                    filter=str(filt).lstrip("/") if filt is not None else "none",
                    x_pt=e, y_pt=f, objgen=xobject.objgen))
            elif subtype == "/Form":
                matrix = tuple(float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                _walk(xobject, xobject.get("/Resources", resources),
                      _matrix_mul(matrix, ctm), page_no, out, fonts, depth + 1, page)
        elif op == "sh" or op == "BI":
            continue


def inspect_pdf(path: Path | str) -> list[PageInfo]:
    """Boxes, fonts, placed images and links of every page."""
    pages: list[PageInfo] = []
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            info = PageInfo(number, _box(page, "/MediaBox"), _box(page, "/TrimBox"),
                            _box(page, "/BleedBox"))
            fonts: dict[str, FontInfo] = {}
            _walk(page.obj, page.obj.get("/Resources"), (1, 0, 0, 1, 0, 0), number,
                  info.images, fonts, page=info)
            for img in info.images:
                info.colour_spaces.add(img.colour_space)
            info.fonts = list(fonts.values())
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Link":
                    continue
                action = annot.get("/A")
                if action is not None and action.get("/URI") is not None:
                    info.links.append(str(action["/URI"]))
                elif annot.get("/Dest") is not None or (action is not None and
                                                         action.get("/D") is not None):
                    info.links.append("#internal")
            pages.append(info)
    return pages


def link_targets(path: Path | str) -> list[tuple[int, int]]:
    """Internal links as (page with the link, 1-based target page)."""
    out = []
    with pikepdf.open(path) as pdf:
        index = {page.objgen: i for i, page in enumerate(pdf.pages, start=1)}
        names = {}
        root_names = pdf.Root.get("/Names")
        if root_names is not None and root_names.get("/Dests") is not None:
            tree = pikepdf.NameTree(root_names.Dests)
            names = {k: v for k, v in tree.items()}
        for number, page in enumerate(pdf.pages, start=1):
            for annot in page.obj.get("/Annots", []):
                dest = annot.get("/Dest")
                action = annot.get("/A")
                if dest is None and action is not None:
                    dest = action.get("/D")
                if dest is None:
                    continue
                if isinstance(dest, (pikepdf.String, pikepdf.Name)):
                    dest = names.get(str(dest).lstrip("/"))
                    if isinstance(dest, pikepdf.Dictionary):
                        dest = dest.get("/D")
                if isinstance(dest, pikepdf.Array) and len(dest):
                    out.append((number, index.get(dest[0].objgen, 0)))
    return out


def outline_titles(path: Path | str) -> list[tuple[str, int]]:
    """Top-level bookmarks as (title, 1-based page)."""
    with pikepdf.open(path) as pdf:
        index = {page.objgen: i for i, page in enumerate(pdf.pages, start=1)}
        result = []
        with pdf.open_outline() as outline:
            for item in outline.root:
                page = 0
                dest = item.destination
                if isinstance(dest, pikepdf.Array) and len(dest):
                    page = index.get(dest[0].objgen, 0)
                result.append((item.title, page))
        return result


def text_origins(path) -> list[list[tuple[float, float, float, str]]]:
    """Per page: (x, y, estimated width, text) of every text run, in PDF points."""
    import pypdf

    reader = pypdf.PdfReader(path)
    pages = []
    for page in reader.pages:
        runs: list[tuple[float, float, float, str]] = []

        def visit(text, cm, tm, font, size, runs=runs):
            if not text.strip():
                return
            a, b, c, d, e, f = tm
            A, B, C, D, E, F = cm
            x = e * A + f * C + E
            y = e * B + f * D + F
            scale = (abs(a * A) or 1) * (size or 1)
            runs.append((x, y, 0.5 * scale * len(text.rstrip()), text))

        try:
            page.extract_text(visitor_text=visit)
        except Exception:  # a damaged text layer must not stop the preflight
            pass
        pages.append(runs)
    return pages
