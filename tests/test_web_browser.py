"""The sample's web edition in a real browser (headless Chromium): every heading and photo
is there, nothing is fetched from outside its folder, and axe-core finds no serious or
critical accessibility violation, on a phone and on a wide screen."""

from __future__ import annotations

import os

import pytest

from .browser_support import AXE, Browser, chromium_path

REQUIRED = os.environ.get("NEWSLETTER_REQUIRE_BROWSER") == "1"  # make test: never skip


def _need(what: bool, why: str) -> None:
    if not what:
        if REQUIRED:
            pytest.fail(f"{why} (NEWSLETTER_REQUIRE_BROWSER=1)")
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    _need(chromium_path() is not None, "Chromium is not installed (scripts/system-deps.sh)")
    _need(AXE.is_file(), "axe-core is not installed (sh scripts/test-deps.sh)")
    browser = Browser()
    yield browser
    browser.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_web_edition_in_chromium(browser, sample_result, width):
    from newsletter_pdf.build import check_issue

    from .conftest import SAMPLE

    index = sample_result.outputs["web"].path
    folder = index.parent.resolve().as_uri() + "/"
    browser.events.clear()
    browser.page("Network.enable")
    browser.page("Page.enable")
    browser.page("Emulation.setDeviceMetricsOverride", width=width, height=900,
                 deviceScaleFactor=1, mobile=width < 600)
    browser.page("Page.navigate", url=index.resolve().as_uri())
    browser.wait_for("Page.loadEventFired")
    # Lazy photos load as the reader scrolls: scroll through the page, then wait for all.
    loaded = browser.evaluate("""(async () => {
        for (let y = 0; y < document.body.scrollHeight; y += 600) {
            window.scrollTo(0, y); await new Promise(r => setTimeout(r, 30)); }
        const imgs = [...document.images];
        await Promise.all(imgs.map(i => i.decode().catch(() => null)));
        return imgs.map(i => [i.alt, i.naturalWidth, i.currentSrc]);
    })()""")
    headings = browser.evaluate("[...document.querySelectorAll('h1, h2, h3')]"
                                ".map(h => h.tagName + ' ' + h.textContent.trim())")
    requests = [e["params"]["request"]["url"] for e in browser.events
                if e.get("method") == "Network.requestWillBeSent"]
    failed = [e["params"] for e in browser.events
              if e.get("method") == "Network.loadingFailed"]

    checked = check_issue(SAMPLE)
    plain = [h.replace("’", "'").replace("“", '"').replace("”", '"') for h in headings]
    for article in checked.articles:
        assert f"H2 {article.title}" in plain
    assert [h for h in headings if h.startswith("H1")] == ["H1 IOM Iraq Newsletter"]
    photos = [p for spec in checked.manifest.articles for p in spec.photos]
    assert len(loaded) >= len(photos) + 2  # + the cover and the logo
    for alt, natural_width, src in loaded:
        assert natural_width > 0, (alt, src)  # every image decoded
        assert src.startswith(folder)
    webp = [src for _, _, src in loaded if src.endswith(".webp")]
    assert len(webp) == len(photos) + 1  # the browser chose the modern format
    assert requests and failed == []
    outside = [url for url in requests if not url.startswith(folder)]
    assert outside == []

    browser.evaluate(AXE.read_text(encoding="utf-8") + "; true")
    results = browser.evaluate("axe.run(document, {resultTypes: ['violations']})"
                               ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
                               " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))")
    serious = [v for v in results if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert results == []  # not even a moderate or minor one
