"""Nothing lost: failed, interrupted, runaway or killed builds leave earlier PDFs exactly as
they were, leave no temporary files, write nowhere but the output folder and never touch
the sources. Plus a property-based test: any manifest and Markdown give a PDF or a clean
NewsletterError, never another exception.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newsletter_pdf.render as render_module
from newsletter_pdf.atomic import temp_files, write_atomically
from newsletter_pdf.build import check_issue
from newsletter_pdf.errors import NewsletterError, Problems, RenderError, ValidationError
from newsletter_pdf.render import render_pdf

from .conftest import DEFAULT_MANIFEST, SAMPLE
from .test_hostile_support import build, pdfs, tree_digest

HTML = "<!doctype html><p>Hello.</p>"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built(make_issue, tmp_path):
    """A small issue built once: (issue folder, output folder, {pdf: sha256})."""
    folder = make_issue()
    out = tmp_path / "out"
    build(folder, out)
    outputs = {p: sha(p) for p in pdfs(out)}
    assert outputs
    return folder, out, outputs


def assert_untouched(out: Path, outputs: dict) -> None:
    assert {p: sha(p) for p in pdfs(out)} == outputs
    assert temp_files(out) == []
    assert multiprocessing.active_children() == []


# -- failed builds ------------------------------------------------------------------------

def test_failed_build_leaves_previous_pdf_byte_identical(built):
    folder, out, outputs = built
    photo = folder / "photos" / "road.jpg"
    photo.write_bytes(photo.read_bytes()[:5000])  # corrupt the photo
    with pytest.raises(ValidationError) as info:
        build(folder, out)
    assert "road.jpg is truncated" in str(info.value)
    assert_untouched(out, outputs)


def test_render_failure_leaves_previous_pdf(built, monkeypatch):
    folder, out, outputs = built
    import weasyprint

    def explode(self, *a, **k):
        raise AssertionError("layout/float.py")  # the kind of crash WeasyPrint has

    monkeypatch.setattr(weasyprint.HTML, "render", explode)
    with pytest.raises(RenderError) as info:
        build(folder, out)
    assert str(info.value) == ("WeasyPrint could not render the issue: AssertionError: "
                               "layout/float.py")
    assert_untouched(out, outputs)


def test_a_failure_after_one_edition_was_written_leaves_the_previous_pdfs(make_issue,
                                                                          tmp_path,
                                                                          monkeypatch):
    """Each PDF is written beside its target (….new.pdf) and judged as soon as it is
    rendered; when a later edition then fails, every staged file goes and the last good
    PDFs of all editions stay as they were."""
    import newsletter_pdf.build as build_module

    folder, out = make_issue(), tmp_path / "out"
    both = {"editions": ("print", "email"), "preflight": True}
    build(folder, out, **both)
    outputs = {p: sha(p) for p in pdfs(out)}
    assert len(outputs) == 2
    judge, judged = build_module._judge, []

    def judge_then_fail(kind, built_pdf, path, manifest):
        judged.append((kind.name, path.name, path.is_file()))
        if kind.name == "print":
            raise OSError(28, "No space left on device", str(path))
        return judge(kind, built_pdf, path, manifest)

    monkeypatch.setattr(build_module, "_judge", judge_then_fail)
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Small News\n---\n\nAn edited first paragraph.\n", encoding="utf-8")
    with pytest.raises(OSError):
        build(folder, out, **both)
    assert {name for name, _, _ in judged} == {"email", "print"}
    assert all(staged.endswith(".new.pdf") and existed for _, staged, existed in judged)
    assert_untouched(out, outputs)


def test_keyboard_interrupt_during_render(built, monkeypatch):
    folder, out, outputs = built
    import weasyprint.document

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(weasyprint.document.Document, "write_pdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(folder, out)
    assert_untouched(out, outputs)


def test_real_ctrl_c_while_rendering(built, monkeypatch):
    """SIGINT reaches the parent while the child renders: the child is stopped at once."""
    folder, out, outputs = built
    build_process = os.getpid()  # the render child's parent is the engine host

    def slow(*args):  # runs in the render child: Ctrl-C once rendering has begun
        os.kill(build_process, signal.SIGINT)
        time.sleep(60)

    monkeypatch.setattr(render_module, "_render", slow)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build(folder, out)
    assert time.monotonic() - started < 20
    assert_untouched(out, outputs)


def test_sigterm_while_rendering(built, monkeypatch):
    folder, out, outputs = built
    build_process = os.getpid()

    def slow(*args):  # runs in the render child: SIGTERM once rendering has begun
        os.kill(build_process, signal.SIGTERM)
        time.sleep(60)

    monkeypatch.setattr(render_module, "_render", slow)
    with pytest.raises(KeyboardInterrupt):
        build(folder, out)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert_untouched(out, outputs)


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_interrupted_write_leaves_target_and_no_temp(tmp_path, monkeypatch, where):
    target = tmp_path / "issue.pdf"
    target.write_bytes(b"%PDF old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, where, interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, b"%PDF new")
    monkeypatch.undo()
    assert target.read_bytes() == b"%PDF old"
    assert temp_files(tmp_path) == []


def test_disk_full_leaves_target(tmp_path, monkeypatch):
    target = tmp_path / "issue.pdf"
    target.write_bytes(b"%PDF old")

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_atomically(target, b"%PDF new")
    monkeypatch.undo()
    assert target.read_bytes() == b"%PDF old"
    assert temp_files(tmp_path) == []


def test_leftovers_of_a_killed_build_are_swept(tmp_path):
    target = tmp_path / "issue.pdf"
    dead = subprocess_pid_that_exited()
    stale = tmp_path / f".issue.pdf.{dead}.abcd1234.tmp"
    stale.write_bytes(b"half a PDF")
    alive = tmp_path / f".issue.pdf.{os.getpid()}.efgh5678.tmp"
    alive.write_bytes(b"another build, still running")
    other = tmp_path / f".other.pdf.{dead}.ijkl9012.tmp"
    other.write_bytes(b"not ours to judge")
    write_atomically(target, b"%PDF new")
    assert target.read_bytes() == b"%PDF new"
    assert not stale.exists() and alive.exists() and other.exists()


def subprocess_pid_that_exited() -> int:
    import subprocess
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


# -- time and memory limits ----------------------------------------------------------------

def test_time_limit_stops_a_runaway_render(make_issue, monkeypatch):
    folder = make_issue()
    monkeypatch.setattr(render_module, "_render", lambda *a: time.sleep(60))
    started = time.monotonic()
    with pytest.raises(RenderError) as info:
        render_pdf(HTML, folder, [folder], Problems(), time_limit=1)
    assert time.monotonic() - started < 5
    assert str(info.value) == (
        "the render took longer than the time limit of 1 s and was stopped; raise the limit "
        "(--time-limit) or look for what is slow: very long articles, huge tables or very "
        "large images")
    assert multiprocessing.active_children() == []


def test_time_limit_without_a_child_process(make_issue, monkeypatch):
    folder = make_issue()
    monkeypatch.setattr(render_module, "_render", lambda *a: time.sleep(60))
    started = time.monotonic()
    with pytest.raises(RenderError, match="took longer than the time limit of 0.5 s"):
        render_pdf(HTML, folder, [folder], Problems(), time_limit=0.5, isolate=False)
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, signal.default_int_handler)


def test_a_real_render_within_the_limit(make_issue):
    folder = make_issue()
    rendered = render_pdf(HTML, folder, [folder], Problems(), time_limit=60)
    assert rendered.pdf.startswith(b"%PDF") and rendered.pages == 1


def test_renderer_killed_is_a_clear_error(make_issue, monkeypatch, tmp_path):
    """What the kernel's OOM killer does to the child: reported, not fatal, no litter."""
    folder = make_issue()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(render_module, "_render",
                        lambda *a: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(RenderError) as info:
        render_pdf(HTML, folder, [folder], Problems())
    assert str(info.value) == ("the render failed: stopped by SIGKILL — most likely out of "
                               "memory; make photos smaller (under about 25 megapixels each) "
                               "or split very long articles")
    assert list(scratch.iterdir()) == []


def test_memory_limit_turns_exhaustion_into_a_message(make_issue, monkeypatch):
    folder = make_issue()

    def greedy(*args):
        hog = []
        while True:
            hog.append(bytearray(64 * 2**20))

    monkeypatch.setattr(render_module, "_render", greedy)
    with open("/proc/self/statm") as statm:
        vsz_mb = int(statm.read().split()[0]) * resource.getpagesize() // 2**20
    with pytest.raises(RenderError) as info:
        render_pdf(HTML, folder, [folder], Problems(), memory_limit_mb=vsz_mb + 300)
    assert str(info.value) == (f"the render ran out of memory (limit {vsz_mb + 300} MB); make "
                               "photos smaller (under about 25 megapixels each) or split very "
                               "long articles")


# -- nothing written elsewhere, sources untouched ------------------------------------------------

def test_build_writes_only_its_output_folder(make_issue, tmp_path, monkeypatch):
    folder = make_issue()
    cwd, tmpdir, home = tmp_path / "cwd", tmp_path / "tmpdir", tmp_path / "home"
    for d in (cwd, tmpdir, home):
        d.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NEWSLETTER_CACHE", raising=False)
    out = tmp_path / "out"
    before = tree_digest(tmp_path, skip=home)
    sources = tree_digest(folder)
    build(folder, out)
    after = tree_digest(tmp_path, skip=home)
    new = {k for k in after if k not in before}
    assert new and all(k.startswith("out") for k in new), sorted(new)[-3:]
    assert {k: v for k, v in after.items() if not k.startswith("out")} == before
    assert tree_digest(folder) == sources
    assert list(cwd.iterdir()) == [] and list(tmpdir.iterdir()) == []
    home_files = [str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()]
    assert all(p.startswith(".cache/") for p in home_files), home_files  # fontconfig
    assert [p.name for p in pdfs(out)] == ["test-newsletter-2024-q2-email.pdf"]


# -- property-based: a PDF or a clean error ----------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), TEXT,
                   st.sampled_from(["2024-04-15", "2024-13-40", "photos/road.jpg",
                                    "articles/news.md", "../../etc/passwd", "/etc/passwd",
                                    "nope.png", "feature", "box", "A4", "en", "#0b4f8a"]))
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
KEYS = ["newsletter", "issue", "articles", "cover", "contents", "back_page", "footer",
        "layout", "title", "organisation", "date", "period", "file", "photos", "kind",
        "caption", "image", "teasers", "within", "after", "sections", "text"]


