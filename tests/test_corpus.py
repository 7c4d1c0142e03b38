"""The corpus: six quarterlies nobody tuned the layout to, checked and built once each.

Each issue under ``tests/corpus/`` is built (both editions) once per module into a temporary
folder; the assertions read the real PDFs.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdf
import pytest
import yaml
from click.testing import CliRunner

from newsletter_pdf.cli import main

from .conftest import normalise_words

CORPUS = Path(__file__).resolve().parent / "corpus"
ISSUES = sorted(p.name for p in CORPUS.iterdir() if (p / "issue.yaml").is_file())


def test_corpus_has_six_issues():
    assert ISSUES == ["briefs-boxes", "letter-midpage", "long-feature", "many-photos",
                      "text-heavy", "us-letter"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every corpus issue, both editions, built once: name -> BuildResult (lazily)."""
    from newsletter_pdf.build import build_issue

    results: dict = {}

    def get(name: str):
        if name not in results:
            out = tmp_path_factory.mktemp(name)
            results[name] = build_issue(CORPUS / name, out_dir=out,
                                        editions=("print", "email"))
        return results[name]

    return get


def article_titles(folder: Path) -> list[str]:
    """Every article's headline: the manifest's title, else the file's front matter title."""
    manifest = yaml.safe_load((folder / "issue.yaml").read_text(encoding="utf-8"))
    titles = []
    for spec in manifest["articles"]:
        title = spec.get("title")
        if not title:
            text = (folder / spec["file"]).read_text(encoding="utf-8")
            title = yaml.safe_load(text.split("---")[1])["title"]
        titles.append(title)
    return titles


def unembedded_fonts(pdf_path: Path) -> set[str]:
    """Names of fonts used on any page without an embedded font program."""
    missing = set()
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            fonts = page.resources.get("/Font", {})
            for font in fonts.values():
                target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                if target.get("/Subtype") == "/Type3":
                    continue
                desc = target.get("/FontDescriptor")
                if desc is None or not any(k in desc for k in
                                           ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(font.get("/BaseFont")))
    return missing


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_checks_clean(name):
    result = CliRunner().invoke(main, ["check", str(CORPUS / name)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


@pytest.mark.parametrize("name", ISSUES)
def test_corpus_issue_builds_both_editions(name, built):
    result = built(name)
    assert set(result.outputs) == {"print", "email"}
    titles = article_titles(CORPUS / name)
    for edition, out in result.outputs.items():
        assert out.path.is_file()
        assert out.preflight is not None and out.preflight.ok, (edition, out.preflight.failures)
        reader = pypdf.PdfReader(out.path)
        assert len(reader.pages) == out.pages > 2
        assert unembedded_fonts(out.path) == set(), edition
        words = " ".join(normalise_words(" ".join(p.extract_text() or "" for p in reader.pages)))
        for title in titles:
            assert " ".join(normalise_words(title)) in words, (edition, title)


def test_us_letter_issue_is_on_letter_paper(built):
    result = built("us-letter")
    with pikepdf.open(result.outputs["email"].path) as pdf:
        box = [float(v) for v in pdf.pages[1].trimbox]
    assert (round(box[2] - box[0]), round(box[3] - box[1])) == (612, 792)


# What the outside check (tests/support/pdfcheck.py) finds in today's layout. The layout
# work (issue 10) removes an entry when its repair lands; an issue not listed must stay clean.
KNOWN_FINDINGS: dict[tuple[str, str], str] = {
    ("text-heavy", "email"): "p2: the letter's signature at the foot of the page reads as "
                             "a stranded head to the outside check",
    ("text-heavy", "print"): "as the email edition",
    ("briefs-boxes", "email"): "p4 columns 53 % full on average (briefs and boxes balanced "
                               "short of the page foot); the build's audit measures 60 %+",
    ("briefs-boxes", "print"): "as the email edition",
}

# What the build's own audit still reports (warnings starting "layout:"), both editions: a
# last article page the content cannot fill. The repairs tried (photos moved, more air
# between articles, photos grown as far as their originals allow at 300 ppi, looser
# leading on the short page's article) fall short: the editor must add text or a photo.
KNOWN_AUDIT: dict[str, str] = {
    "briefs-boxes": "p7 holds one brief (86 % empty): the briefs and boxes end a fifth of a "
                    "page short of 8 pages at the loosest fit; every photo is a landscape "
                    "already the column's width, no larger original to grow it",
    "many-photos": "p7 61 % empty: the last article's square photo sets the page's depth "
                   "and is already as large as its original allows in a column",
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.xfail(strict=False, reason=KNOWN_AUDIT[name])]
                 if name in KNOWN_AUDIT else []) for name in ISSUES])
def test_corpus_issue_has_no_audit_findings(name, built):
    layout = [w.message for w in built(name).warnings if w.message.startswith("layout:")]
    assert layout == []


def _outside_check_cases():
    for name in ISSUES:
        for edition in ("email", "print"):
            reason = KNOWN_FINDINGS.get((name, edition))
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            yield pytest.param(name, edition, marks=marks, id=f"{name}-{edition}")


@pytest.mark.parametrize(("name", "edition"), list(_outside_check_cases()))
def test_corpus_issue_passes_the_outside_layout_check(name, edition, built):
    pytest.importorskip("pdfplumber")
    from .support.pdfcheck import check_pdf

    findings = check_pdf(built(name).outputs[edition].path)
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("edition", ["email", "print"])
def test_sample_issue_passes_the_outside_layout_check(edition, sample_result):
    pytest.importorskip("pdfplumber")
    from .support.pdfcheck import check_pdf

    findings = check_pdf(sample_result.outputs[edition].path)
    assert [str(f) for f in findings] == []
