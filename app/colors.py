"""Colour contrast (WCAG 2.x): pick readable text for a merchant's brand colours."""

from __future__ import annotations

from app.validation import HEX_COLOR

# Black, not a softer near-black: with it, one of the two reaches 4.5:1 on any background (at worst 4.58:1).
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"
# WCAG AA asks for 4.5:1 for normal text; below that on brand buttons we warn the merchant.
MINIMUM_TEXT_CONTRAST = 4.5


def _channel(value: int) -> float:
    """sRGB channel (0–255) to linear light, as WCAG's relative luminance defines it."""
    scaled = value / 255
    return scaled / 12.92 if scaled <= 0.04045 else ((scaled + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """Relative luminance of a `#rrggbb` colour, from 0 (black) to 1 (white)."""
    if not HEX_COLOR.fullmatch(color):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    red, green, blue = (int(color[index : index + 2], 16) for index in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two `#rrggbb` colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_text_on(background: str) -> str:
    """White or near-black text, whichever contrasts more with `background`."""
    if contrast_ratio(background, LIGHT_TEXT) >= contrast_ratio(background, DARK_TEXT):
        return LIGHT_TEXT
    return DARK_TEXT


def readable_color_on(color: str, background: str = LIGHT_TEXT) -> str:
    """`color` itself when text in it is readable on `background` (4.5:1), else the nearest such shade of it.

    The shade is mixed towards black (or white, on a dark background) in small steps, so a light brand colour keeps
    its hue in links and outlined buttons while their text stays readable.
    """
    if contrast_ratio(color, background) >= MINIMUM_TEXT_CONTRAST:
        return color
    target = (0, 0, 0) if relative_luminance(background) > 0.18 else (255, 255, 255)
    channels = [int(color[index : index + 2], 16) for index in (1, 3, 5)]
    for step in range(1, 51):
        share = step / 50
        mixed = "#" + "".join(
            f"{round(value + (goal - value) * share):02x}" for value, goal in zip(channels, target, strict=True)
        )
        if contrast_ratio(mixed, background) >= MINIMUM_TEXT_CONTRAST:
            return mixed
    return readable_text_on(background)
