"""Rebuilds: the layout memo and the guessed layout save renders, never change the PDFs."""

from __future__ import annotations

import copy
import multiprocessing
import shutil

import pytest

from newsletter_pdf import build as build_module
from newsletter_pdf.build import build_issue

from .test_layouts import text_of


@pytest.fixture(autouse=True)
def own_memo(monkeypatch):
    """These tests are about the memo of an output folder: not the suite's shared one."""
    monkeypatch.delenv("NEWSLETTER_LAYOUT_MEMO", raising=False)


def counting_renders(monkeypatch) -> list[str]:
    """Record the edition of every render from now on."""
    seen: list[str] = []
    original = build_module._render

    def render(manifest, checked, out, name, *args, **kwargs):
        seen.append(name)
        return original(manifest, checked, out, name, *args, **kwargs)

    monkeypatch.setattr(build_module, "_render", render)
    return seen


def test_the_memo_is_honoured_for_one_edition(make_issue, tmp_path, monkeypatch):
    folder = make_issue()
    out = tmp_path / "out"
    first = build_issue(folder, out_dir=out, editions=("email",), preflight=False)
    renders = counting_renders(monkeypatch)
    again = build_issue(folder, out_dir=out, editions=("email",), preflight=False)
    assert renders == ["email"]  # the copyfit level is known: one render, not two
    assert again.outputs["email"].path.read_bytes() == first.outputs["email"].path.read_bytes()


def test_a_rebuild_of_the_same_content_renders_each_edition_once(make_issue, tmp_path,
                                                                 monkeypatch):
    """The print render on the last build's fit starts before the fingerprint is known;
    the memo then says the fit is that one, and the render is kept."""
    folder = make_issue()
    out = tmp_path / "out"
    first = build_issue(folder, out_dir=out, preflight=False)
    renders = counting_renders(monkeypatch)
    again = build_issue(folder, out_dir=out, preflight=False)
    assert sorted(renders) == ["email", "print"]
    for edition in ("email", "print"):
        assert again.outputs[edition].path.read_bytes() == \
            first.outputs[edition].path.read_bytes()


def test_a_rebuild_after_an_edit_keeps_the_last_fit(make_issue, tmp_path, monkeypatch):
    folder = make_issue()
    warm = tmp_path / "warm"
    first = build_issue(folder, out_dir=warm, preflight=False)
    article = folder / "articles" / "news.md"
    article.write_text(article.read_text() + "\nOne more sentence, added after a build.\n")
    renders = counting_renders(monkeypatch)
    edited = build_issue(folder, out_dir=warm, preflight=False)
    # one render per edition, side by side, on the last build's fit: it still holds
    assert sorted(renders) == ["email", "print"]
    assert edited.repairs[0] == ("the last build's fit still gives 2 pages (budget 4) with "
                                 "1 finding(s): kept (build with --fresh to search again)")
    assert edited.outputs["print"].pages == first.outputs["print"].pages == 4
    # the same findings as before (the short page is a little fuller: 63 % empty, not 65 %)
    assert [str(w).split(":")[4] for w in edited.warnings if "layout:" in str(w)] == \
        [str(w).split(":")[4] for w in first.warnings if "layout:" in str(w)]
    assert "added after a build" in text_of(edited.outputs["email"].path)


def test_a_fresh_rebuild_equals_a_cold_build(make_issue, tmp_path, monkeypatch):
    folder = make_issue()
    warm = tmp_path / "warm"
    build_issue(folder, out_dir=warm, preflight=False)
    article = folder / "articles" / "news.md"
    article.write_text(article.read_text() + "\nOne more sentence, added after a build.\n")
    fresh = build_issue(folder, out_dir=warm, preflight=False, fresh=True)
    assert not any("last build's fit" in line for line in fresh.repairs)
    cold = build_issue(folder, out_dir=tmp_path / "cold", preflight=False)
    for edition in ("print", "email"):
        assert fresh.outputs[edition].path.read_bytes() == \
            cold.outputs[edition].path.read_bytes()


def test_a_wrong_guess_is_dropped(make_issue, tmp_path, monkeypatch):
    folder = make_issue()
    out = tmp_path / "out"
    build_issue(folder, out_dir=out, preflight=False)
    article = folder / "articles" / "news.md"
    long = "\n\n".join(f"Paragraph {i} " + "of added text " * 40 for i in range(60))
    article.write_text(article.read_text() + "\n" + long + "\n")  # more pages than before
    edited = build_issue(folder, out_dir=out, preflight=False)
    cold = build_issue(folder, out_dir=tmp_path / "cold", preflight=False)
    assert edited.outputs["print"].pages == cold.outputs["print"].pages > 4
    assert edited.outputs["print"].path.read_bytes() == cold.outputs["print"].path.read_bytes()
    shutil.rmtree(out)


def test_the_repairs_render_the_next_move_beside_the_one_they_try():
    """A move that is undone costs no time: the move tried after it was rendered beside it.
    The outcome is the one found one render at a time."""
    from types import SimpleNamespace

    from newsletter_pdf import placements
    from newsletter_pdf.repair import fit_and_repair

    from .test_placements import _page

    layout = SimpleNamespace(audit={}, repair={
        "passes": 3, "ladder": {"start": 0, "levels": [{}]},
        "moves": {"fill": {"column": [{"photo": 1}, {"photo": 2}]}}})

    def render(css):
        moved = placements.read(css).get(("art-a", "p.jpg"))
        return SimpleNamespace(pages=2, layout=_page(moved or 1, short=moved != 3),
                               problems=None, css=css)

    batches = []

    def render_many(sheets):
        batches.append(sheets)
        return [render(css) for css in sheets]

    alone = fit_and_repair(layout, render, wanted=2, multiple=1)
    beside = fit_and_repair(layout, render, wanted=2, multiple=1, render_many=render_many)
    assert (beside.css, beside.log, beside.findings) == (alone.css, alone.log, alone.findings)
    assert alone.log[0].startswith("pass 1: tried and undone:") and len(alone.log) == 2
    # pass 1's move and pass 2's were rendered together; nothing was rendered for nothing
    [pair] = batches
    assert [placements.read(css).get(("art-a", "p.jpg")) for css in pair] == [2, 3]
    assert beside.renders == alone.renders


