"""Contact sheet of an issue's pages for the README: python scripts/preview.py PDF_OR_DIR OUT.png

Uses pdftoppm (poppler-utils) to render each page, then Pillow to lay them out in a grid.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image


def main(source: str, out: str, columns: int = 5, dpi: int = 40) -> None:
    path = Path(source)
    if path.is_dir():
        candidates = sorted(path.glob("*-email.pdf")) or sorted(path.glob("*.pdf"))
        path = candidates[0]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(path), f"{tmp}/p"], check=True)
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda f: int(f.stem.split("-")[1]))
        pages = [Image.open(f).convert("RGB") for f in files]
        w, h = pages[0].size
        gap = 12
        rows = (len(pages) + columns - 1) // columns
        sheet = Image.new("RGB", (columns * (w + gap) + gap, rows * (h + gap) + gap),
                          (235, 235, 235))
        for i, page in enumerate(pages):
            sheet.paste(page, (gap + (i % columns) * (w + gap), gap + (i // columns) * (h + gap)))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, optimize=True)
    print(f"{out}: {len(pages)} pages from {path}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
