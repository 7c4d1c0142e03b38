"""Sending speed: messages per second from `newsletter send` to a local SMTP server.

    python scripts/bench_send.py [--count 5000] [--issue issues/2011-q1]

Builds the issue's email edition once (default: a one-page test issue, so the figure is
about sending, not attachment size; give --issue for the real sample), writes a list of
--count recipients on example.org, starts an aiosmtpd server on 127.0.0.1 (a free port,
loopback only; it accepts and counts, nothing is stored or relayed) and runs
`newsletter send --yes` as a separate process. Reports messages per second measured by
the server (first to last message) and end to end (process start to exit), and checks
that every recipient got exactly one message.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_COUNT = 20_000
TIMEOUT = 1800  # seconds: the send must finish within this

SMALL_ISSUE = """\
newsletter:
  title: Bench Newsletter
  organisation: Bench Org
issue:
  date: 2024-04-15
  period: April – June 2024
cover:
  image: photos/road.jpg
  caption: A road.
  alt: A road.
articles:
  - file: articles/news.md
distribution:
  from_address: newsletter@bench.example
  from_name: Bench Newsletter
  unsubscribe_mailto: unsubscribe@bench.example
  unsubscribe_url: https://bench.example/unsubscribe
"""


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.bytes = 0
        self.first = self.last = None
        self.seen: dict[str, int] = {}

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            self.bytes += len(envelope.original_content)
            self.first = self.first or now
            self.last = now
            for rcpt in envelope.rcpt_tos:
                self.seen[rcpt] = self.seen.get(rcpt, 0) + 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_issue(tmp: Path, issue: Path | None) -> Path:
    if issue is not None:
        folder = tmp / "issue"
        shutil.copytree(issue, folder)
        text = (folder / "issue.yaml").read_text(encoding="utf-8")
        if "\ndistribution:" not in text:
            text += "\n" + SMALL_ISSUE[SMALL_ISSUE.index("distribution:"):]
            (folder / "issue.yaml").write_text(text, encoding="utf-8")
        return folder
    folder = tmp / "issue"
    (folder / "articles").mkdir(parents=True)
    (folder / "photos").mkdir()
    shutil.copy(ROOT / "issues" / "2011-q1" / "photos" / "road-storm.jpg",
                folder / "photos" / "road.jpg")
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Bench News\n---\n\nA paragraph of news.\n", encoding="utf-8")
    (folder / "issue.yaml").write_text(SMALL_ISSUE, encoding="utf-8")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--issue", type=Path, help="issue folder (default: a small one)")
    args = parser.parse_args()
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be 1..{MAX_COUNT}")

    from aiosmtpd.controller import Controller

    from newsletter_pdf.errors import Problems
    from newsletter_pdf.manifest import load_manifest
    from newsletter_pdf.send import build_email_pdf

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = make_issue(tmp, args.issue)
        out = tmp / "out"
        manifest = load_manifest(folder, Problems())
        built, _ = build_email_pdf(manifest, out)
        csv = tmp / "recipients.csv"
        csv.write_text("email,name\n" + "".join(
            f"reader{i:05d}@example.org,Reader {i}\n" for i in range(args.count)),
            encoding="utf-8")

        handler = Counter()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_SMTP_")}
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", "from newsletter_pdf.cli import main; main()", "send",
                 str(folder), "--to", str(csv), "-o", str(out), "--yes", "--no-rebuild",
                 "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
                 "--smtp-security", "none"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                timeout=TIMEOUT)
            wall = time.perf_counter() - started
        finally:
            controller.stop()
        summary = [line for line in proc.stdout.splitlines() if line.startswith("Summary:")]
        exactly_once = (handler.count == args.count and len(handler.seen) == args.count
                        and set(handler.seen.values()) == {1})
        span = (handler.last - handler.first) if handler.count > 1 else 0.0
        print(f"recipients:      {args.count}")
        print(f"attachment:      {built.size / 1024:.0f} KB "
              f"({'small test issue' if args.issue is None else args.issue})")
        print(f"messages:        {handler.count} received, exactly once each: {exactly_once}")
        print(f"data:            {handler.bytes / 1_048_576:.1f} MB")
        if span:
            print(f"server-side:     {(handler.count - 1) / span:.0f} messages/s "
                  f"(first to last message, {span:.1f} s)")
        print(f"end to end:      {handler.count / wall:.0f} messages/s "
              f"({wall:.1f} s including start-up and checks)")
        print(f"sender says:     {summary[0] if summary else '(no summary)'}")
        if proc.returncode != 0 or not exactly_once:
            print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