@st.composite
def manifests(draw):
    """Mostly-plausible manifests with random damage, or raw random YAML text."""
    base = yaml.safe_load(DEFAULT_MANIFEST)
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3))
        node = base
        for key in path[:-1]:
            if not isinstance(node, dict):
                break
            node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else \
                node[key]
        if isinstance(node, dict):
            node[path[-1]] = draw(VALUE)
        elif isinstance(node, list) and node:
            node[draw(st.integers(0, len(node) - 1))] = draw(VALUE)
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.text(max_size=200))  # anything at all
    text = yaml.safe_dump(base, allow_unicode=True, sort_keys=False)
    if draw(st.booleans()):  # a little textual damage: tabs, anchors, cut-off
        damage = draw(st.sampled_from(["\t", "&a ", "*a", "{", "- ", ":", "!!binary ",
                                       "<<: *a\n", "\n---\n"]))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + damage + text[at:]
    return text


MARKDOWN_PIECES = ["# Head", "## Sub", "- item", "1. one", "> quote", "```\ncode\n```",
                   "| a | b |\n|---|---|\n| 1 | 2 |", "![x](../photos/road.jpg)",
                   "![y](../../secret.png)", "<b>raw</b>", "<script>x</script>", "***",
                   "[link](http://example.org)", "---\ntitle: T\n---", "\x00", "\ufeff",
                   "&amp; &#0; &#x110000;", "*" * 50, ">" * 60 + " deep", "    indented"]


