"""What every screen must hold at every window size, read from the real widget tree.

Each rule returns what breaks it (empty when the screen is right), so a test can show
every problem of a screen at once. The measures are made here, independently of the
widgets' own fitting: a label that clips its text fails even if it believes it fits.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from kivy_harness import visible, walk  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.core.text import Label as CoreLabel
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.recycleview import RecycleView
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.ui.theme import MIN_TOUCH
from kiosk.ui.widgets import ELLIPSIS

CAP_HEIGHT = 0.711
"""Cap height of the kiosk's font (Roboto: 1456 of 2048 units) as a share of its size."""
SESSION_CAP_MIN_PX = 18
"""Nothing a person must read during a session is smaller than this cap height at 800x480."""
SLACK = 1.0


def _scrolled(widget: Widget) -> bool:
    """Inside a scrolling list: its place on the window depends on the scroll, not the layout."""
    node = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, (ScrollView, RecycleView)):
            return True
        node = node.parent
    return False


def shown_labels(root: Widget) -> List[Label]:
    return [w for w in walk(root) if isinstance(w, Label) and w.text.strip() and visible(w)]


def _measured(label: Label) -> Tuple[float, float, float]:
    """(text width, text height, widest word) of the label's text as its own options render it."""
    width = label.text_size[0]
    core = CoreLabel(text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
                     italic=label.italic, markup=label.markup, halign=label.halign, line_height=label.line_height,
                     padding=label.padding, text_size=(width, None) if width is not None else (None, None))
    core.refresh()
    widest = max((core.get_extents(word)[0] for word in label.text.split()), default=0)
    return core.content_width, core.content_height, widest


def text_not_fitting(root: Widget) -> List[str]:
    """Every shown label's whole text fits its box: no line or word cut off, at most ending with an
    ellipsis when the text was shortened on purpose."""
    problems = []
    for label in shown_labels(root):
        if getattr(label, "fit", True) is False:
            continue  # its box grows with the text (inside a scrolling view)
        text_w, text_h, widest = _measured(label)
        left, top, right, bottom = label.padding
        room_w = (label.text_size[0] if label.text_size[0] is not None else label.width) - left - right
        room_h = label.height - top - bottom
        name = repr(label.text[:40])
        if text_h > room_h + SLACK:
            problems.append(f"{name}: {text_h:.0f} px of text in a {room_h:.0f} px high box")
        if label.text_size[0] is None and text_w > room_w + SLACK:
            problems.append(f"{name}: {text_w:.0f} px of text in a {room_w:.0f} px wide box")
        if widest > room_w + SLACK:
            problems.append(f"{name}: a word {widest:.0f} px wide in a {room_w:.0f} px wide box (split mid-word)")
        wanted = getattr(label, "wanted_text", label.text)
        if label.text != wanted and not label.text.endswith(ELLIPSIS):
            problems.append(f"{name}: shortened without an ellipsis from {wanted[:40]!r}")
        elif label.text != wanted and label.text[:-1].split()[:1] != wanted.split()[:1]:
            problems.append(f"{name}: shortened to less than its first word, from {wanted[:40]!r}")
    return problems


def outside_window(root: Widget, window_size: Tuple[float, float]) -> List[str]:
    """No widget that is shown lies (even partly) outside the window."""
    width, height = window_size
    problems = []
    for widget in walk(root):
        if widget is root or not visible(widget) or _scrolled(widget):
            continue
        left, bottom = widget.to_window(widget.x, widget.y)
        right, top = widget.to_window(widget.right, widget.top)
        if left < -SLACK or bottom < -SLACK or right > width + SLACK or top > height + SLACK:
            problems.append(f"{type(widget).__name__} {getattr(widget, 'text', '')[:30]!r} at "
                            f"({left:.0f}, {bottom:.0f})-({right:.0f}, {top:.0f}) in a {width}x{height} window")
    return problems


def small_touch_targets(root: Widget, scale: float = 1.0) -> List[str]:
    """Every button is at least MIN_TOUCH pixels (at 800x480; `scale` times that on bigger screens)."""
    least = MIN_TOUCH * scale - SLACK
    return [f"{getattr(w, 'text', type(w).__name__)[:30]!r}: {w.width:.0f}x{w.height:.0f}"
            for w in walk(root)
            if isinstance(w, ButtonBehavior) and visible(w) and not w.disabled
            and (w.width < least or w.height < least)]


def small_session_text(root: Widget, scale: float = 1.0) -> List[str]:
    """During a session nothing to read is below SESSION_CAP_MIN_PX cap height (at 800x480)."""
    least = SESSION_CAP_MIN_PX * scale
    return [f"{label.text[:30]!r}: {label.font_size * CAP_HEIGHT:.1f} px cap height"
            for label in shown_labels(root) if label.font_size * CAP_HEIGHT < least - 0.05]


def everything_wrong(root: Widget, window: Any, *, scale: float = 1.0) -> List[str]:
    return [*text_not_fitting(root), *outside_window(root, tuple(window.size)), *small_touch_targets(root, scale)]


def buttons_under(cover: Widget, root: Widget) -> List[str]:
    """Buttons that `cover` (the notice over the screen) hides, even in part."""
    if not visible(cover):
        return []
    left, bottom = cover.to_window(cover.x, cover.y)
    right, top = cover.to_window(cover.right, cover.top)
    hidden = []
    for widget in walk(root):
        if widget is cover or not isinstance(widget, ButtonBehavior) or not visible(widget) or _scrolled(widget):
            continue
        x0, y0 = widget.to_window(widget.x, widget.y)
        x1, y1 = widget.to_window(widget.right, widget.top)
        if x0 < right - SLACK and left + SLACK < x1 and y0 < top - SLACK and bottom + SLACK < y1:
            hidden.append(f"the notice hides {getattr(widget, 'text', type(widget).__name__)[:30]!r}")
    return hidden
