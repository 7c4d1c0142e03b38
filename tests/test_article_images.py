"""Every image that reaches a PDF is prepared for its edition, wherever the editor wrote it:
in the manifest, in an article's front matter, or in the article's text (Markdown).

A photo that skipped preparation went into the print PDF as its RGB original (the print
shop's preflight fails on it) and into the email PDF at its full size."""

from __future__ import annotations

import pytest
from PIL import Image

from newsletter_pdf.build import build_issue, check_issue
from newsletter_pdf.errors import ValidationError
from newsletter_pdf.pdfinspect import inspect_pdf

from .conftest import DEFAULT_MANIFEST

#: The small issue of conftest, its article listing no photo, and a second article.
MANIFEST = DEFAULT_MANIFEST.split("    photos:")[0] + "  - file: articles/coach.md\n"

COACH = """\
---
title: Coach of the Season
photos:
  - file: ../photos/coach.jpg
    caption: The coach at the park.
    alt: A man standing on a field
---

The board's coach of the season lines the fields himself on Saturday mornings.

His players voted for him too, and the parents' committee agreed at once.
"""


def _portrait(path):
    """A 900 x 1200 px RGB portrait at 300 dpi: 76 mm wide in print at full size, far
    more than an email copy needs."""
    image = Image.linear_gradient("L").resize((900, 1200)).convert("RGB")
    image.save(path, quality=90, dpi=(300, 300))


@pytest.fixture
def coach_issue(make_issue):
    folder = make_issue(MANIFEST, {"articles/coach.md": COACH})
    _portrait(folder / "photos" / "coach.jpg")
    return folder


def test_front_matter_photos_are_prepared_for_print_and_email(coach_issue, tmp_path):
    out = tmp_path / "out"
    result = build_issue(coach_issue, out_dir=out, editions=("print", "email"))
    print_pdf, email_pdf = result.outputs["print"], result.outputs["email"]
    assert print_pdf.preflight.ok, print_pdf.preflight.failures
    assert email_pdf.preflight.ok, email_pdf.preflight.failures
    printed = [i for p in inspect_pdf(print_pdf.path) for i in p.images]
    assert len(printed) == 2  # the cover, the coach in its article
    assert {i.colour_space for i in printed} == {"DeviceCMYK"}
    assert all(i.ppi >= 200 for i in printed), [round(i.ppi) for i in printed]
    emailed = [i for p in inspect_pdf(email_pdf.path) for i in p.images]
    coach = [i for i in emailed if i.pixel_height > i.pixel_width]  # the only portrait
    assert len(coach) == 1
    # an email copy (about 150 ppi where the designed level sets it, 100 or more at the
    # loosest fit), never the 900 x 1200 px original
    assert coach[0].pixel_width < 900 and 100 <= coach[0].ppi <= 190, coach[0]


def test_a_front_matter_photo_is_checked_once_at_its_line(make_issue):
    folder = make_issue(MANIFEST, {"articles/coach.md": COACH})
    (folder / "photos" / "coach.jpg").write_bytes(b"not a photo at all")
    with pytest.raises(ValidationError) as caught:
        check_issue(folder)
    found = [str(p) for p in caught.value.problems if "coach.jpg" in str(p)]
    assert len(found) == 1, found
    assert found[0].startswith(f"{folder / 'articles' / 'coach.md'}:4:")


TEXT_IMAGE = """\
---
title: The Season in Numbers
---

Goals went up this season, and the chart below shows by how much.

![A bar chart of goals per month](../photos/chart.jpg)

The under-twelves scored most of them, as the parents were quick to point out.
"""


def test_an_image_in_the_text_is_prepared_and_set_within_its_column(make_issue, tmp_path):
    folder = make_issue(MANIFEST.replace("articles/coach.md", "articles/numbers.md"),
                        {"articles/numbers.md": TEXT_IMAGE})
    Image.linear_gradient("L").resize((2400, 1600)).convert("RGB").save(
        folder / "photos" / "chart.jpg", quality=90)
    out = tmp_path / "out"
    result = build_issue(folder, out_dir=out, editions=("print", "email", "web"))
    print_pdf, email_pdf = result.outputs["print"], result.outputs["email"]
    assert print_pdf.preflight.ok, print_pdf.preflight.failures
    printed = [i for p in inspect_pdf(print_pdf.path) for i in p.images if p.number > 1]
    [chart] = printed
    assert chart.colour_space == "DeviceCMYK" and 300 <= chart.ppi <= 460, chart
    assert chart.width_pt * 25.4 / 72 <= 88  # within its column (87 mm), not 635 mm
    [emailed] = [i for p in inspect_pdf(email_pdf.path) for i in p.images if p.number > 1]
    assert emailed.pixel_width < 2400 and 120 <= emailed.ppi <= 190, emailed
    index = (result.outputs["web"].path).read_text(encoding="utf-8")
    assert "file:" not in index
    assert 'alt="A bar chart of goals per month"' in index
