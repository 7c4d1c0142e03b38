"""Language tags in the tagged PDF: ``/Lang`` on the structure element of every element
that carries a ``lang`` attribute (each article, box, teaser and contents entry).

WeasyPrint 70.0 writes the document's ``/Lang`` (from ``<html lang>``) but none on
structure elements, so a screen reader reads an Arabic article with English rules. Its
tagger builds one structure element per box in ``weasyprint.pdf.tags._build_box_tree`` (a
generator, recursive through its module-level name); we wrap it to add ``/Lang`` to the
elements made for a box whose element has ``lang``. Children inherit the language through
the structure tree (PDF 32000-1, 14.9.2). Another WeasyPrint version without that function
is left alone (no per-article tags, the document's still right) and :func:`install` says so.
"""

from __future__ import annotations


def install() -> str | None:
    """Wrap the tagger once per process; returns a note when it cannot."""
    try:
        import pydyf
        from weasyprint.pdf import tags
    except ImportError as exc:  # pragma: no cover - WeasyPrint is a dependency
        return f"cannot tag languages: {exc}"
    original = getattr(tags, "_build_box_tree", None)
    if original is None:
        return "this WeasyPrint has no _build_box_tree: articles get no /Lang of their own"
    if getattr(original, "newsletter_lang", False):
        return None

    def build_box_tree(box, parent, pdf, *args, **kwargs):
        element = getattr(box, "element", None)
        lang = element.get("lang") if element is not None and hasattr(element, "get") else None
        for struct in original(box, parent, pdf, *args, **kwargs):
            if lang and "Lang" not in struct:
                struct["Lang"] = pydyf.String(lang)
            yield struct

    build_box_tree.newsletter_lang = True
    tags._build_box_tree = build_box_tree
    return None
