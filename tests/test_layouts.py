"""Layouts: found on a search path, extendable one block or one stylesheet at a time."""

from __future__ import annotations

import pypdf
import pytest

from newsletter_pdf.build import build_issue, check_issue
from newsletter_pdf.errors import ValidationError
from newsletter_pdf.layouts import data_dir


def text_of(path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_issue_layout_extends_builtin_and_overrides_one_block_and_one_sheet(make_issue,
                                                                           tmp_path):
    folder = make_issue(files={
        "layouts/ours/layout.yaml": "extends: newsletter\ncolours:\n  primary: '#7a1f5c'\n",
        "layouts/ours/templates/issue.html": """\
            {% extends "!newsletter/issue.html" %}
            {% block back %}<section class="ours"><p>Printed on recycled paper.</p></section>
            {% endblock %}
            """,
        # same name as the parent's sheet: replaces it, the other sheets still apply
        "layouts/ours/css/back.css": ".ours p { font-size: 14pt; }\n",
    })
    manifest = (folder / "issue.yaml").read_text()
    (folder / "issue.yaml").write_text(manifest + "layout: ours\n")
    checked = check_issue(folder)
    assert [d.name for d in checked.layout.chain] == ["ours", "newsletter"]
    assert checked.layout.colours["primary"] == "#7a1f5c"
    assert checked.layout.colours["accent"] == "#d9822b"  # inherited
    sheets = checked.layout.stylesheet_paths()
    assert folder / "layouts/ours/css/back.css" in sheets
    assert data_dir("layouts") / "newsletter/css/articles.css" in sheets
    result = build_issue(folder, out_dir=tmp_path / "out", editions=("email",))
    text = text_of(result.outputs["email"].path)
    assert "Printed on recycled paper." in text
    assert "Small News" in text  # the parent's article template still did its work


def test_user_layout_folder_is_on_the_search_path(make_issue, tmp_path, monkeypatch):
    user = tmp_path / "user-layouts"
    (user / "plain").mkdir(parents=True)
    (user / "plain" / "layout.yaml").write_text("extends: newsletter\n")
    monkeypatch.setenv("NEWSLETTER_LAYOUTS", str(user))
    folder = make_issue()
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text() + "layout: plain\n")
    assert check_issue(folder).layout.chain[0] == user / "plain"


def test_missing_layout_is_a_clear_error(make_issue):
    folder = make_issue()
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text() + "layout: nope\n")
    with pytest.raises(ValidationError) as info:
        check_issue(folder)
    [problem] = info.value.problems
    assert problem.key == "layout"
    assert str(problem).split(": ", 1)[1].startswith("layout: layout 'nope' not found; "
                                                     "looked in ")
    assert str(problem).endswith("Use 'newsletter' or create that folder with a layout.yaml")


def test_layout_name_cannot_be_a_path(make_issue):
    folder = make_issue()
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text()
                                       + "layout: ../../elsewhere\n")
    with pytest.raises(ValidationError) as info:
        check_issue(folder)
    [problem] = info.value.problems
    assert str(problem).endswith("layout: layout '../../elsewhere' is not a layout name; give "
                                 "the name of a folder in layouts/ (no '/' or '..')")


def test_issue_templates_are_sandboxed(make_issue, tmp_path):
    from newsletter_pdf.errors import RenderError

    folder = make_issue(files={
        "layouts/evil/layout.yaml": "extends: newsletter\n",
        "layouts/evil/templates/issue.html":
            "{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
    })
    (folder / "issue.yaml").write_text((folder / "issue.yaml").read_text() + "layout: evil\n")
    with pytest.raises(RenderError) as info:
        build_issue(folder, out_dir=tmp_path / "out", editions=("email",))
    message = str(info.value)
    assert message.startswith(str(folder / "layouts/evil/templates/issue.html") + ":1: ")
    assert "unsafe" in message and message.endswith("fix the layout's template")
    assert not (tmp_path / "out" / "test-newsletter-2024-q2-email.pdf").exists()
