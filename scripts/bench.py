"""Build time (cold and warm) and peak memory of an issue: python scripts/bench.py ISSUE

Cold: a fresh process with empty OS caches for our code as far as we can (new interpreter,
new output folder). Warm: the same build repeated in new processes once caches are hot.
Peak memory is the child's maximum resident set size (getrusage). Prints a small table.
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
        cold, peak = run_build(issue, str(Path(tmp) / "cold"), list(extra))
        warm = []
        for i in range(RUNS):
            seconds, peak_i = run_build(issue, str(Path(tmp) / f"warm{i}"), list(extra))
            warm.append(seconds)
            peak = max(peak, peak_i)
        sizes = {p.name: p.stat().st_size for p in Path(tmp, "warm0").glob("*.pdf")}
    print(f"issue: {issue}")
    print(f"cold build: {cold:.2f} s")
    print(f"warm build: median {statistics.median(warm):.2f} s over {RUNS} runs "
          f"(min {min(warm):.2f}, max {max(warm):.2f})")
    print(f"peak memory (max RSS of a build process): {peak:.0f} MB")
    for name, size in sorted(sizes.items()):
        print(f"{name}: {size / 1_048_576:.2f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
