"""The operator's look: brand colour, logo and font, as CSS variables in a stylesheet of their own.

The stylesheet is built once at start-up. The brand colour is adjusted where needed so that
links and buttons keep WCAG AA contrast (4.5:1) in both light and dark schemes, whatever colour
the operator picks.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
FONT_FAMILY = re.compile(r"[\w ,'\"-]{1,200}")
LIGHT_SURFACE = "#ffffff"
DARK_SURFACE = "#1d2228"
AA = 4.5


@dataclass(frozen=True)
class Theme:
    brand_colour: str | None = None
    logo_url: str | None = None
    font: str | None = None

    @property
    def customised(self) -> bool:
        return bool(self.brand_colour or self.font)


def stylesheet(theme: Theme) -> str:
    """CSS that overrides the default variables of static/app.css."""
    light, dark = [], []
    if theme.brand_colour:
        brand = _rgb(theme.brand_colour)
        on_light = _until_contrast(brand, _rgb(LIGHT_SURFACE), towards=(0, 0, 0))
        on_dark = _until_contrast(brand, _rgb(DARK_SURFACE), towards=(255, 255, 255))
        light += [f"--brand: {_hex(on_light)};", f"--brand-contrast: {_readable_on(on_light)};"]
        dark += [f"--brand: {_hex(on_dark)};", f"--brand-contrast: {_readable_on(on_dark)};"]
    if theme.font:
        light.append(f"--font: {theme.font};")
    css = ":root { " + " ".join(light) + " }\n"
    if dark:
        css += "@media (prefers-color-scheme: dark) { :root { " + " ".join(dark) + " } }\n"
    return css


def version(css: str) -> str:
    """A short fingerprint for the stylesheet's address, so browsers may cache it for long."""
    return hashlib.sha256(css.encode()).hexdigest()[:12]


def _rgb(colour: str) -> tuple[int, int, int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _until_contrast(
    colour: tuple[int, int, int], surface: tuple[int, int, int], towards: tuple[int, int, int]
) -> tuple[int, int, int]:
    """The colour, mixed step by step towards black or white until it stands out from the surface."""
    mixed = colour
    for step in range(21):
        share = step / 20
        mixed = tuple(round(c + (t - c) * share) for c, t in zip(colour, towards, strict=True))  # type: ignore[assignment]
        if contrast(mixed, surface) >= AA:
            break
    return mixed


def _readable_on(background: tuple[int, int, int]) -> str:
    """Black or white text, whichever reads better on the background."""
    return "#ffffff" if contrast((255, 255, 255), background) >= contrast((0, 0, 0), background) else "#000000"
