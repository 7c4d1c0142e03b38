"""`newsletter preview`: a real process, a real save, a new picture served on loopback."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from PIL import Image


def wait_for(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_a_save_updates_the_served_pages(make_issue, tmp_path):
    folder = make_issue()
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter_pdf.cli", "preview", str(folder), "-o", str(out),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line)[1])
        base = f"http://127.0.0.1:{port}/"
        assert b"<title>Preview" in get(base)
        state = json.loads(get(base + "state.json"))
        first = state["version"]
        pages = out / "preview"
        assert state["updates"][-1]["kind"] == "issue"
        page_one = pages / state["updates"][-1]["pages"][0]
        before = [(pages / name).read_bytes() for name in state["updates"][-1]["pages"]]

        article = folder / "articles" / "news.md"
        article.write_text(article.read_text() + "\n" + "A new paragraph, long enough to "
                           "change the first page of this small issue. " * 12 + "\n")
        saved = time.monotonic()
        quick = wait_for(lambda: next((u for u in json.loads(get(base + "state.json"))
                                       ["updates"] if u["version"] > first
                                       and u["kind"] == "article"), None))
        assert quick["pages"] and (pages / quick["pages"][0]).is_file()
        whole = wait_for(lambda: next((u for u in json.loads(get(base + "state.json"))
                                       ["updates"] if u["version"] > quick["version"]
                                       and u["kind"] == "issue"), None))
        assert time.monotonic() - saved < 60
        after = [(pages / name).read_bytes() for name in whole["pages"]]
        assert after != before  # the article's page is a new picture
        with Image.open(page_one) as image:
            assert image.width > 300
        assert get(base + "sheet.png").startswith(b"\x89PNG")
        # Only the preview folder is served.
        try:
            get(base + "../issue.yaml")
            raise AssertionError("served a file outside the preview folder")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        assert whole["messages"] == [] or all("warning" in m for m in whole["messages"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    assert not any(p for p in Path(folder).rglob("*.png"))  # nothing written in the issue


def test_the_issue_view_is_laid_out_as_the_build_with_its_findings(make_issue, tmp_path):
    from newsletter_pdf.build import build_issue
    from newsletter_pdf.preview import PreviewSession

    folder = make_issue()
    out = tmp_path / "out"
    built = build_issue(folder, out_dir=out, editions=("email",), preflight=False)
    update = PreviewSession(folder, out).issue_view()
    # the build's fit (the loosest level: this small issue is short of its budget)
    assert len(update.pages) == built.outputs["email"].pages == 2
    assert any("the last build's fit still gives 2 pages (budget 4)" in m
               for m in update.messages)
    # the audit's findings beside the pages, as the build reports them
    assert any("layout: page 2: under-filled page" in m for m in update.messages)
