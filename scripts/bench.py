#!/usr/bin/env python3
"""Build speed and memory, each figure as a ratio to a yardstick measured in the same run.

    .venv/bin/python scripts/bench.py [--yardstick PATH] [--runs 3] [--skip-100]

The yardstick is raw WeasyPrint laying out the reference newsletter's text in plain two
columns with three photos and writing it — code that does not depend on ours — so the
ratios compare across machines and across busy and idle moments (default path:
``../shared/tools/yardstick.py`` beside the project). Each figure is the median of
``--runs`` runs; each sample is paired with a yardstick run just before it, and the ratio
is the median of the sample/yardstick ratios (the machine's speed drifts within a run).

Figures (targets from the speed issue in brackets):

1. cold build of the sample, both editions with preflight, empty output folder  [≤ 6×]
   (and, without a target, the same with the web edition too)
2. rebuild after one article gained a sentence                                   [≤ 3×]
3. preview: a saved article's pages updated (the quick view)                     [≤ 0.6×]
4. a 100-page issue (the sample's articles eleven times over), cold: time per page as
   a ratio to the sample's, the peak memory of any build process, and preflight time
   per page as a ratio to the sample's (linear: about 1)                         [≤ 1.2×, ≤ 400 MB]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "issues" / "2011-q1"
PY = sys.executable


def yardstick(path: Path) -> float:
    out = subprocess.run([PY, str(path), "1"], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


#: The speed targets were set for the two PDF editions (the web edition came later and is
#: measured on its own line).
PDFS = ("--edition", "print", "--edition", "email")


def build(issue: Path, out: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the build and its children."""
    start = time.perf_counter()
    subprocess.run([PY, "-m", "newsletter_pdf.cli", "build", str(issue), "-o", str(out),
                    *(extra or PDFS)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pages_of(out: Path, edition: str) -> int:
    import pikepdf

    [pdf] = out.glob(f"*-{edition}.pdf")
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def preflight_seconds(out: Path) -> float:
    [pdf] = out.glob("*-print.pdf")
    start = time.perf_counter()
    subprocess.run([PY, "-m", "newsletter_pdf.cli", "preflight", str(pdf)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def hundred_pages(target: Path, copies: int = 11) -> Path:
    """The sample with its articles repeated ``copies`` times (about 100 pages)."""
    shutil.copytree(SAMPLE, target)
    manifest = yaml.safe_load((target / "issue.yaml").read_text(encoding="utf-8"))
    originals = manifest["articles"]
    articles = list(originals)
    for k in range(1, copies):
        for entry in originals:
            entry = dict(entry)
            source = target / entry["file"]
            copy = source.with_name(f"{k:02d}-{source.name}")
            shutil.copy(source, copy)
            entry["file"] = str(copy.relative_to(target))
            if "id" in entry:
                entry["id"] = f"{entry['id']}-{k}"
            if "within" in entry:
                entry["within"] = f"{entry['within']}-{k}"
            articles.append(entry)
    manifest["articles"] = articles
    (target / "issue.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True),
                                       encoding="utf-8")
    return target


def preview_seconds(issue: Path, out: Path, runs: int) -> list[float]:
    sys.path.insert(0, str(ROOT / "src"))
    from newsletter_pdf.preview import PreviewSession

    session = PreviewSession(issue, out)
    session.issue_view()
    article = issue / "articles" / "03-displacement.md"
    times = []
    for i in range(runs):
        article.write_text(article.read_text(encoding="utf-8") + f"\nPreview sentence {i}.\n",
                           encoding="utf-8")
        start = time.perf_counter()
        session.article_view(article)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--yardstick", type=Path,
                        default=ROOT.parent / "shared" / "tools" / "yardstick.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-100", action="store_true", help="skip the 100-page issue")
    args = parser.parse_args()
    if not args.yardstick.is_file():
        sys.exit(f"no yardstick at {args.yardstick}; pass --yardstick PATH")
    # The pipeline's bytecode, as an installed package has it (make bench does the same): an
    # editable install where PYTHONDONTWRITEBYTECODE is set would compile it on every build.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True,
                   stdout=subprocess.DEVNULL)
    # Each measured sample is paired with a yardstick run just before it: the machine's
    # speed drifts (other tenants), so each figure is the median of sample/yardstick ratios.
    sticks: list[float] = []
    pairs: dict[str, list[tuple[float, float]]] = {"cold": [], "every": [], "edits": [],
                                                    "quick": []}

    def paired(name: str, seconds: float, stick: float) -> None:
        sticks.append(stick)
        pairs[name].append((seconds, stick))

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        for run in range(args.runs):
            stick = yardstick(args.yardstick)
            paired("cold", build(SAMPLE, tmp / f"cold{run}")[0], stick)
            stick = yardstick(args.yardstick)
            paired("every", build(SAMPLE, tmp / f"every{run}", "--edition", "all")[0], stick)
        edit_issue = tmp / "edited"
        shutil.copytree(SAMPLE, edit_issue)
        build(edit_issue, tmp / "edits")
        article = edit_issue / "articles" / "03-displacement.md"
        for run in range(args.runs):
            article.write_text(article.read_text(encoding="utf-8") +
                               f"\nOne more sentence, number {run}.\n", encoding="utf-8")
            stick = yardstick(args.yardstick)
            paired("edits", build(edit_issue, tmp / "edits")[0], stick)
        preview_issue = tmp / "preview-issue"
        shutil.copytree(SAMPLE, preview_issue)
        for seconds in preview_seconds(preview_issue, tmp / "preview", args.runs):
            paired("quick", seconds, yardstick(args.yardstick))
        cold = [seconds for seconds, _ in pairs["cold"]]
        print(f"yardstick (raw WeasyPrint, reference text): median {statistics.median(sticks):.3f}"
              f" s of {len(sticks)} (from {min(sticks):.3f} to {max(sticks):.3f}), one run "
              "just before each sample below")
        rows = [("cold build, sample, both editions + preflight", "cold", 6.0),
                ("cold build, sample, print + email + web", "every", None),
                ("rebuild after one article gained a sentence", "edits", 3.0),
                ("preview: saved article -> its pages", "quick", 0.6)]
        for name, key, target in rows:
            median = statistics.median(seconds for seconds, _ in pairs[key])
            ratio = statistics.median(seconds / stick for seconds, stick in pairs[key])
            verdict = "" if target is None else \
                f"(target <= {target}x) {'ok' if ratio <= target else 'OVER'}"
            print(f"{name:<48} {median:6.2f} s  {ratio:5.2f}x  {verdict}")
        if not args.skip_100:
            sample_pages = pages_of(tmp / "cold0", "print")
            sample_per_page = statistics.median(cold) / sample_pages
            sample_preflight = preflight_seconds(tmp / "cold0") / sample_pages
            big = hundred_pages(tmp / "hundred")
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            seconds, peak = build(big, tmp / "hundred-out")
            pages = pages_of(tmp / "hundred-out", "print")
            per_page = seconds / pages
            big_preflight = preflight_seconds(tmp / "hundred-out") / pages
            print(f"100-page issue: {pages} pages in {seconds:.1f} s, {per_page:.3f} s a page "
                  f"= {per_page / sample_per_page:.2f}x the sample's {sample_per_page:.3f} "
                  f"(target <= 1.2x)")
            print(f"peak memory of a build process: {max(peak, before):.0f} MB "
                  "(target <= 400 MB; the largest of every build run so far)")
            print(f"preflight per page: {big_preflight * 1000:.0f} ms at {pages} pages, "
                  f"{sample_preflight * 1000:.0f} ms at {sample_pages} "
                  f"({big_preflight / sample_preflight:.2f}x: linear is about 1)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
