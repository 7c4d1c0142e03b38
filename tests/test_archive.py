"""newsletter archive: every issue's web edition and an index page, newest first."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

from click.testing import CliRunner

from newsletter_pdf.cli import main


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self._in_h2 = self._in_h2 or tag == "h2"
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.h2.append(data.strip())


def test_a_two_issue_site_with_an_index_whose_links_resolve(make_issue, tmp_path):
    first = make_issue()
    issues = tmp_path / "issues"
    shutil.copytree(first, issues / "2024-q2")
    shutil.copytree(first, issues / "2024-q3")
    newer = issues / "2024-q3" / "issue.yaml"
    newer.write_text(newer.read_text(encoding="utf-8")
                     .replace("2024-04-15", "2024-09-30")
                     .replace("April – June 2024", "July – September 2024"), encoding="utf-8")
    (issues / "2024-q3" / "articles" / "news.md").write_text(
        "---\ntitle: Autumn <News>\n---\n\nThe third quarter.\n", encoding="utf-8")
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["archive", str(issues), "-o", str(site)])
    assert result.exit_code == 0, result.output
    assert "2 issues, newest first" in result.output
    html = (site / "index.html").read_text(encoding="utf-8")
    parsed = Refs()
    parsed.feed(html)
    assert parsed.h2 == ["July – September 2024", "April – June 2024"]  # newest first
    assert "<li>Autumn &lt;News&gt;</li>" in html and "<li>Small News</li>" in html
    for ref in parsed.refs:
        assert "://" not in ref
        assert (site / ref).is_file(), ref
    pdfs = [r for r in parsed.refs if r.endswith(".pdf")]
    assert len(pdfs) == 4 and all((site / r).read_bytes()[:5] == b"%PDF-" for r in pdfs)
    thumbs = [r for r in parsed.refs if r.endswith(".webp")]
    assert len(thumbs) == 2
    assert {r.split("/")[0] for r in parsed.refs if r.endswith("index.html")} == \
        {"2024-q2", "2024-q3"}


def test_a_folder_without_issues_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["archive", str(tmp_path), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "no issue folders (a folder with an issue.yaml) found" in result.output
