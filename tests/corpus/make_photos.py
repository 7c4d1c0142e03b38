"""Generate the corpus issues' photos: deterministic, photographic-looking stand-ins.

Each photo is a small "landscape" painted with Pillow: a sky gradient, a sun or moon, layered
hills with soft edges, a few shapes (trees, buildings, people as silhouettes) and a little
film grain, all drawn from a seeded random generator, so running this script again writes
the same pixels. Sizes are chosen for 300 ppi at the size each photo prints at (column
photos ~1,050 px wide, span/top photos ~2,150 px, covers 2,600 px), and the JPEGs are kept
smooth so the whole corpus stays small.

Run from the repository root:  python tests/corpus/make_photos.py
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent

# folder -> file -> (width, height, seed, palette)
PALETTES = {
    "dawn": ((250, 196, 150), (120, 150, 200), (70, 90, 80)),
    "noon": ((170, 205, 240), (230, 240, 250), (90, 130, 70)),
    "dusk": ((60, 40, 90), (240, 130, 80), (40, 45, 60)),
    "fog": ((200, 205, 210), (235, 235, 235), (120, 125, 130)),
    "desert": ((200, 220, 240), (245, 225, 190), (190, 150, 100)),
    "river": ((150, 190, 220), (215, 230, 240), (60, 110, 90)),
}

PHOTOS: dict[str, dict[str, tuple[int, int, int, str]]] = {
    "text-heavy": {
        "cover-reading-room.jpg": (2600, 2400, 11, "dawn"),
        "library-shelves.jpg": (1100, 760, 12, "fog"),
    },
    "many-photos": {
        "cover-harbour.jpg": (2600, 2400, 21, "dusk"),
        "panorama-coast.jpg": (2200, 620, 22, "river"),
        "portrait-net-mender.jpg": (1050, 1560, 23, "dawn"),
        "portrait-lighthouse.jpg": (1050, 1700, 24, "fog"),
        "boats-at-rest.jpg": (1100, 730, 25, "dusk"),
        "market-stalls.jpg": (1100, 820, 26, "noon"),
        "panorama-dunes.jpg": (2200, 560, 27, "desert"),
        "square-workshop.jpg": (1050, 1050, 28, "noon"),
        "portrait-volunteer.jpg": (1050, 1400, 29, "river"),
        "harbour-wall.jpg": (2200, 1240, 30, "fog"),
    },
    "long-feature": {
        "cover-watershed.jpg": (2600, 2400, 31, "river"),
        "lead-terraces.jpg": (2200, 1100, 32, "noon"),
        "spring-box.jpg": (1080, 760, 33, "river"),
        "pipe-trench.jpg": (2200, 900, 34, "desert"),
        "tap-stand.jpg": (1050, 1400, 35, "dawn"),
    },
    "briefs-boxes": {
        "cover-allotments.jpg": (2600, 2400, 41, "noon"),
        "seed-swap.jpg": (1100, 740, 42, "dawn"),
        "tool-library.jpg": (1100, 900, 43, "fog"),
        "pond-dipping.jpg": (1100, 700, 44, "river"),
        "polytunnel.jpg": (2200, 1200, 45, "noon"),
    },
    "letter-midpage": {
        "cover-choir.jpg": (2600, 2400, 51, "dusk"),
        "rehearsal-hall.jpg": (2200, 1200, 52, "fog"),
        "bus-trip.jpg": (1100, 760, 53, "noon"),
    },
    "us-letter": {
        "cover-prairie.jpg": (2700, 2300, 61, "desert"),
        "food-pantry.jpg": (2200, 1300, 62, "noon"),
        "volunteer-drivers.jpg": (1100, 800, 63, "dusk"),
        "winter-coats.jpg": (1050, 1450, 64, "fog"),
    },
}


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def paint(width: int, height: int, seed: int, palette: str) -> Image.Image:
    """One photo-like picture, the same for the same arguments."""
    rng = random.Random(seed)
    top, horizon, ground = PALETTES[palette]
    # Paint at a quarter of the size and scale up: smooth, quick, and small as a JPEG.
    w, h = max(width // 4, 8), max(height // 4, 8)
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    horizon_y = int(h * rng.uniform(0.38, 0.62))
    for y in range(horizon_y):
        draw.line([(0, y), (w, y)], fill=_mix(top, horizon, (y / max(horizon_y, 1)) ** 1.4))
    # the sun (or a pale disc in fog)
    r = int(min(w, h) * rng.uniform(0.05, 0.1))
    sx, sy = int(w * rng.uniform(0.15, 0.85)), int(horizon_y * rng.uniform(0.3, 0.8))
    draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=_mix(horizon, (255, 250, 235), 0.7))
    # layered hills, paler with distance
    for layer in range(4):
        depth = layer / 3
        colour = _mix(_mix(ground, horizon, 0.65), ground, depth)
        base = horizon_y + int((h - horizon_y) * depth * 0.55)
        amp = h * rng.uniform(0.03, 0.09) * (1 - depth * 0.5)
        phase, freq = rng.uniform(0, 6.28), rng.uniform(1.5, 4.5)
        pts = [(x, base - amp * (1 + math.sin(phase + freq * x / w * 6.28)) / 2
                - amp * 0.4 * math.sin(phase * 2 + 3 * freq * x / w * 6.28))
               for x in range(0, w + 8, 8)]
        draw.polygon([(0, h), *pts, (w, h)], fill=colour)
    # silhouettes: trees, huts, people
    dark = _mix(ground, (20, 20, 25), 0.6)
    for _ in range(rng.randint(4, 12)):
        x = rng.randint(0, w)
        y = rng.randint(horizon_y, h)
        size = int(h * rng.uniform(0.03, 0.12) * (0.5 + (y - horizon_y) / max(h - horizon_y, 1)))
        kind = rng.choice(("tree", "hut", "person"))
        if kind == "tree":
            draw.rectangle([x - size // 10, y - size // 2, x + size // 10, y], fill=dark)
            draw.ellipse([x - size // 2, y - size * 3 // 2, x + size // 2, y - size // 3],
                         fill=_mix(dark, ground, 0.3))
        elif kind == "hut":
            draw.rectangle([x - size, y - size, x + size, y], fill=_mix(dark, horizon, 0.35))
            draw.polygon([(x - size * 1.2, y - size), (x, y - size * 1.8),
                          (x + size * 1.2, y - size)], fill=dark)
        else:
            draw.ellipse([x - size // 6, y - size, x + size // 6, y - size * 2 // 3], fill=dark)
            draw.rectangle([x - size // 5, y - size * 2 // 3, x + size // 5, y], fill=dark)
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    img = img.resize((width, height), Image.Resampling.BICUBIC)
    # a light, seeded grain so it does not look like a vector drawing
    gw, gh = width // 3, height // 3
    grain = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh)).resize((width, height))
    grain = grain.filter(ImageFilter.GaussianBlur(1))
    return Image.blend(img, Image.merge("RGB", (grain, grain, grain)), 0.06)


def main() -> None:
    """Write every corpus photo (the same bytes on every run)."""
    for folder, photos in PHOTOS.items():
        target = HERE / folder / "photos"
        target.mkdir(parents=True, exist_ok=True)
        for name, (width, height, seed, palette) in photos.items():
            img = paint(width, height, seed, palette)
            img.save(target / name, "JPEG", quality=72, optimize=True, dpi=(300, 300))
            print(f"{folder}/photos/{name}: {width}x{height}")


if __name__ == "__main__":
    main()
