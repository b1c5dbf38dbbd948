"""Readable text on a partner's brand colour (WCAG 2.x contrast, computed on the server).

A partner picks any colour for its navigation bar and buttons; the text on it must still
reach the AA contrast ratio (4.5:1 for normal text). `text_on(colour)` picks white when white
reaches it, otherwise near-black; `ink(colour)` darkens the colour until it reads as text and
links on the portal's light page background. base.html sets both as CSS custom properties, so
older browsers without relative CSS colours get the same choice.

Template library (registered as "brand" in settings): {% brand_css_vars partner.primary_colour %}.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html

WHITE = "#ffffff"
NEAR_BLACK = "#111827"
PAGE_BACKGROUND = "#f3f4f6"
AA_NORMAL_TEXT = 4.5
DEFAULT_BRAND = "#0a5cad"

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> tuple[int, int, int]:
    """(r, g, b) of "#rgb" or "#rrggbb"; ValueError otherwise."""
    match = _HEX.match((colour or "").strip())
    if not match:
        raise ValueError(f"not a hex colour: {colour!r}")
    digits = match[1]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def relative_luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in parse_hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    a, b = relative_luminance(first), relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(colour: str) -> str:
    """White if white text on `colour` reaches AA, else near-black (whichever reads better
    when neither does, which cannot happen for near-black's luminance but is handled)."""
    colour = normalise(colour)
    on_white = contrast_ratio(colour, WHITE)
    if on_white >= AA_NORMAL_TEXT:
        return WHITE
    on_dark = contrast_ratio(colour, NEAR_BLACK)
    return NEAR_BLACK if on_dark >= on_white else WHITE


def ink(colour: str, background: str = PAGE_BACKGROUND) -> str:
    """`colour`, darkened in small steps until it reaches AA as text on `background`."""
    rgb = parse_hex(normalise(colour))
    for _step in range(100):
        if contrast_ratio(_hex(rgb), background) >= AA_NORMAL_TEXT:
            break
        rgb = tuple(int(v * 0.95) for v in rgb)
    return _hex(rgb)


def normalise(colour: str) -> str:
    """The colour as "#rrggbb"; the portal's default blue for anything unparseable."""
    try:
        return _hex(parse_hex(colour))
    except ValueError:
        return DEFAULT_BRAND


register = template.Library()


@register.simple_tag
def brand_css_vars(colour: str | None) -> str:
    """`--brand`, `--brand-contrast` and `--brand-ink` declarations for a :root rule."""
    brand = normalise(colour or DEFAULT_BRAND)
    return format_html(
        "--brand: {}; --brand-contrast: {}; --brand-ink: {};", brand, text_on(brand), ink(brand)
    )
