"""Shared fixtures: the sample issue built once per session, and a small-issue factory."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "issues" / "2011-q1"


@pytest.fixture(scope="session", autouse=True)
def shared_layout_memo(tmp_path_factory):
    """One layout memo for the whole run: the same content built into many temporary
    folders searches its fit and repairs once (test_rebuilds.py tests the memo itself)."""
    import os

    path = tmp_path_factory.mktemp("memo") / "layout-memo.json"
    os.environ["NEWSLETTER_LAYOUT_MEMO"] = str(path)
    yield path
    os.environ.pop("NEWSLETTER_LAYOUT_MEMO", None)


@pytest.fixture(scope="session")
def sample_result(tmp_path_factory):
    """The sample issue, both editions, built by the real pipeline into a temp folder."""
    from newsletter_pdf.build import build_issue

    out = tmp_path_factory.mktemp("sample")
    return build_issue(SAMPLE, out_dir=out)


@pytest.fixture(scope="session")
def sample_build(sample_result):
    """The print edition (the typographic tests hold for both editions)."""
    return sample_result.outputs["print"]


@pytest.fixture(scope="session")
def sample_email(sample_result):
    return sample_result.outputs["email"]


@pytest.fixture(scope="session")
def sample_pdf(sample_build) -> Path:
    return sample_build.path


@pytest.fixture(scope="session")
def sample_text(sample_pdf) -> list[str]:
    """Text of every page (pypdf), in page order."""
    import pypdf

    return [page.extract_text() or "" for page in pypdf.PdfReader(sample_pdf).pages]


def normalise_words(text: str) -> list[str]:
    """Words for comparing source and PDF: hyphenation joined, punctuation dropped."""
    text = re.sub(r"[\u2010\u00ad-]\s*\n\s*", "", text)  # line-end hyphenation
    text = text.replace("\u2010", "-")
    return [w for w in re.split(r"[^0-9A-Za-zÀ-ÿ]+", text.lower()) if w]


def email_renderer(folder: Path, out: Path):
    """A function ``css -> Rendered``: the issue's email edition laid out and written with
    extra CSS, as the build's fit and repair renders each attempt (placements, fills)."""
    from newsletter_pdf.build import _prepare, _render, check_issue
    from newsletter_pdf.errors import Problems

    checked = check_issue(folder, out_dir=out)

    def laid_out(css: str = ""):
        problems = Problems()
        edition = _prepare("email", checked.manifest, checked.layout, out, problems)
        edition.extra_css += "\n" + css
        return _render(checked.manifest, checked, out, "email", problems, False, edition)

    return laid_out


@pytest.fixture
def make_issue(tmp_path):
    """Write a small valid issue (manifest + one article + one photo) and return its folder.

    ``manifest`` replaces the default manifest text; ``files`` adds or replaces files.
    """

    def factory(manifest: str | None = None, files: dict[str, str | bytes] | None = None):
        folder = tmp_path / "issue"
        folder.mkdir(exist_ok=True)
        (folder / "articles").mkdir(exist_ok=True)
        (folder / "photos").mkdir(exist_ok=True)
        shutil.copy(SAMPLE / "photos" / "road-storm.jpg", folder / "photos" / "road.jpg")
        (folder / "articles" / "news.md").write_text(
            "---\ntitle: Small News\n---\n\nA first paragraph of small news.\n\n"
            "A second paragraph.\n", encoding="utf-8")
        (folder / "issue.yaml").write_text(textwrap.dedent(manifest or DEFAULT_MANIFEST),
                                           encoding="utf-8")
        for name, content in (files or {}).items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        return folder

    return factory


DEFAULT_MANIFEST = """\
newsletter:
  title: Test Newsletter
  organisation: Test Org
issue:
  date: 2024-04-15
  period: April – June 2024
cover:
  image: photos/road.jpg
  caption: A road.
articles:
  - file: articles/news.md
    photos:
      - file: photos/road.jpg
        caption: The road again.
"""


def pytest_collection_modifyitems(items):
    """Under ``make test`` (two workers, ``--dist loadgroup``) the tests sharing a module's
    ``built`` fixture run on one worker, which then builds once what the fixture builds;
    spread freely, it was built on both. test_corpus's fixture builds each corpus issue on
    demand: its tests are grouped by issue (the ``name`` parameter, or the one issue a test
    asks ``built("<name>")`` for), so the issues still spread over both workers."""
    import inspect

    for item in items:
        definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        if "built" not in definitions or definitions["built"][-1].scope != "module":
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = [params["name"]] if "name" in params else sorted(set(
            re.findall(r'built\("([^"]+)"\)', inspect.getsource(item.function))))
        group = names[0] if len(names) == 1 else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))


# The mail tests' fixtures (a real SMTP server on loopback, a small built issue).
from .mail_support import built_issue, issue, smtp_server  # noqa: E402, F401
