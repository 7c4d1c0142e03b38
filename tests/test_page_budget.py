"""The page budget and the repairs, on real builds: the sample reaches 8 pages by layout,
an unreachable budget is said in lines, a bad budget is refused where it is written."""

from __future__ import annotations

import pikepdf
import pytest
from click.testing import CliRunner

from newsletter_pdf.cli import main
from newsletter_pdf.repair import budget_for

from .conftest import DEFAULT_MANIFEST


def test_the_sample_prints_eight_pages_with_no_notes_page_and_no_findings(sample_result):
    for edition in ("print", "email"):
        built = sample_result.outputs[edition]
        assert built.pages == 8 and built.padded == []
        with pikepdf.open(built.path) as pdf:
            assert len(pdf.pages) == 8
    layout = [w.message for w in sample_result.warnings if w.message.startswith("layout:")]
    assert layout == []
    assert sample_result.repairs[0].startswith("page budget 8: fit level ")


@pytest.mark.parametrize(("pages", "wanted", "multiple", "budget"), [
    (8, None, 4, 8), (9, None, 4, 8), (11, None, 4, 12), (10, None, 4, 12), (3, None, 4, 4),
    (9, 10, 4, 10), (5, None, 1, 5),
])
def test_the_budget_is_the_issue_s_own_or_the_nearest_multiple(pages, wanted, multiple,
                                                                budget):
    assert budget_for(pages, wanted, multiple) == budget


def test_a_budget_the_content_cannot_reach_is_said_in_lines(make_issue, tmp_path):
    long = "\n\n".join(f"Paragraph {i}: " + "words of a long report " * 30 for i in range(24))
    folder = make_issue(DEFAULT_MANIFEST.replace("  period: April – June 2024",
                                                 "  period: April – June 2024\n  pages: 2"),
                        files={"articles/news.md": f"---\ntitle: Small News\n---\n\n{long}\n"})
    result = CliRunner().invoke(main, ["build", str(folder), "--edition", "email",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "issue.pages: layout: the issue needs " in result.output
    assert "over its budget of 2, even with the tightest fit: cut about " in result.output
    assert "layout: page budget 2: fit level " in result.output


def test_an_impossible_budget_is_refused_where_it_is_written(make_issue):
    folder = make_issue(DEFAULT_MANIFEST.replace("  period: April – June 2024",
                                                 "  period: April – June 2024\n  pages: 1"))
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert (f"{folder / 'issue.yaml'}:7:10: issue.pages: a page budget of 1 pages is not "
            "possible; write a page count from 2 to 400, e.g. 8, or leave 'pages' out"
            in result.output)


def test_check_layout_shows_the_findings_and_strict_makes_them_errors(make_issue):
    long = "\n\n".join(f"Paragraph {i}: " + "words of a long report " * 30 for i in range(24))
    issue = make_issue(DEFAULT_MANIFEST.replace("  period: April – June 2024",
                                                "  period: April – June 2024\n  pages: 2"),
                       files={"articles/news.md": f"---\ntitle: Small News\n---\n\n{long}\n"})
    result = CliRunner().invoke(main, ["check", str(issue), "--layout"])
    assert result.exit_code == 0, result.output
    assert "issue.pages: layout: the issue needs " in result.output
    assert "layout: page budget 2: fit level " in result.output
    assert not list(issue.glob("**/*.pdf")) and not (issue / "build").exists()
    strict = CliRunner().invoke(main, ["check", str(issue), "--layout", "--strict"])
    assert strict.exit_code == 1
    assert strict.output.endswith(" problem found; nothing was written.\n") or \
        strict.output.endswith(" problems found; nothing was written.\n")


def test_check_layout_on_a_clean_issue(tmp_path):
    import shutil

    from .conftest import ROOT

    issue = tmp_path / "bilingual"
    shutil.copytree(ROOT / "issues" / "2011-q1-bilingual", issue)
    result = CliRunner().invoke(main, ["check", str(issue), "--layout"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("layout: 4 pages, 0 finding(s), nothing a designer would "
                                  "reject\n")
