"""Print the manifest key reference (Markdown) from the dataclass docs, for README.md.

Run: .venv/bin/python scripts/manifest_reference.py > /tmp/keys.md
"""

import dataclasses
import typing

from newsletter_pdf import manifest as m
from newsletter_pdf.articles import FrontMatter


def type_name(tp) -> str:
    text = str(tp)
    for prefix in ("newsletter_pdf.manifest.", "newsletter_pdf.schema.", "typing.",
                   "datetime."):
        text = text.replace(prefix, "")
    text = text.replace("<class '", "").replace("'>", "").replace("FileRef", "path")
    return text.replace(" | None", " (optional)").replace("|", "or")


def main() -> None:
    classes = [m.Manifest, m.Newsletter, m.Colours, m.IssueInfo, m.Cover, m.Teaser,
               m.Contents, m.ArticleSpec, m.Photo, m.PullQuote, m.Signature, m.BackPage,
               m.Section, m.Contact, m.Person, m.Detail, m.Credit, m.Footer, m.PrintSettings,
               m.EmailSettings, m.Distribution, FrontMatter]
    for cls in classes:
        print(f"\n**{cls.__name__}** — {cls.__doc__.strip()}\n")
        print("| key | type | default | meaning |\n|---|---|---|---|")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if "doc" not in f.metadata:
                continue
            if f.metadata.get("required"):
                default = "required"
            elif f.default_factory is not dataclasses.MISSING:
                default = "[]"
            elif f.default not in (None, dataclasses.MISSING):
                default = f"`{f.default}`"
            else:
                default = ""
            print(f"| `{f.name}` | {type_name(hints[f.name])} | {default} | "
                  f"{f.metadata['doc']} |")


if __name__ == "__main__":
    main()
