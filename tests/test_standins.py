"""Photos laid out before their pixels exist (standins.py): planned exactly, written real."""

from __future__ import annotations

import contextlib
import io
import shutil
import threading
import time

import pikepdf
import pytest
from PIL import Image

from newsletter_pdf import standins
from newsletter_pdf.editions import DEFAULT_PROFILE
from newsletter_pdf.errors import Problems
from newsletter_pdf.imageprep import Target, plan_image, prepare_images
from newsletter_pdf.layouts import data_dir
from newsletter_pdf.progress import Reporter
from newsletter_pdf.render import render_pdf

from .conftest import SAMPLE

PROFILE = data_dir("profiles") / DEFAULT_PROFILE
EMAIL = Target("email", 87.0, 150, 180, 80)
PRESS = Target("print", 180.0, 300, 450, 92, PROFILE)


def _jpeg(path, mode, size, orientation=None):
    image = Image.new(mode, size, {"L": 90, "RGB": (20, 90, 160),
                                   "CMYK": (10, 60, 0, 20)}[mode])
    kwargs = {}
    if orientation:
        exif = image.getexif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    image.save(path, "JPEG", **kwargs)
    return path


@pytest.mark.parametrize("mode, size, orientation", [
    ("RGB", (3000, 2000), None),   # both copies shrunk; print's decode at full size
    ("RGB", (6000, 1000), None),   # a panorama decoded in draft (at half its size)
    ("RGB", (2000, 3000), 6),      # turned a quarter by its EXIF orientation
    ("RGB", (900, 600), None),     # small: kept as it is
    ("CMYK", (2400, 1600), None),  # CMYK in: RGB for the screen
    ("L", (1600, 2400), 8),        # greyscale stays greyscale
])
def test_a_planned_copy_is_exactly_the_prepared_one(tmp_path, mode, size, orientation):
    # The plan (read from the header alone) is what a render lays out: the copy made later
    # has the same path, pixel size and mode, for each edition, decoded for the finest.
    source = _jpeg(tmp_path / "photo.jpg", mode, size, orientation)
    cache = tmp_path / "cache"
    plans = [plan_image(source, target, cache, PRESS) for target in (PRESS, EMAIL)]
    made = prepare_images(source, [PRESS, EMAIL], cache, basis=PRESS)
    for plan, copy in zip(plans, made):
        with Image.open(copy.path) as real:
            assert (plan.path, plan.width, plan.height, plan.mode) == \
                (copy.path, real.width, real.height, real.mode)


def test_a_png_is_not_planned(tmp_path):
    # A PNG's copy is a PNG or a JPEG depending on its transparency: only its pixels say
    source = tmp_path / "logo.png"
    Image.new("RGBA", (400, 200), (0, 0, 0, 0)).save(source)
    assert plan_image(source, EMAIL, tmp_path / "cache") is None


@pytest.mark.parametrize("mode", ["RGB", "CMYK", "L"])
def test_a_stand_in_reads_as_the_photo_it_stands_for(mode):
    with Image.open(io.BytesIO(standins.stand_in(3264, 2448, mode))) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (3264, 2448), mode)
        real = io.BytesIO()
        Image.new(mode, (10, 10)).save(real, "JPEG")
        with Image.open(real) as made:  # the same colour encoding (CMYK: Adobe's marker)
            assert ("APP14" in image.app) == ("APP14" in made.app)


def _html(src: str) -> str:
    return (f'<html><body style="margin:0"><p>Before</p><img src="{src}" '
            'style="width:80mm"><p>After</p></body></html>')