def test_a_first_build_renders_the_tightest_level_beside_the_designed_one():
    """Over the budget, the search asks the tightest level next: it was rendered beside
    the designed one, and the outcome is the one found one render at a time."""
    from types import SimpleNamespace

    from newsletter_pdf.audit.pagemap import PageMap
    from newsletter_pdf.repair import fit_and_repair

    layout = SimpleNamespace(audit={}, repair={
        "passes": 0, "ladder": {"start": 0, "levels": [{}, {"--line": "12pt"}]}})

    def render(css):
        return SimpleNamespace(pages=4 if "--line: 12pt" in css else 5, layout=PageMap([]),
                               problems=None)

    batches = []

    def render_many(sheets):
        batches.append(sheets)
        return [render(css) for css in sheets]

    alone = fit_and_repair(layout, render, multiple=4)
    beside = fit_and_repair(layout, render, multiple=4, render_many=render_many)
    assert (beside.css, beside.log, beside.budget) == (alone.css, alone.log, alone.budget)
    assert beside.rendered.pages == 4 and "--line: 12pt" in beside.css
    assert len(batches) == 1 and "--line: 12pt" in batches[0][1]
    assert beside.renders == alone.renders == 2


def test_a_first_build_lays_out_its_search_and_writes_only_the_chosen_fit(
        make_issue, tmp_path, monkeypatch):
    """The renders of the fit search are laid out only (no PDF written) and kept waiting in
    their children; the chosen one writes its PDF from its layout (not laid out again)
    beside the print edition's render, the others are let go — the same file as a build
    that writes every render it tries (one edition alone)."""
    folder = make_issue()
    calls: list[tuple[str, bool]] = []
    original, original_kept = build_module._render, build_module._write_kept

    def render(manifest, checked, out, name, *args, write=True, **kwargs):
        calls.append((name, write))
        return original(manifest, checked, out, name, *args, write=write, **kwargs)

    def write_kept(manifest, checked, name, chosen, problems):
        calls.append((name, "kept"))
        return original_kept(manifest, checked, name, chosen, problems)

    monkeypatch.setattr(build_module, "_render", render)
    monkeypatch.setattr(build_module, "_write_kept", write_kept)
    both = build_issue(folder, out_dir=tmp_path / "both", preflight=False)
    searched = [call for call in calls if not call[1]]
    assert len(searched) >= 2 and {name for name, _ in searched} == {"email"}
    assert sorted([call for call in calls if call[1]], key=str) == [("email", "kept"),
                                                                 ("print", True)]
    assert build_module._kept == [] and multiprocessing.active_children() == []
    calls.clear()
    alone = build_issue(folder, out_dir=tmp_path / "alone", editions=("email",),
                        preflight=False)
    assert all(write for _, write in calls) and len(calls) >= 2
    assert alone.outputs["email"].path.read_bytes() == \
        both.outputs["email"].path.read_bytes()


def test_a_build_composes_each_document_once_and_every_render_gets_its_own_html(
        make_issue, tmp_path, monkeypatch):
    """The fit search's renders differ mostly in style: a render whose edition and fit
    carry the same document as an earlier one's takes that HTML with its own CSS put in —
    exactly the HTML a compose of its own would give (checked here for every render of a
    first build of the sample, whose search tries several fit levels and repairs)."""
    from newsletter_pdf.compose import compose_html
    from newsletter_pdf.errors import Problems

    from .conftest import SAMPLE

    calls, composed = [], []
    compose, bounded = build_module._compose, build_module.compose_bounded

    def spy(name, manifest, checked, problems, edition):
        html = compose(name, manifest, checked, problems, edition)
        calls.append((manifest, checked, copy.copy(edition), html))
        return html

    def counted(*args, **kwargs):
        composed.append(1)
        return bounded(*args, **kwargs)

    monkeypatch.setattr(build_module, "_compose", spy)
    monkeypatch.setattr(build_module, "compose_bounded", counted)
    build_module.build_issue(SAMPLE, out_dir=tmp_path / "out", editions=("print", "email"),
                             preflight=False, fresh=True)
    assert len(calls) >= 5 and len(composed) < len(calls)
    for manifest, checked, edition, html in calls:
        assert html == compose_html(manifest, checked.articles, checked.layout, Problems(),
                                    edition, checked.allow_html)


def test_every_placement_compose_reads_is_a_document_change():
    """build._compose reuses a document's HTML for another fit with the same document
    changes (compose.document_changes): every placement line compose reads must be one."""
    import inspect
    import re

    from newsletter_pdf import compose

    source = inspect.getsource(compose)
    changes = inspect.getsource(compose.document_changes)
    read = set(re.findall(r"placements\.(read\w*)\(", source))
    assert read == set(re.findall(r"placements\.(read\w*)\(", changes))
    assert read >= {"read", "read_quotes", "read_spans", "read_pulls"}
