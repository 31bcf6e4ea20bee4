"""Colours and sizes of the kiosk, and the contrast rule they are checked against.

Pure: no Kivy import, so the contrast test and the palette can be read anywhere.
Sizes are in units of `scale`, where 1.0 is the 480-pixel short side of the
official Raspberry Pi 7" display; every size grows with the screen.
"""

from __future__ import annotations

from typing import Tuple

RGBA = Tuple[float, float, float, float]


def hex_rgba(value: str, alpha: float = 1.0) -> RGBA:
    value = value.lstrip("#")
    red, green, blue = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (red, green, blue, alpha)


BACKGROUND = hex_rgba("#0F1419")
SURFACE = hex_rgba("#1D2731")
TEXT = hex_rgba("#F4F6F8")
MUTED = hex_rgba("#B9C5D1")
PRIMARY = hex_rgba("#14694A")
PRIMARY_PRESSED = hex_rgba("#0E5038")
ACCENT = hex_rgba("#F2C14E")
DANGER = hex_rgba("#9E2A2B")
BUTTON = hex_rgba("#2C3A48")
BUTTON_PRESSED = hex_rgba("#3B4D5F")
DONE_DAY = hex_rgba("#2FA36B")
EMPTY_DAY = hex_rgba("#2C3A48")
TRACK = hex_rgba("#2C3A48")

MIN_TOUCH = 80
"""Smallest touch target, in pixels at 800x480 (about 15 mm on the 7" display)."""


def relative_luminance(color: RGBA) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(c) for c in color[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: RGBA, background: RGBA) -> float:
    """WCAG contrast ratio, 1 to 21; 4.5 is the AA minimum for text."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
