"""Touches at the edges of use: a double tap on Stop, taps just after a screen change,
and notices that go by themselves. Real window, fake clock."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from kivy_harness import Kiosk

from kiosk.sessionlog.store import SessionLog
from kiosk.ui.controller import NAV_GUARD_S, NOTICE_S, START_GUARD_S


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def kiosk(shipped_library, data_dir: Path) -> Iterator[Kiosk]:
    driver = Kiosk(shipped_library, data_dir, size=(800, 480))
    yield driver
    driver.close()


def saved(data_dir: Path) -> list:
    with SessionLog.open(data_dir) as log:
        return log.records()


def start_session(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(START_GUARD_S + 10)
    assert kiosk.controller.in_session


@pytest.mark.parametrize("gap_s", [0.15, 0.4, 1.0])
def test_a_second_tap_where_stop_was_never_ends_the_session(kiosk: Kiosk, data_dir: Path, gap_s: float) -> None:
    start_session(kiosk)
    stop = kiosk.widget("session", "stop_button")
    where = kiosk.until_laid_out(stop)
    kiosk.tap_at(*where)
    assert kiosk.controller.confirm_stop
    kiosk.advance(gap_s, step=0.05)
    kiosk.tap_at(*where)
    assert kiosk.controller.in_session and not kiosk.controller.confirm_stop, "the second tap said Keep going"
    assert not kiosk.controller.paused, "keep going carries on"
    kiosk.controller.stop()
    kiosk.settle()
    assert [r.completed for r in saved(data_dir)] == [False]


@pytest.mark.parametrize("size", [(800, 480), (480, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_keep_going_covers_every_session_control_and_the_confirm_none(shipped_library, data_dir: Path,
                                                                       size) -> None:
    kiosk = Kiosk(shipped_library, data_dir, size=size)
    try:
        start_session(kiosk)
        screen = kiosk.screen("session")
        controls = [screen.ids[name] for name in ("back_button", "pause_button", "skip_button", "stop_button")]
        kiosk.tap(screen.ids.stop_button)
        dialog = screen.ids.stop_dialog_holder.children[0]
        keep, confirm = dialog.ids.keep_going, dialog.ids.confirm_stop
        kiosk.until_laid_out(confirm)
        for control in controls:
            corners = [(control.x + 1, control.y + 1), (control.right - 1, control.y + 1),
                       (control.x + 1, control.top - 1), (control.right - 1, control.top - 1)]
            assert all(keep.collide_point(*corner) for corner in corners), control.text
            assert not (confirm.x < control.right and control.x < confirm.right
                        and confirm.y < control.top and control.y < confirm.top), control.text
    finally:
        kiosk.close()


def test_the_session_waits_while_the_stop_question_is_shown(kiosk: Kiosk) -> None:
    start_session(kiosk)
    left = kiosk.widget("session", "countdown").text
    kiosk.tap(kiosk.widget("session", "stop_button"))
    kiosk.advance(30)
    assert kiosk.controller.paused and kiosk.widget("session", "countdown").text == left
    dialog = kiosk.screen("session").ids.stop_dialog_holder.children[0]
    kiosk.tap(dialog.ids.keep_going)
    assert not kiosk.controller.paused
    kiosk.advance(1)
    assert int(kiosk.widget("session", "countdown").text) == int(left) - 1


def test_keep_going_leaves_a_session_paused_before_the_question_paused(kiosk: Kiosk) -> None:
    start_session(kiosk)
    kiosk.tap(kiosk.widget("session", "pause_button"))
    assert kiosk.controller.paused
    kiosk.tap(kiosk.widget("session", "stop_button"))
    dialog = kiosk.screen("session").ids.stop_dialog_holder.children[0]
    kiosk.tap(dialog.ids.keep_going)
    assert kiosk.controller.paused and kiosk.controller.in_session


def test_navigation_answers_half_a_second_after_a_screen_change(kiosk: Kiosk) -> None:
    assert NAV_GUARD_S < 0.5
    kiosk.advance(2)
    kiosk.tap(kiosk.widget("home", "streaks_button"))
    assert kiosk.controller.screen == "streaks"
    kiosk.advance(0.5, step=0.05)
    kiosk.tap(kiosk.widget("streaks", "home_button"))
    assert kiosk.controller.screen == "home"


def test_a_tap_right_after_a_screen_change_is_still_ignored(kiosk: Kiosk) -> None:
    kiosk.advance(2)
    kiosk.tap(kiosk.widget("home", "streaks_button"))
    kiosk.tap(kiosk.widget("streaks", "home_button"))  # the second tap of a double tap
    assert kiosk.controller.screen == "streaks"


def test_a_tap_just_after_a_session_is_stopped_never_starts_a_new_one(kiosk: Kiosk) -> None:
    start_session(kiosk)
    kiosk.controller.stop()  # the session ends under the finger
    start = kiosk.widget("home", "start_button")
    kiosk.tap_at(*start.to_window(*start.center))
    assert not kiosk.controller.in_session
    kiosk.advance(START_GUARD_S)
    kiosk.tap(start)
    assert kiosk.controller.in_session


def test_a_notice_goes_after_ten_seconds(kiosk: Kiosk) -> None:
    kiosk.controller.add_notice("The kiosk did something worth saying.")
    kiosk.advance(NOTICE_S - 1)
    banner = kiosk.root.ids.notice
    assert banner.text.startswith("The kiosk did something worth saying.") and banner.height > 0
    kiosk.advance(1.5)
    assert kiosk.controller.notice == ""
    assert kiosk.root.ids.notice.height == 0


def test_the_next_notice_waiting_gets_its_own_ten_seconds(kiosk: Kiosk) -> None:
    kiosk.controller.add_notice("First.")
    kiosk.advance(4)
    kiosk.controller.add_notice("Second.")
    kiosk.advance(NOTICE_S + 0.5)
    assert kiosk.controller.notice == "First."
    kiosk.advance(NOTICE_S + 0.5)
    assert kiosk.controller.notice == ""


def test_a_notice_goes_when_a_session_starts_and_never_shows_during_one(kiosk: Kiosk) -> None:
    kiosk.controller.add_notice("Old news.")
    kiosk.advance(2)
    start_session(kiosk)
    assert kiosk.controller.notice == ""
    countdown_room = kiosk.widget("session", "countdown").height
    kiosk.controller.add_notice("Said during the session.")
    kiosk.advance(NOTICE_S * 2)
    assert kiosk.root.ids.notice.height == 0 and kiosk.root.ids.notice.opacity == 0
    assert kiosk.widget("session", "countdown").height == countdown_room
    kiosk.controller.stop()
    kiosk.settle()
    assert kiosk.controller.notice.startswith("Session stopped and saved")
    kiosk.advance(NOTICE_S + 0.5)
    assert kiosk.controller.notice == "Said during the session.", "it waited for the session's end"
    assert "Old news." not in kiosk.controller.notice



def test_a_tap_meant_for_skip_as_the_session_ends_does_not_rate_the_pain(kiosk: Kiosk, shipped_library) -> None:
    from kiosk.core.timeline import build_timeline

    start_session(kiosk)
    skip = kiosk.widget("session", "skip_button")
    where = kiosk.until_laid_out(skip)
    for _ in range(int(build_timeline(shipped_library.default_routine()).total_s * 4)):
        if kiosk.controller.screen == "done":
            break
        kiosk.advance(0.25, step=0.25)  # to the moment the session ends, the finger still on its way
    assert kiosk.controller.screen == "done"
    kiosk.tap_at(*where)  # lands on the Done screen's pain buttons
    assert kiosk.controller.pain == -1 and kiosk.controller.screen == "done"


def test_a_slow_double_tap_on_routines_does_not_start_the_routine_under_the_finger(kiosk: Kiosk) -> None:
    kiosk.advance(2)
    routines = kiosk.widget("home", "routines_button")
    where = kiosk.until_laid_out(routines)
    kiosk.tap_at(*where)
    assert kiosk.controller.screen == "routines"
    kiosk.advance(0.6, step=0.05)  # past the navigation guard: a slow second tap
    kiosk.tap_at(*where)
    assert not kiosk.controller.in_session
    kiosk.advance(START_GUARD_S)
    kiosk.tap_at(*where)
    assert kiosk.controller.in_session, "once the list has been on show a moment, a tap starts"


def test_a_paused_session_left_alone_for_ten_minutes_is_stopped_and_saved(kiosk: Kiosk, data_dir: Path) -> None:
    from kiosk.ui.session_section import PAUSE_LIMIT_S

    start_session(kiosk)
    kiosk.tap(kiosk.widget("session", "stop_button"))  # a brush on Stop, then nobody answers
    kiosk.advance(PAUSE_LIMIT_S - 5, step=5.0, draw_every=60)
    assert kiosk.controller.in_session and kiosk.controller.confirm_stop
    kiosk.advance(10, step=1.0)
    assert not kiosk.controller.in_session and kiosk.controller.screen == "home"
    kiosk.settle()
    assert [r.completed for r in saved(data_dir)] == [False]
    assert kiosk.window.allow_screensaver is True


def test_a_lasting_notice_stays_until_put_right_and_a_tap_keeps_it_away(kiosk: Kiosk) -> None:
    controller = kiosk.controller
    controller.add_notice("Not saved yet: the SD card is full.", lasting=True)
    kiosk.advance(NOTICE_S * 3)
    assert controller.notice == "Not saved yet: the SD card is full."
    kiosk.tap(kiosk.root.ids.notice)
    assert controller.notice == ""
    controller.add_notice("Not saved yet: the SD card is full.", lasting=True)  # the next retry fails too
    assert controller.notice == "", "tapped away: not back at every retry"
    controller._drop_notice("Not saved yet: the SD card is full.")  # saved at last
    controller.add_notice("Not saved yet: the SD card is full.", lasting=True)  # and full again later
    assert controller.notice == "Not saved yet: the SD card is full."


def test_the_notice_covers_the_screen_without_moving_it(kiosk: Kiosk) -> None:
    settings = kiosk.widget("home", "settings_button")
    before = kiosk.until_laid_out(settings)
    kiosk.controller.add_notice("Your last session was cut off: 3:00 saved.")
    kiosk.frames(2)
    assert kiosk.until_laid_out(settings) == before
    kiosk.advance(NOTICE_S + 1)
    assert kiosk.controller.notice == "" and kiosk.until_laid_out(settings) == before
    kiosk.tap(settings)
    assert kiosk.controller.screen == "settings"
