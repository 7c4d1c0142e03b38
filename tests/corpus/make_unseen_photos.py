"""Draw the unseen issues' illustrations (CC0, generated; deterministic).

Run with the project's Python: `.venv/bin/python tests/corpus/make_unseen_photos.py`.
Each picture is a plain illustration (gradients, shapes, a few objects) standing in
for a photo an editor would have; sizes vary from 1200 to 3000 px on the long side.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent


def gradient(w: int, h: int, top: tuple, bottom: tuple) -> Image.Image:
    """A vertical gradient from top to bottom colour."""
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for y in range(h):
        t = y / max(1, h - 1)
        c = tuple(int(top[i] + (bottom[i] - top[i]) * t) for i in range(3))
        d.line([(0, y), (w, y)], fill=c)
    return im


def hills(im: Image.Image, rng: random.Random, colours: list[tuple], base: float) -> None:
    """Layered rolling hills from a horizon at `base` (fraction of height)."""
    w, h = im.size
    d = ImageDraw.Draw(im)
    for k, col in enumerate(colours):
        y0 = h * (base + 0.08 * k)
        amp = h * (0.05 + 0.03 * rng.random())
        ph = rng.random() * 6
        pts = [(0, h)]
        for x in range(0, w + 20, 20):
            y = (
                y0
                - amp * math.sin(x / w * (2 + k) * math.pi + ph)
                - amp * 0.4 * math.sin(x / w * 9 + ph * 2)
            )
            pts.append((x, y))
        pts.append((w, h))
        d.polygon(pts, fill=col)


def river(im: Image.Image, rng: random.Random, y_frac: float, colour=(92, 140, 178)) -> None:
    """A meandering river band across the lower picture."""
    w, h = im.size
    d = ImageDraw.Draw(im)
    ph = rng.random() * 6
    top, bot = [], []
    for x in range(0, w + 20, 20):
        c = h * y_frac + h * 0.05 * math.sin(x / w * 3 * math.pi + ph)
        width = h * (0.04 + 0.05 * x / w)
        top.append((x, c - width / 2))
        bot.append((x, c + width / 2))
    d.polygon(top + bot[::-1], fill=colour)
    for _ in range(40):
        x = rng.randrange(w)
        c = h * y_frac + h * 0.05 * math.sin(x / w * 3 * math.pi + ph)
        d.line(
            [(x, c), (x + rng.randrange(20, 80), c)], fill=(200, 220, 235), width=max(2, h // 400)
        )


def person(d: ImageDraw.ImageDraw, x: float, y: float, s: float, colour: tuple) -> None:
    """A simple standing figure with feet at (x, y), s tall."""
    head = s * 0.13
    d.ellipse([x - head, y - s, x + head, y - s + 2 * head], fill=(214, 170, 140))
    d.rounded_rectangle(
        [x - s * 0.18, y - s + 2.1 * head, x + s * 0.18, y - s * 0.42],
        radius=int(s * 0.06),
        fill=colour,
    )
    d.rectangle([x - s * 0.14, y - s * 0.43, x - s * 0.03, y], fill=(50, 55, 70))
    d.rectangle([x + s * 0.03, y - s * 0.43, x + s * 0.14, y], fill=(50, 55, 70))


def crates(d: ImageDraw.ImageDraw, rng: random.Random, x0: int, y0: int, n: int, size: int) -> None:
    """Stacks of food crates with tins and vegetables."""
    for i in range(n):
        for j in range(rng.randint(1, 3)):
            x = x0 + i * int(size * 1.1)
            y = y0 - j * int(size * 0.75)
            d.rectangle(
                [x, y - size * 0.7, x + size, y],
                fill=(176, 132, 84),
                outline=(120, 84, 50),
                width=max(2, size // 40),
            )
            for k in range(4):
                cx = x + size * (0.15 + 0.23 * k)
                col = rng.choice([(200, 60, 50), (230, 160, 40), (90, 150, 60), (210, 200, 180)])
                d.ellipse(
                    [cx - size * 0.09, y - size * 0.85, cx + size * 0.09, y - size * 0.65], fill=col
                )


def tree(d: ImageDraw.ImageDraw, x: float, y: float, s: float, colour: tuple) -> None:
    """A round-crowned tree with its foot at (x, y)."""
    d.rectangle([x - s * 0.05, y - s * 0.5, x + s * 0.05, y], fill=(90, 64, 40))
    d.ellipse([x - s * 0.35, y - s * 1.05, x + s * 0.35, y - s * 0.38], fill=colour)


def save(im: Image.Image, path: Path, quality: int = 88) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = im.filter(ImageFilter.GaussianBlur(1.2))
    im.save(path, "JPEG", quality=quality, optimize=True, dpi=(300, 300))
    print(path.relative_to(HERE), im.size)


def logo(path: Path, text: str, colour: tuple, mark: str, size=(1400, 420)) -> None:
    """A PNG logo with a transparent background: a mark and the name."""
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    h = size[1]
    if mark == "bowl":
        d.pieslice([30, h * 0.15, h * 0.85, h * 0.95], 0, 180, fill=colour + (255,))
        for k in range(3):
            d.arc(
                [h * (0.25 + 0.12 * k), h * 0.05, h * (0.4 + 0.12 * k), h * 0.5],
                200,
                340,
                fill=colour + (255,),
                width=12,
            )
    elif mark == "wave":
        for k in range(3):
            pts = [
                (30 + x, h * (0.3 + 0.2 * k) + 30 * math.sin(x / 50))
                for x in range(0, int(h * 0.9), 4)
            ]
            d.line(pts, fill=colour + (255,), width=22)
    else:
        d.ellipse([30, h * 0.1, h * 0.85, h * 0.9], fill=colour + (255,))
        d.ellipse([h * 0.2, h * 0.3, h * 0.65, h * 0.7], fill=(0, 0, 0, 0))
    try:
        font = ImageFont.truetype(
            str(HERE.parents[1] / "fonts" / "lato" / "Lato-Bold.ttf"), int(h * 0.3)
        )
    except OSError:
        font = ImageFont.load_default()
    d.text((h * 1.0, h * 0.32), text, fill=colour + (255,), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "PNG", dpi=(300, 300))
    print(path.relative_to(HERE), im.size)


def foodbank() -> None:
    out = HERE / "larder-lane" / "photos"
    rng = random.Random(11)
    # cover: warehouse interior, landscape 2480 x 1754
    im = gradient(2480, 1754, (236, 226, 206), (180, 160, 130))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 1300, 2480, 1754], fill=(150, 140, 128))
    for x in range(100, 2400, 420):
        d.rectangle([x, 350, x + 300, 1300], outline=(110, 110, 120), width=14)
        for y in range(500, 1300, 260):
            d.line([(x, y), (x + 300, y)], fill=(110, 110, 120), width=10)
    crates(d, rng, 180, 1500, 6, 300)
    for i, x in enumerate([1650, 1950, 2250]):
        person(d, x, 1650, 700, [(200, 70, 60), (60, 110, 170), (240, 180, 60)][i])
    save(im, out / "cover-warehouse.jpg")
    # portrait of the new coordinator: 1400 x 2000
    im = gradient(1400, 2000, (120, 150, 170), (210, 215, 220))
    d = ImageDraw.Draw(im)
    d.ellipse([450, 380, 950, 980], fill=(205, 160, 130))
    d.ellipse([430, 300, 970, 700], fill=(60, 45, 40))
    d.ellipse([480, 480, 920, 980], fill=(205, 160, 130))
    d.rounded_rectangle([250, 1050, 1150, 2100], radius=200, fill=(70, 100, 80))
    d.polygon([(600, 1050), (700, 1250), (800, 1050)], fill=(240, 240, 235))
    save(im, out / "portrait-coordinator.jpg")
    # van: landscape 2400 x 1600
    im = gradient(2400, 1600, (170, 200, 230), (235, 240, 245))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 1150, 2400, 1600], fill=(95, 95, 100))
    d.rounded_rectangle(
        [400, 550, 1900, 1200], radius=60, fill=(245, 245, 240), outline=(80, 80, 80), width=8
    )
    d.rectangle([1500, 620, 1850, 900], fill=(140, 180, 210))
    d.rectangle([450, 760, 1400, 880], fill=(200, 70, 60))
    for cx in (700, 1600):
        d.ellipse([cx - 150, 1080, cx + 150, 1380], fill=(30, 30, 30))
        d.ellipse([cx - 60, 1170, cx + 60, 1290], fill=(160, 160, 160))
    person(d, 2100, 1350, 600, (200, 70, 60))
    save(im, out / "van-route.jpg")
    # allotment: 1800 x 1200
    im = gradient(1800, 1200, (190, 215, 235), (240, 240, 230))
    hills(im, rng, [(120, 160, 90), (96, 140, 70)], 0.45)
    d = ImageDraw.Draw(im)
    for r in range(6):
        y = 720 + r * 80
        d.rectangle([100, y, 1700, y + 40], fill=(110, 80, 50))
        for x in range(140, 1700, 90):
            d.ellipse([x, y - 30, x + 50, y + 10], fill=(70, 140, 60))
    person(d, 1400, 1150, 420, (60, 110, 170))
    save(im, out / "allotment.jpg")
    logo(out / "logo.png", "Larder Lane", (180, 60, 50), "bowl")
    logo(out / "logo-white.png", "Larder Lane", (255, 255, 255), "bowl")


def river_trust() -> None:
    out = HERE / "calder-brook" / "photos"
    rng = random.Random(23)

    def scene(
        w: int,
        h: int,
        name: str,
        trees: int = 5,
        people: int = 0,
        base: float = 0.42,
        water: float = 0.72,
    ) -> None:
        im = gradient(w, h, (150, 190, 225), (230, 238, 240))
        hills(im, rng, [(110, 140, 95), (85, 125, 75), (70, 110, 60)], base)
        river(im, rng, water)
        d = ImageDraw.Draw(im)
        s = min(w, h)
        for _ in range(trees):
            tree(
                d,
                rng.randrange(w),
                h * (base + 0.18 + rng.random() * 0.1),
                s * (0.18 + rng.random() * 0.12),
                (50 + rng.randrange(40), 100 + rng.randrange(50), 50),
            )
        for i in range(people):
            person(
                d,
                w * (0.3 + 0.15 * i),
                h * 0.96,
                s * 0.45,
                rng.choice([(230, 180, 40), (200, 70, 60), (60, 110, 170)]),
            )
        save(im, out / name)

    scene(3000, 2000, "cover-weir.jpg", trees=7)
    scene(3000, 1000, "panorama-valley.jpg", trees=12, base=0.35, water=0.75)
    scene(1200, 1800, "portrait-volunteer.jpg", trees=2, people=1, base=0.3, water=0.6)
    scene(1800, 1800, "square-kingfisher-bank.jpg", trees=3)
    scene(2400, 1600, "planting-day.jpg", trees=4, people=3)
    scene(2000, 1500, "fish-pass.jpg", trees=2)
    # kingfisher close-up, square 1500
    im = gradient(1500, 1500, (90, 120, 90), (160, 180, 140))
    d = ImageDraw.Draw(im)
    d.line([(0, 1000), (1500, 880)], fill=(90, 64, 40), width=50)
    d.ellipse([500, 550, 1000, 950], fill=(30, 120, 190))
    d.ellipse([820, 450, 1100, 700], fill=(30, 110, 180))
    d.polygon([(1080, 560), (1350, 600), (1080, 620)], fill=(30, 30, 30))
    d.ellipse([550, 800, 900, 980], fill=(230, 130, 40))
    d.ellipse([960, 520, 1000, 560], fill=(10, 10, 10))
    save(im, out / "kingfisher.jpg")
    # water sampling: portrait 1600 x 2200
    im = gradient(1600, 2200, (120, 150, 160), (60, 90, 110))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle(
        [500, 300, 1100, 1900], radius=80, fill=(235, 240, 245), outline=(90, 90, 90), width=10
    )
    d.rectangle([520, 1100, 1080, 1880], fill=(170, 150, 100))
    for y in range(500, 1800, 200):
        d.line([(1000, y), (1100, y)], fill=(60, 60, 60), width=8)
    save(im, out / "sample-tube.jpg")
    logo(out / "logo.png", "Calder Brook Rivers Trust", (30, 90, 120), "wave", size=(2000, 420))
    logo(
        out / "logo-white.png",
        "Calder Brook Rivers Trust",
        (255, 255, 255),
        "wave",
        size=(2000, 420),
    )


def maison() -> None:
    out = HERE / "maison-des-pentes" / "photos"
    rng = random.Random(37)
    # cover: a street with steps and houses, 2600 x 1800
    im = gradient(2600, 1800, (240, 200, 150), (250, 235, 210))
    d = ImageDraw.Draw(im)
    for x in range(0, 2600, 330):
        top = 300 + rng.randrange(300)
        col = rng.choice([(214, 150, 100), (230, 190, 120), (200, 120, 90), (236, 210, 170)])
        d.rectangle([x, top, x + 320, 1800], fill=col)
        for wy in range(top + 80, 1500, 200):
            for wx in (x + 50, x + 190):
                d.rectangle([wx, wy, wx + 80, wy + 120], fill=(80, 100, 120))
    for k in range(12):
        y = 1500 + k * 25
        d.rectangle([0, y, 2600, y + 25], fill=(160 - k * 4, 150 - k * 4, 140 - k * 4))
    for i in range(4):
        person(
            d,
            700 + i * 380,
            1780,
            560,
            rng.choice([(200, 70, 60), (60, 110, 170), (240, 180, 60), (90, 150, 90)]),
        )
    save(im, out / "couverture-montee.jpg")
    # kitchen workshop: 2000 x 1400
    im = gradient(2000, 1400, (245, 240, 230), (210, 200, 185))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 900, 2000, 1400], fill=(150, 110, 80))
    for i in range(5):
        cx = 250 + i * 380
        d.ellipse(
            [cx - 120, 780, cx + 120, 900],
            fill=rng.choice([(200, 60, 50), (230, 160, 40), (90, 150, 60)]),
        )
    for i in range(3):
        person(d, 400 + i * 600, 900, 700, rng.choice([(200, 70, 60), (60, 110, 170)]))
    save(im, out / "atelier-cuisine.jpg")
    # homework club: square 1600
    im = gradient(1600, 1600, (220, 230, 240), (240, 240, 235))
    d = ImageDraw.Draw(im)
    d.rectangle([100, 1000, 1500, 1080], fill=(140, 100, 70))
    for i in range(3):
        person(
            d, 350 + i * 450, 1000, 600, rng.choice([(240, 180, 60), (60, 110, 170), (200, 70, 60)])
        )
        d.rectangle([260 + i * 450, 950, 440 + i * 450, 1000], fill=(250, 250, 250))
    save(im, out / "aide-devoirs.jpg")
    # garden: portrait 1300 x 1800
    im = gradient(1300, 1800, (170, 205, 235), (235, 240, 230))
    hills(im, rng, [(110, 150, 90)], 0.55)
    d = ImageDraw.Draw(im)
    for i in range(4):
        tree(d, 150 + i * 330, 1500, 600, (60, 120 + i * 10, 60))
    person(d, 650, 1780, 700, (200, 70, 60))
    save(im, out / "jardin-partage.jpg")
    logo(out / "logo.png", "Maison des Pentes", (40, 90, 150), "ring", size=(1800, 420))
    logo(out / "logo-blanc.png", "Maison des Pentes", (255, 255, 255), "ring", size=(1800, 420))


if __name__ == "__main__":
    foodbank()
    river_trust()
    maison()