@st.composite
def markdown(draw):
    parts = draw(st.lists(st.one_of(st.sampled_from(MARKDOWN_PIECES), TEXT), max_size=8))
    body = "\n\n".join(parts)
    if draw(st.booleans()):
        body = "---\ntitle: Random\n---\n\n" + body
    return body.encode("utf-8", "surrogatepass") if draw(st.booleans()) else \
        body.encode("utf-8", "replace")


def _write_issue(root: Path, manifest: str, article: bytes) -> Path:
    folder = root / "issue"
    (folder / "articles").mkdir(parents=True)
    (folder / "photos").mkdir()
    shutil.copy(SAMPLE / "photos" / "road-storm.jpg", folder / "photos" / "road.jpg")
    (folder / "articles" / "news.md").write_bytes(article)
    (folder / "issue.yaml").write_text(manifest, encoding="utf-8", errors="surrogatepass")
    return folder


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(manifest=manifests(), article=markdown())
def test_any_input_gives_a_result_or_a_clean_error(manifest, article):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write_issue(Path(tmp), manifest, article)
        try:
            check_issue(folder)
        except NewsletterError as exc:
            assert str(exc).strip() or isinstance(exc, ValidationError)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=markdown())
def test_any_markdown_builds_or_fails_cleanly(article):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write_issue(Path(tmp), textwrap.dedent(DEFAULT_MANIFEST), article)
        try:
            build(folder, Path(tmp) / "out")
        except NewsletterError:
            assert pdfs(Path(tmp) / "out") == []
            return
        [pdf] = pdfs(Path(tmp) / "out")
        assert pdf.read_bytes().startswith(b"%PDF")
