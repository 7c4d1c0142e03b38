"""WCAG 2 relative luminance and contrast ratio: one definition for every check that asks
whether a colour reads on another (the mail body's brand colours, the cover's logo)."""

from __future__ import annotations


def relative_luminance(rgb: list[float]) -> float:
    """WCAG relative luminance of sRGB components in 0..1."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def hex_rgb(colour: str) -> list[float]:
    """``#rrggbb`` (or ``#rgb``) as components in 0..1; ValueError if it is not one."""
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        raise ValueError(f"not a hex colour: {colour!r}")
    return [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (or ``#rgb``)."""
    return relative_luminance(hex_rgb(colour))


def contrast(first: float, second: float) -> float:
    """WCAG contrast ratio of two relative luminances (1 to 21)."""
    light, dark = max(first, second), min(first, second)
    return (light + 0.05) / (dark + 0.05)
