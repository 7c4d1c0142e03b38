"""Screenshots of a web edition in headless Chromium, for the README.

    python scripts/web_screenshots.py build/2011-q1/web docs/

writes docs/web-375.png (a phone) and docs/web-1280.png (a wide screen): the top of the
page, as a reader first sees it.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from tests.browser_support import Browser  # noqa: E402

SHOTS = {375: 1700, 1280: 1500}  # width -> height (CSS px)


def main(folder: Path, out: Path) -> None:
    browser = Browser()
    try:
        for width, height in SHOTS.items():
            browser.page("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=width < 600)
            browser.page("Page.enable")
            browser.page("Page.navigate", url=(folder / "index.html").resolve().as_uri())
            browser.wait_for("Page.loadEventFired")
            # lazy photos below the fold never load: wait for the rest, at most 3 s
            browser.evaluate("Promise.race([Promise.all([...document.images].map(i => "
                             "i.decode().catch(() => null))), "
                             "new Promise(r => setTimeout(r, 3000))])")
            data = browser.page("Page.captureScreenshot", format="png")["data"]
            image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
            target = out / f"web-{width}.png"
            image.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(target,
                                                                              optimize=True)
            print(f"{target}: {image.width}×{image.height}")
    finally:
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
