"""Validation: every problem at once, each with its exact file:line:column, key and fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from newsletter_pdf.build import check_issue
from newsletter_pdf.cli import main
from newsletter_pdf.errors import ValidationError


def problems_of(folder) -> list[str]:
    with pytest.raises(ValidationError) as info:
        check_issue(folder)
    return [str(p).removeprefix(str(folder) + "/") for p in info.value.problems]


def test_small_issue_is_valid(make_issue):
    checked = check_issue(make_issue())
    assert [a.title for a in checked.articles] == ["Small News"]
    assert checked.manifest.slug == "test-newsletter-2024-q2"


def test_all_problems_reported_at_once_with_locations(make_issue):
    folder = make_issue("""\
        newsletter:
          title: Test Newsletter
          organisation: Test Org
          tagine: Nope
        issue:
          date: 2024-13-01
          period: April – June 2024
          number: one
        articles:
          - file: articles/news.md
            kind: feture
            photos:
              - file: photos/missing.jpg
        """)
    assert problems_of(folder) == [
        "issue.yaml:4:3: newsletter.tagine: unknown key; did you mean 'tagline'?",
        "issue.yaml:6:9: issue.date: '2024-13-01' is not a valid date (month must be in "
        "1..12); write it as YYYY-MM-DD, e.g. 2011-03-31",
        "issue.yaml:8:11: issue.number: expected a whole number, got text 'one'",
        "issue.yaml:11:11: articles[0].kind: 'feture' is not one of feature, standard, "
        "letter, brief, box; did you mean 'feature'?",
        "issue.yaml:13:15: articles[0].photos[0].file: file not found: photos/missing.jpg "
        f"(paths are relative to {folder}/)",
    ]


def test_yaml_syntax_error_located(make_issue):
    folder = make_issue("newsletter:\n  title: [unclosed\nissue: {}\n")
    [message] = problems_of(folder)
    assert message.startswith("issue.yaml:3:6: YAML syntax error:")
    assert message.endswith("fix the YAML syntax")


def test_tabs_explained(make_issue):
    folder = make_issue("newsletter:\n\ttitle: x\n")
    [message] = problems_of(folder)
    assert message.startswith("issue.yaml:2:1: YAML syntax error:")
    assert message.endswith("YAML indentation must use spaces, not tabs")


def test_missing_required_and_empty_values(make_issue):
    folder = make_issue("""\
        newsletter:
          title: ""
        issue:
          period: Spring
        articles: []
        """)
    assert problems_of(folder) == [
        "issue.yaml:2:10: newsletter.title: must not be empty",
        "issue.yaml:2:3: newsletter.organisation: required key is missing: publishing "
        "organisation; the PDF's author",
        "issue.yaml:4:3: issue.date: required key is missing: publication date, YYYY-MM-DD",
    ]


def test_duplicate_keys_rejected(make_issue):
    folder = make_issue("""\
        newsletter:
          title: A
          title: B
          organisation: O
        issue:
          date: 2024-01-01
          period: Q1
        articles:
          - articles/news.md
        """)
    assert problems_of(folder) == [
        "issue.yaml:3:3: newsletter.title: duplicate key; the earlier value would be "
        "silently lost — keep only one"]


def test_cross_references_checked(make_issue):
    folder = make_issue("""\
        newsletter: {title: T, organisation: O}
        issue: {date: 2024-01-01, period: Q1, language: "english please"}
        cover:
          image: photos/road.jpg
          teasers: [nwes]
        articles:
          - file: articles/news.md
          - file: articles/news.md
            id: box
            kind: box
            within: nwes
        """)
    assert problems_of(folder) == [
        "issue.yaml:2:49: issue.language: 'english please' is not a BCP 47 language tag; "
        "write e.g. 'en', 'en-GB', 'fr', 'ar'",
        "issue.yaml:8:5: articles[1].within: no article has the id 'nwes'; did you mean "
        "'news'?",
        "issue.yaml:5:13: cover.teasers[0].article: no article has the id 'nwes'; did you "
        "mean 'news'?",
    ]


def test_article_problems_name_the_article_file(make_issue):
    folder = make_issue(files={
        "articles/news.md": "---\ntitle: T\nbyline: [1, 2]\n---\nText.\n",
    })
    assert problems_of(folder) == [
        "articles/news.md:3:9: byline: expected text, got a list"]


def test_non_utf8_article_says_line_and_encoding(make_issue):
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\nCaf\xe9\n".encode(
        "latin-1")})
    assert problems_of(folder) == [
        "articles/news.md:5:4: not UTF-8 text (byte 0xe9); it looks like latin-1: re-save "
        "the file as UTF-8"]


def test_cli_exit_codes_and_no_traceback(make_issue, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(make_issue())])
    assert ok.exit_code == 0, ok.output
    assert "OK — 1 articles" in ok.output
    (tmp_path / "issue" / "issue.yaml").write_text("newsletter: 3\n")
    bad = runner.invoke(main, ["check", str(tmp_path / "issue")])
    assert bad.exit_code == 1
    assert "Traceback" not in bad.output
    assert "issue.yaml:1:13: newsletter: expected a mapping of newsletter settings, got a " \
        "number '3'" in bad.output
    assert "3 problems found; nothing was written." in bad.output
    usage = runner.invoke(main, ["check", str(tmp_path / "nowhere")])
    assert usage.exit_code == 2
    assert "no issue manifest at" in usage.output
    assert runner.invoke(main, ["build"]).exit_code == 2


def test_manifest_and_article_problems_in_one_run(make_issue):
    """A mistake in the manifest does not hide a broken article or photo behind it."""
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\nCaf\xe9\n".encode(
        "latin-1"), "photos/road.jpg": b""})
    text = (folder / "issue.yaml").read_text().replace("  caption: A road.\n",
                                                        "  caption: A road.\n  colour: red\n")
    (folder / "issue.yaml").write_text(text)
    assert problems_of(folder) == [
        "issue.yaml:10:3: cover.colour: unknown key; allowed keys: image, caption, credit, "
        "alt, focus, teasers",
        "articles/news.md:5:4: not UTF-8 text (byte 0xe9); it looks like latin-1: re-save "
        "the file as UTF-8",
        "issue.yaml:8:10: cover.image: road.jpg is empty (0 bytes); copy the photo again",
    ]  # (the same file used again as a photo is reported once)


def _nodes(node, out):
    """A YAML node tree as a flat list: kind, tag, value, and where each node starts."""
    import yaml

    mark = (node.start_mark.line, node.start_mark.column, node.end_mark.line,
            node.end_mark.column)
    if isinstance(node, yaml.MappingNode):
        out.append(("map", node.tag, mark))
        for key, value in node.value:
            _nodes(key, out)
            _nodes(value, out)
    elif isinstance(node, yaml.SequenceNode):
        out.append(("seq", node.tag, mark))
        for item in node.value:
            _nodes(item, out)
    else:
        out.append(("scalar", node.tag, node.value, mark))
    return out


def test_libyaml_reads_every_manifest_and_layout_as_the_reference_parser_does():
    # Well-formed YAML is parsed by libyaml (ten times as fast); every error is still the
    # reference parser's (tests above). The trees, and so every location, are the same.
    import yaml

    from newsletter_pdf.schema import FAST_LOADER

    from .conftest import ROOT

    if FAST_LOADER is None:
        pytest.skip("PyYAML was built without libyaml")
    files = [*ROOT.glob("issues/*/issue.yaml"), *ROOT.glob("tests/corpus/*/issue.yaml"),
             *ROOT.glob("layouts/*/layout.yaml")]
    assert len(files) >= 12
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _nodes(yaml.compose(text, Loader=FAST_LOADER), []) == \
            _nodes(yaml.compose(text, Loader=yaml.SafeLoader), []), path