def _images(pdf: bytes) -> list[tuple[int, int, bytes]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [(int(im.Width), int(im.Height), im.read_raw_bytes())
                for page in doc.pages for im in page.get_images().values()]


def _drawn(pdf: bytes) -> list[bytes]:
    """What each page draws where (text and images placed)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [page.Contents.read_bytes() for page in doc.pages]


def _write_later(source: bytes, target, delay: float = 0.4,
                 after: threading.Event | None = None) -> threading.Thread:
    """Write the copy ``delay`` seconds from now (or once ``after`` is set)."""
    def write():
        if after is not None:
            after.wait(60)
        else:
            time.sleep(delay)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def _stood_in(monkeypatch) -> threading.Event:
    """Set once this process serves a stand-in."""
    served, real = threading.Event(), standins.stand_in

    def spy(*args):
        served.set()
        return real(*args)

    monkeypatch.setattr(standins, "stand_in", spy)
    return served


@pytest.mark.parametrize("isolate", [True, False])
def test_a_render_lays_out_a_stand_in_and_writes_the_real_photo(tmp_path, monkeypatch,
                                                                isolate):
    # The copy does not exist when the render starts: it is laid out at its planned size,
    # and the PDF carries the real copy's bytes, exactly as a render started after it.
    # (In-process, the copy is written only once the stand-in was served.)
    real = io.BytesIO()
    Image.new("CMYK", (1200, 800), (0, 80, 90, 0)).save(real, "JPEG", quality=90)
    copy = tmp_path / "cache" / "copy.jpg"
    stand_ins = {str(copy): (1200, 800, "CMYK")}
    writer = _write_later(real.getvalue(), copy,
                          after=None if isolate else _stood_in(monkeypatch))
    early = render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(),
                       isolate=isolate, stand_ins=stand_ins)
    writer.join()
    late = render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(), isolate=isolate)
    assert _images(early.pdf) == _images(late.pdf) == [(1200, 800, real.getvalue())]
    assert _drawn(early.pdf) == _drawn(late.pdf)  # laid out the same


def test_a_copy_unlike_its_stand_in_is_laid_out_again(tmp_path, monkeypatch):
    # Never expected (plans match copies), but never trusted: a copy of another size is
    # laid out from the real file, not drawn into the stand-in's box.
    real = io.BytesIO()
    Image.new("RGB", (600, 600), (200, 40, 40)).save(real, "JPEG")
    copy = tmp_path / "cache" / "copy.jpg"
    writer = _write_later(real.getvalue(), copy, after=_stood_in(monkeypatch))
    wrong = render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(),
                       isolate=False, stand_ins={str(copy): (1200, 300, "RGB")})
    writer.join()
    right = render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(), isolate=False)
    assert _images(wrong.pdf) == [(600, 600, real.getvalue())]
    assert _drawn(wrong.pdf) == _drawn(right.pdf)


def test_on_another_engine_version_the_render_waits_for_the_photos(tmp_path, monkeypatch):
    # put_in_place relies on the image object of the WeasyPrint version the patch module
    # was written for: on another, no stand-in is served; the render waits, then lays out.
    monkeypatch.setattr(standins, "supported", lambda: False)
    monkeypatch.setattr(standins, "stand_in", lambda *a: pytest.fail("stood in"))
    real = io.BytesIO()
    Image.new("RGB", (800, 400), (20, 40, 200)).save(real, "JPEG")
    copy = tmp_path / "cache" / "copy.jpg"
    writer = _write_later(real.getvalue(), copy, delay=0.2)
    rendered = render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(),
                          isolate=False, stand_ins={str(copy): (800, 400, "RGB")})
    writer.join()
    assert _images(rendered.pdf) == [(800, 400, real.getvalue())]


def test_a_render_stops_waiting_when_the_photo_pass_fails(tmp_path):
    from newsletter_pdf.errors import RenderError

    copy, failed = tmp_path / "cache" / "copy.jpg", tmp_path / "failed"
    failed.write_text("")
    start = time.monotonic()
    with pytest.raises(RenderError, match="the photos being prepared never arrived"):
        render_pdf(_html(copy.as_uri()), tmp_path, [tmp_path], Problems(), isolate=False,
                   stand_ins={str(copy): (800, 400, "RGB")}, photos_failed=str(failed))
    assert time.monotonic() - start < 30  # not the render's wait limit (minutes)


class _Timeline(Reporter):
    """Records when each stage starts and ends."""

    def __init__(self):
        super().__init__(stream=io.StringIO(), live=False)
        self.spans: list[tuple[str, float, float]] = []

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        with super().stage(name):
            yield
        self.spans.append((name, start, time.perf_counter()))


def test_a_first_build_lays_out_while_its_photos_are_prepared(tmp_path):
    # The search's first layouts start before the photo pass (11 photos decoded, resized,
    # converted for the press) is over; the PDFs are those of a build whose photos were
    # all prepared first (a rebuild into the same folder takes them from the cache).
    from newsletter_pdf.build import build_issue

    issue, out = tmp_path / "issue", tmp_path / "out"
    shutil.copytree(SAMPLE, issue)
    timeline = _Timeline()
    first = build_issue(issue, out_dir=out, editions=("print", "email"), reporter=timeline)
    [(_, _, photos_done)] = [s for s in timeline.spans if s[0] == "prepare photos"]
    layouts = [start for name, start, _ in timeline.spans if name.startswith("lay out")]
    assert min(layouts) < photos_done
    again = build_issue(issue, out_dir=out, editions=("print", "email"), fresh=True)
    for name in ("print", "email"):
        assert again.outputs[name].path.read_bytes() == first.outputs[name].path.read_bytes()


def test_every_photo_of_the_sample_is_planned_as_it_is_prepared(tmp_path):
    # The real photos (progressive JPEGs, EXIF, panoramas): each edition's copy has the
    # planned path, size and mode (a mismatch would cost a second layout, see above).
    from newsletter_pdf.editions import photo_bases, photo_targets
    from newsletter_pdf.editions.base import prepare_sources
    from newsletter_pdf.layouts import load_layout
    from newsletter_pdf.manifest import load_manifest

    manifest = load_manifest(SAMPLE / "issue.yaml", Problems())
    layout = load_layout(manifest, Problems())
    jobs = photo_targets(["print", "email"], manifest, layout)
    bases, cache = photo_bases(manifest, layout), tmp_path / "cache"
    made = prepare_sources(manifest, layout, jobs, cache, Problems())
    planned = 0
    for path, targets in jobs.items():
        for target, copy in zip(targets, made[path]):
            plan = plan_image(path, target, cache, bases[path])
            with Image.open(copy.path) as real:
                assert (plan.path, plan.width, plan.height, plan.mode) == \
                    (copy.path, real.width, real.height, real.mode), (path.name, target)
            planned += 1
    assert planned == 22
