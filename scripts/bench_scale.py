"""Scale without falling over: build three oversized issues and report peak memory.

    python scripts/bench_scale.py                  # all three cases
    python scripts/bench_scale.py --case photos    # one case (long | photos | huge)
    python scripts/bench_scale.py --pages 30       # a shorter "long" article

* long   — one article of about 300 pages of two-column text (``--pages``);
* photos — 200 photos (2,000 × 1,333 px JPEGs) over 20 articles;
* huge   — a 60-megapixel photo (9,500 × 6,333 px) as cover and article photo.

Each case runs in a fresh worker process (``--worker``) so its peak is its own. Reported:
wall time, the worker's peak RSS (manifest, articles, image preparation) and the render
child's peak RSS (WeasyPrint; the render runs in a forked child), from
``resource.getrusage``, plus the outcome: pages written or the clean error message.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PHOTO = ROOT / "issues" / "2011-q1" / "photos" / "road-storm.jpg"
WORDS = ("the mission continued its work across the governorates supporting displaced "
         "families with shelter water health and livelihood programmes while partners "
         "reported steady progress").split()
HEAD = """\
newsletter: {title: Scale Test, organisation: Bench Org}
issue: {date: 2024-04-15, period: April – June 2024}
"""


def paragraph(rng: random.Random, words: int = 120) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def make_long(folder: Path, pages: int) -> None:
    rng = random.Random(1)
    # about 900 words a two-column A4 page at 9.5 pt
    paras = [paragraph(rng) for _ in range(pages * 900 // 120)]
    body = "\n\n".join(p if i % 12 else f"## Part {i // 12 + 1}\n\n{p}"
                       for i, p in enumerate(paras))
    (folder / "articles" / "long.md").write_text(f"---\ntitle: A Very Long Report\n---\n\n"
                                                 f"{body}\n")
    (folder / "issue.yaml").write_text(HEAD + "articles:\n  - file: articles/long.md\n")


def make_photos(folder: Path, count: int = 200) -> None:
    from PIL import Image, ImageEnhance

    base = Image.open(SAMPLE_PHOTO).convert("RGB").resize((2000, 1333))
    rng = random.Random(2)
    lines = ["articles:"]
    for a in range(20):
        (folder / "articles" / f"a{a:02}.md").write_text(
            f"---\ntitle: Article {a + 1}\n---\n\n"
            + "\n\n".join(paragraph(rng) for _ in range(12)) + "\n")
        lines.append(f"  - file: articles/a{a:02}.md\n    photos:")
        for p in range(count // 20):
            name = f"p{a:02}-{p:02}.jpg"
            ImageEnhance.Brightness(base).enhance(0.6 + rng.random() * 0.8).save(
                folder / "photos" / name, quality=85)
            lines.append(f"      - {{file: photos/{name}, caption: Photo {p + 1}, "
                         f"alt: A road}}")
    (folder / "issue.yaml").write_text(HEAD + "\n".join(lines) + "\n")


def make_huge(folder: Path) -> None:
    from PIL import Image

    small = Image.open(SAMPLE_PHOTO).convert("RGB")
    small.resize((9500, 6333), Image.BICUBIC).save(folder / "photos" / "huge.jpg",
                                                   quality=90)
    rng = random.Random(3)
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Big Picture\n---\n\n" + "\n\n".join(paragraph(rng) for _ in range(6)))
    (folder / "issue.yaml").write_text(HEAD + textwrap.dedent("""\
        cover: {image: photos/huge.jpg, alt: A road}
        articles:
          - file: articles/news.md
            photos: [{file: photos/huge.jpg, placement: top, alt: A road}]
        """))


def worker(folder: Path, out: Path) -> None:
    """Build one issue, print one JSON line of facts."""
    sys.path.insert(0, str(ROOT / "src"))
    from newsletter_pdf.build import build_issue
    from newsletter_pdf.errors import NewsletterError

    started = time.perf_counter()
    try:
        result = build_issue(folder, out_dir=out)
        outcome = {name: f"{b.pages} pages, {b.size / 2**20:.1f} MB"
                   for name, b in result.outputs.items()}
    except NewsletterError as exc:
        outcome = {"error": str(exc)}
    print(json.dumps({
        "seconds": round(time.perf_counter() - started, 1),
        "worker_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "render_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                                / 1024),
        "outcome": outcome,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=["long", "photos", "huge"], action="append")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--worker", nargs=2, metavar=("ISSUE", "OUT"))
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]))
        return
    for case in args.case or ["long", "photos", "huge"]:
        with tempfile.TemporaryDirectory(prefix=f"bench-{case}-") as tmp:
            folder = Path(tmp) / "issue"
            (folder / "articles").mkdir(parents=True)
            (folder / "photos").mkdir()
            {"long": lambda f: make_long(f, args.pages), "photos": make_photos,
             "huge": make_huge}[case](folder)
            run = subprocess.run([sys.executable, __file__, "--worker", str(folder),
                                  str(Path(tmp) / "out")], capture_output=True, text=True)
            if run.returncode:
                print(f"{case}: worker failed ({run.returncode}): {run.stderr[-2000:]}")
                continue
            facts = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{case:7} {facts['seconds']:7.1f} s  worker peak {facts['worker_peak_mb']:5} MB"
                  f"  render peak {facts['render_peak_mb']:5} MB  {facts['outcome']}",
                  flush=True)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
