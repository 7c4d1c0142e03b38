"""Outside layout check of any newsletter PDF: stranded headings, stray lines, lone photos,
empty columns, under-filled and blank pages, measured on the PDF's text and image positions
alone.

    python scripts/pdfcheck.py build/2011-q1/*.pdf [--min-fill 0.6]

Prints one line per finding and exits 1 if there is any (0 when the pages look designed).
The checker itself is tests/support/pdfcheck.py (it needs pdfplumber, in the test extras).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from pdfcheck import check_pdf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Check each PDF named on the command line; the exit code says whether any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", nargs="+", type=Path)
    parser.add_argument("--min-fill", type=float, default=0.6,
                        help="inside pages filled less than this fraction are reported")
    args = parser.parse_args(argv)
    failed = False
    for path in args.pdf:
        findings = check_pdf(path, min_fill=args.min_fill)
        for finding in findings:
            print(f"{path}: {finding}")
        if not findings:
            print(f"{path}: no layout findings")
        failed = failed or bool(findings)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
