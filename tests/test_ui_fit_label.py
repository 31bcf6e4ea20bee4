"""KLabel fits its box: wraps at words, shrinks within limits, then ends with an ellipsis,
and never cuts a word or the text off silently."""

from __future__ import annotations

from typing import Iterator

import pytest
from kivy_harness import Kiosk  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.base import EventLoop
from kivy.uix.floatlayout import FloatLayout
from layout_rules import text_not_fitting

from kiosk.ui.widgets import ELLIPSIS, SHRINK_FLOOR, KLabel

assert Kiosk  # the harness module sets up the window these labels render in

CAPTION = "Rest. Next up: Toe spreads. Sit tall with both feet flat. Spread your toes as wide as you can."


@pytest.fixture
def box() -> Iterator:
    EventLoop.ensure_window()
    holder = FloatLayout()
    EventLoop.window.add_widget(holder)

    def make(width: float, height: float, text: str, font_size: float, **extra) -> KLabel:
        label = KLabel(text=text, font_size=font_size, size_hint=(None, None), size=(width, height), **extra)
        holder.add_widget(label)
        for _ in range(3):
            EventLoop.idle()
        return label

    yield make
    EventLoop.window.remove_widget(holder)


def test_a_text_that_fits_is_left_as_it_is(box) -> None:
    label = box(400, 100, "Toe spreads", 30)
    assert label.text == "Toe spreads" and label.font_size == 30
    assert text_not_fitting(label) == []


def test_a_text_a_little_too_long_shrinks_but_no_further_than_the_floor(box) -> None:
    label = box(380, 64, "Sit tall with both feet flat. Spread your toes.", 30)
    assert label.text == label.wanted_text
    assert 30 * SHRINK_FLOOR <= label.font_size < 30
    assert text_not_fitting(label) == []


def test_a_text_far_too_long_ends_with_an_ellipsis_after_whole_words(box) -> None:
    label = box(380, 70, CAPTION, 26, min_font_size=26)
    assert label.font_size == 26
    assert label.text.endswith(ELLIPSIS) and label.text != CAPTION
    shown = label.text[:-1]
    assert CAPTION.startswith(shown) and CAPTION[len(shown)] in " .,", "it stops at the end of a word"
    assert text_not_fitting(label) == []


def test_one_long_word_shrinks_instead_of_being_cut(box) -> None:
    label = box(120, 60, "Wednesday", 40, min_font_size=36)
    assert label.text == "Wednesday" and label.font_size < 36
    assert text_not_fitting(label) == []


def test_a_shorter_text_gets_the_wanted_size_back(box) -> None:
    label = box(300, 60, CAPTION, 30)
    assert label.font_size < 30 or label.text != CAPTION
    label.text = "Rest."
    EventLoop.idle()
    assert label.text == "Rest." and label.font_size == 30


def test_a_box_growing_lets_the_whole_text_show_again(box) -> None:
    label = box(380, 60, CAPTION, 26, min_font_size=26)
    assert label.text.endswith(ELLIPSIS)
    label.height = 400
    EventLoop.idle()
    assert label.text == CAPTION


def test_the_same_text_set_again_each_frame_is_not_measured_or_drawn_again(box) -> None:
    """The session screen sets every text anew each frame (its record changes with the bars)."""
    label = box(380, 70, CAPTION, 26, min_font_size=26)
    shown = label.text
    assert shown.endswith(ELLIPSIS)
    drawn = []
    label.bind(texture=lambda *_args: drawn.append(label.text))
    for _ in range(30):
        label.text = CAPTION
        EventLoop.idle()
    assert drawn == [] and label.text == shown
    label.text = "Switch to your left foot."
    EventLoop.idle()
    assert drawn and label.text == "Switch to your left foot."


@pytest.mark.parametrize("change", [{"bold": True}, {"line_height": 1.6}, {"padding": [0, 18, 0, 18]}])
def test_a_change_of_how_the_text_is_drawn_fits_it_again(box, change) -> None:
    label = box(300, 70, "Sit tall with both feet flat on the floor.", 26)
    assert text_not_fitting(label) == []
    for name, value in change.items():
        setattr(label, name, value)
    EventLoop.idle()
    assert text_not_fitting(label) == []
