"""Build time (cold and warm) and peak memory of an issue: python scripts/bench.py ISSUE

Cold: a new process building into an empty output folder (every photo prepared, the
copyfit found step by step). Warm: the same build repeated into the same folder, as a user
rebuilding after an edit-free save would: prepared photos come from the cache and the
layout memo lets both editions render side by side. Peak memory is the largest resident set
size of the build process and its render children (getrusage). Prints a small table.
"""

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3


def run_build(issue: str, out: str, extra: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "newsletter_pdf.cli", "build", issue, "-o", out,
                    *extra], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def main(issue: str, *extra: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out")
        cold, peak = run_build(issue, out, list(extra))
        warm = []
        for _ in range(RUNS):
            seconds, peak_i = run_build(issue, out, list(extra))
            warm.append(seconds)
            peak = max(peak, peak_i)
        sizes = {p.name: p.stat().st_size for p in Path(out).glob("*.pdf")}
    print(f"issue: {issue}")
    print(f"cold build: {cold:.2f} s")
    print(f"warm build: median {statistics.median(warm):.2f} s over {RUNS} runs "
          f"(min {min(warm):.2f}, max {max(warm):.2f})")
    print(f"peak memory (max RSS of a build process): {peak:.0f} MB")
    for name, size in sorted(sizes.items()):
        print(f"{name}: {size / 1_048_576:.2f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
