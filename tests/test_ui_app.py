"""The kiosk in a real window: tap Start, follow a routine on a fake clock, and the log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import pytest
from kivy_harness import Kiosk, texts

from kiosk.cli import main as kiosk_main
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import SessionLog


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=[(800, 480), (1920, 1080)], ids=["7inch", "fullhd"])
def kiosk(request, shipped_library, data_dir: Path) -> Iterator[Kiosk]:
    driver = Kiosk(shipped_library, data_dir, size=request.param)
    yield driver
    driver.close()


def records(data_dir: Path):
    with SessionLog.open(data_dir) as log:
        return log.records()


def test_home_names_the_one_tap_routine_and_its_length(kiosk: Kiosk, shipped_library) -> None:
    routine = shipped_library.default_routine()
    minutes = round(build_timeline(routine).total_s / 60)
    start = kiosk.widget("home", "start_button")
    assert start.ids.title.text == "Start" and start.ids.detail.text == f"{routine.name} · {minutes} min"
    assert kiosk.widget("home", "today").text == "Not done yet today"
    assert kiosk.widget("home", "clock").text == "09:00"


def test_start_runs_the_whole_routine_and_records_one_completed_session(kiosk: Kiosk, data_dir: Path,
                                                                        shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    kiosk.tap(kiosk.widget("home", "start_button"))
    assert kiosk.controller.screen == "session"
    assert kiosk.widget("session", "exercise_name").text == timeline.segments[0].exercise.name
    assert kiosk.widget("session", "segment_title").text == "Get ready"
    kiosk.advance(timeline.total_s + 1, step=0.25)
    assert kiosk.controller.screen == "done"
    kiosk.settle()
    saved = records(data_dir)
    assert len(saved) == 1
    assert saved[0].completed and saved[0].active_s == timeline.total_s
    assert saved[0].steps_done == len(timeline.routine.steps)
    assert "Day 1" in kiosk.widget("done", "streak_change").text


def test_double_tap_on_start_runs_one_session(kiosk: Kiosk, data_dir: Path) -> None:
    start = kiosk.widget("home", "start_button")
    kiosk.tap(start)
    kiosk.tap_at(*start.to_window(*start.center))  # the second tap of a double tap lands on the session
    assert kiosk.controller.screen == "session" and not kiosk.controller.paused
    kiosk.advance(30)
    kiosk.controller.stop()
    kiosk.settle()
    assert len(records(data_dir)) == 1


def test_the_screen_is_kept_awake_only_during_a_session(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    assert kiosk.window.allow_screensaver is False
    kiosk.controller.stop()
    assert kiosk.window.allow_screensaver is True


def test_pause_holds_the_countdown_and_resume_continues(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(4)
    pause = kiosk.widget("session", "pause_button")
    kiosk.tap(pause)
    assert kiosk.controller.paused and pause.text == "Resume"
    held = kiosk.widget("session", "countdown").text
    kiosk.advance(60)
    assert kiosk.widget("session", "countdown").text == held
    assert kiosk.widget("session", "segment_title").text == "Paused"
    kiosk.tap(pause)
    assert not kiosk.controller.paused
    kiosk.advance(1)
    assert int(kiosk.widget("session", "countdown").text) == int(held) - 1


def test_stop_asks_first_and_then_records_a_not_completed_session(kiosk: Kiosk, data_dir: Path) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(20)
    kiosk.tap(kiosk.widget("session", "stop_button"))
    assert kiosk.controller.confirm_stop and kiosk.controller.in_session
    dialog = kiosk.screen("session").ids.stop_dialog_holder.children[0]
    kiosk.tap(dialog.ids.keep_going)
    assert not kiosk.controller.confirm_stop and kiosk.controller.in_session
    kiosk.tap(kiosk.widget("session", "stop_button"))
    dialog = kiosk.screen("session").ids.stop_dialog_holder.children[0]
    kiosk.tap(dialog.ids.confirm_stop)
    assert kiosk.controller.screen == "home"
    kiosk.settle()
    saved = records(data_dir)
    assert len(saved) == 1 and not saved[0].completed
    assert saved[0].active_s == pytest.approx(20, abs=0.6)
    assert "Session stopped and saved" in kiosk.controller.notice


def test_a_long_press_on_stop_stops_at_once(kiosk: Kiosk, data_dir: Path) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(3)
    kiosk.tap(kiosk.widget("session", "stop_button"), hold=1.2)
    assert kiosk.controller.screen == "home"
    kiosk.settle()
    assert [r.completed for r in records(data_dir)] == [False]


def test_pain_rating_is_saved_with_the_session(kiosk: Kiosk, data_dir: Path, shipped_library) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(build_timeline(shipped_library.default_routine()).total_s + 1, step=1.0)
    kiosk.advance(2)
    seven = next(b for b in kiosk.widget("done", "pain_buttons").children if b.value == 7)
    kiosk.tap(seven)
    kiosk.settle()
    assert [r.pain for r in records(data_dir)] == [7]
    assert kiosk.widget("done", "pain_question").text == "Thanks. Saved."


def test_done_goes_home_after_half_a_minute_without_a_touch(kiosk: Kiosk, shipped_library) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(build_timeline(shipped_library.default_routine()).total_s + 1, step=1.0)
    assert kiosk.controller.screen == "done"
    kiosk.advance(27, step=1.0)  # 28 s after the end
    assert kiosk.controller.screen == "done"
    kiosk.advance(3, step=1.0)
    assert kiosk.controller.screen == "home"
    assert kiosk.widget("home", "today").text == "Done today"


def test_streaks_screen_shows_the_figures_of_kiosk_stats(shipped_library, data_dir: Path, capsys) -> None:
    today = dt.date(2026, 11, 26)
    for offset in (0, 1, 2, 3, 7, 8, 9, 10, 11, 14):
        assert kiosk_main(["--data-dir", str(data_dir), "log", "add", "--date",
                           (today - dt.timedelta(days=offset)).isoformat()]) == 0
    capsys.readouterr()
    kiosk_main(["--data-dir", str(data_dir), "stats", "--json", "--today", today.isoformat()])
    stats = json.loads(capsys.readouterr().out)
    driver = Kiosk(shipped_library, data_dir, today=today)
    try:
        driver.tap(driver.widget("home", "streaks_button"))
        assert driver.controller.screen == "streaks"
        shown = {name: driver.widget("streaks", name).value for name in
                 ("current_daily", "longest_daily", "current_weekly", "longest_weekly", "this_week")}
        assert shown == {
            "current_daily": str(stats["current_daily_streak"]),
            "longest_daily": str(stats["longest_daily_streak"]),
            "current_weekly": str(stats["current_weekly_streak"]),
            "longest_weekly": str(stats["longest_weekly_streak"]),
            "this_week": f"{stats['this_week']['days_done']} of {stats['weekly_goal']}",
        }
        grid = driver.widget("streaks", "day_grid")
        assert [list(week.days) for week in grid.weeks] == [week["days"] for week in stats["weeks"]]
        assert driver.widget("home", "daily_streak").text == f"{stats['current_daily_streak']} days in a row"
    finally:
        driver.close()


def test_routines_screen_starts_the_tapped_routine(kiosk: Kiosk, shipped_library) -> None:
    kiosk.tap(kiosk.widget("home", "routines_button"))
    kiosk.advance(2)
    tiles = kiosk.widget("routines", "tiles")
    assert [row["routine_id"] for row in tiles.data] == list(shipped_library.routines)
    tiles.scroll_y = 0  # the last routine, scrolled into view as a finger would
    kiosk.frames(3)
    chosen = next(view for view in tiles.layout_manager.children
                  if view.routine_id == list(shipped_library.routines)[-1])
    kiosk.tap(chosen)
    assert kiosk.controller.screen == "session"
    assert kiosk.controller.timeline.routine.id == chosen.routine_id


def test_settings_change_at_once_and_are_saved(shipped_library, data_dir: Path, tmp_path: Path) -> None:
    from kiosk.config import load_settings

    config = tmp_path / "config.yaml"
    driver = Kiosk(shipped_library, data_dir, config_path=config)
    try:
        driver.tap(driver.widget("home", "settings_button"))
        driver.advance(2)
        driver.tap(driver.widget("settings", "goal_down"))
        driver.advance(2)
        driver.tap(driver.widget("settings", "voice_toggle"))
        driver.advance(2)
        driver.tap(driver.widget("settings", "week_start_next"))
        driver.settle()
        saved, problems = load_settings(config)
        assert problems == ()
        assert (saved.weekly_goal, saved.voice, saved.week_start) == (4, False, "tuesday")
        assert driver.controller.stats.weekly_goal == 4
        assert "Off" in " ".join(texts(driver.screen("settings")))
    finally:
        driver.close()


def test_idle_time_returns_home(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "streaks_button"))
    kiosk.advance(119, step=1.0)
    assert kiosk.controller.screen == "streaks"
    kiosk.advance(2, step=1.0)
    assert kiosk.controller.screen == "home"


def test_first_start_shows_the_safety_note_once(shipped_library, data_dir: Path) -> None:
    driver = Kiosk(shipped_library, data_dir, first_start=True)
    try:
        assert driver.controller.screen == "safety"
        assert "not medical advice" in driver.widget("safety", "note").text
        driver.advance(2)
        driver.tap(driver.widget("safety", "understood"))
        assert driver.controller.screen == "home"
        driver.settle()
    finally:
        driver.close()
    again = Kiosk(shipped_library, data_dir, first_start=True)
    try:
        assert again.controller.screen == "home"
    finally:
        again.close()


def test_voice_fallback_shows_a_small_notice_and_the_captions_carry_on(shipped_library, data_dir: Path) -> None:
    from kiosk.core.speaker import SilentSpeaker

    driver = Kiosk(shipped_library, data_dir, speaker_factory=lambda settings: SilentSpeaker("fallback"))
    try:
        driver.tap(driver.widget("home", "start_button"))
        driver.advance(1)
        notice = driver.widget("session", "voice_notice")
        assert notice.text.startswith("Voice off") and notice.opacity == 1
        assert driver.widget("session", "caption").text.startswith("Get ready. First:")
    finally:
        driver.close()


def test_an_unexpected_error_saves_the_session_and_goes_home_kindly(kiosk: Kiosk, data_dir: Path) -> None:
    from kivy.base import ExceptionManager

    from kiosk.ui.app import FRIENDLY_MESSAGE, friendly_errors

    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(12)
    handler = friendly_errors(kiosk.controller)
    assert handler.handle_exception(ZeroDivisionError("boom")) == ExceptionManager.PASS
    kiosk.frames(2)
    assert kiosk.controller.screen == "home" and not kiosk.controller.in_session
    assert kiosk.controller.notice == FRIENDLY_MESSAGE
    assert "Traceback" not in " ".join(texts(kiosk.root))
    kiosk.settle()
    assert [r.completed for r in records(data_dir)] == [False]


def test_a_broken_exercise_file_is_named_and_the_rest_works(tmp_path: Path, data_dir: Path) -> None:
    from kiosk import paths
    from kiosk.core.catalog import load_library

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "broken.yaml").write_text("exercises:\n  - id: x\n    name: [unclosed\n", encoding="utf-8")
    library = load_library([paths.shipped_exercises_dir(), mine], paths.shipped_media_dir())
    driver = Kiosk(library, data_dir)
    try:
        assert "broken.yaml" in driver.controller.notice
        assert "broken.yaml" in driver.root.ids.notice.text
        driver.tap(driver.root.ids.notice)
        assert driver.controller.notice == ""
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        assert driver.controller.in_session
    finally:
        driver.close()


def test_portrait_screen_keeps_everything_on_screen(shipped_library, data_dir: Path) -> None:
    driver = Kiosk(shipped_library, data_dir, size=(480, 800))
    try:
        driver.tap(driver.widget("home", "start_button"))
        driver.advance(15)
        for name in ("countdown", "picture", "pause_button", "stop_button", "caption"):
            widget = driver.widget("session", name)
            x, y = widget.to_window(widget.x, widget.y)
            assert 0 <= x and x + widget.width <= 480 + 1 and 0 <= y and y + widget.height <= 800 + 1, name
    finally:
        driver.close()


@pytest.mark.parametrize("rotation, shown", [(0, "800x480, rotation 0"), (90, "480x800, rotation 90")])
def test_kiosk_run_draws_a_first_frame_as_a_real_app(tmp_path: Path, rotation: int, shown: str) -> None:
    import os
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    config.write_text(f"rotation: {rotation}\n", encoding="utf-8")
    env = dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "data"), KIVY_HOME=str(tmp_path / "kivy"),
               SDL_AUDIODRIVER="dummy", XDG_CACHE_HOME=str(tmp_path / "cache"), KIOSK_CONFIG=str(config))
    result = subprocess.run([sys.executable, "-m", "kiosk", "run", "--windowed", "--check"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"kiosk: first frame drawn ({shown})" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_session_added_over_ssh_shows_when_home_comes_back(kiosk: Kiosk, data_dir: Path) -> None:
    assert kiosk.widget("home", "today").text == "Not done yet today"
    assert kiosk_main(["--data-dir", str(data_dir), "log", "add", "--date", "2026-11-26"]) == 0
    kiosk.tap(kiosk.widget("home", "streaks_button"))
    kiosk.settle()
    assert kiosk.widget("streaks", "current_daily").value == "1"
    kiosk.tap(kiosk.widget("streaks", "home_button"))
    kiosk.settle()
    assert kiosk.widget("home", "today").text == "Done today"


def test_midnight_moves_today_on(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.controller.stop()
    kiosk.advance(2)
    kiosk.controller.go("home")
    kiosk.settle()
    kiosk.advance(15 * 3600, step=60.0, draw_every=3600)  # 09:00 to past midnight
    assert kiosk.widget("home", "clock").text == "00:00"
    assert kiosk.controller.stats.today == dt.date(2026, 11, 27)


def test_the_idle_screen_blanks_at_night_and_a_tap_only_wakes_it(shipped_library, data_dir: Path) -> None:
    from kiosk.config import Settings

    settings = Settings(night_mode="blank", night_start="21:00", night_end="07:00", idle_timeout=60)
    driver = Kiosk(shipped_library, data_dir, settings=settings)  # the fake day starts at 09:00
    try:
        driver.advance(11 * 3600, step=30.0, draw_every=3600)  # 20:00: still day
        assert driver.controller.night == ""
        driver.advance(3600 + 90, step=30.0, draw_every=600)  # past 21:00 and a minute idle
        assert driver.controller.night == "blank"
        width, height, pixels = driver.pixels()
        assert set(pixels[i:i + 3] for i in range(0, len(pixels), 4 * 997)) == {b"\x00\x00\x00"}
        driver.tap(driver.widget("home", "start_button"))
        assert driver.controller.night == "" and not driver.controller.in_session
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        assert driver.controller.in_session
        driver.advance(120, step=1.0)
        assert driver.controller.night == "", "never dark during a session"
    finally:
        driver.close()


def test_the_next_session_tries_the_voice_again(shipped_library, data_dir: Path) -> None:
    from kiosk.core.speaker import SilentSpeaker

    made = []

    def factory(settings):
        made.append(SilentSpeaker("fallback" if len(made) < 2 else "voice"))  # start-up, 1st session
        return made[-1]

    driver = Kiosk(shipped_library, data_dir, speaker_factory=factory)
    try:
        driver.tap(driver.widget("home", "start_button"))
        driver.advance(1)
        assert driver.widget("session", "voice_notice").text.startswith("Voice off")
        driver.controller.stop()
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        driver.advance(1)
        assert len(made) == 3 and driver.controller.speaker is made[2]
        assert driver.widget("session", "voice_notice").text == ""
    finally:
        driver.close()


def test_closing_the_app_mid_session_saves_it_as_not_completed(shipped_library, data_dir: Path) -> None:
    driver = Kiosk(shipped_library, data_dir)
    driver.tap(driver.widget("home", "start_button"))
    driver.advance(40)
    driver.close()
    saved = records(data_dir)
    assert len(saved) == 1 and not saved[0].completed and saved[0].active_s == pytest.approx(40, abs=0.6)


def test_under_systemd_it_reports_ready_pings_the_watchdog_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = str(tmp_path / "notify.sock")
    notify.bind(address)
    notify.settimeout(60)
    env = dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "data"), KIVY_HOME=str(tmp_path / "kivy"),
               SDL_AUDIODRIVER="dummy", XDG_CACHE_HOME=str(tmp_path / "cache"), NOTIFY_SOCKET=address,
               WATCHDOG_USEC="1000000", KIVY_NO_CONSOLELOG="1")
    errors = tmp_path / "stderr.txt"
    with open(errors, "w") as stderr:
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--windowed"], env=env,
                               stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        states: list = []

        def wait_for(state: str) -> None:
            while not any(message.split("\n")[0] == state for message in states):
                states.append(notify.recv(256).decode())

        wait_for("READY=1")
        wait_for("WATCHDOG=1")
        app.send_signal(signal.SIGTERM)
        wait_for("STOPPING=1")
        assert app.wait(timeout=60) == 0
    finally:
        if app.poll() is None:
            app.kill()
        notify.close()
    assert "Traceback" not in errors.read_text()


def test_a_session_added_over_ssh_shows_on_home_within_a_minute_without_a_touch(
        shipped_library, data_dir: Path) -> None:
    driver = Kiosk(shipped_library, data_dir)
    try:
        driver.advance(2)
        assert driver.controller.wait_idle(20)
        driver.settle()
        assert driver.widget("home", "today").text == "Not done yet today"
        # what `kiosk log add` over SSH does, for the kiosk's (fake) today
        kiosk_main(["--data-dir", str(data_dir), "log", "add", "--date", driver.wall().date().isoformat()])
        driver.advance(60, step=1.0)
        assert driver.controller.wait_idle(20)
        driver.settle()
        assert driver.controller.screen == "home", "nobody touched the screen"
        assert driver.widget("home", "today").text == "Done today"
    finally:
        driver.close()


def test_a_host_app_embeds_the_kiosk_beside_a_screen_of_its_own(tmp_path: Path, monkeypatch) -> None:
    """README's example: one import, one call, in the host's own ScreenManager."""
    from kivy.base import EventLoop
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
    from kivy_harness import UnitTestTouch

    from kiosk.ui import ExerciseRoot

    monkeypatch.setenv("HOME", str(tmp_path))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "safety-note-seen").touch()
    EventLoop.ensure_window()
    window = EventLoop.window
    host = ScreenManager(transition=NoTransition())
    weather = Screen(name="weather")
    weather.add_widget(Label(text="Sunny"))
    host.add_widget(weather)
    exercise = Screen(name="exercise")
    kiosk_root = ExerciseRoot.from_settings(config_path=tmp_path / "config.yaml", data_dir=data_dir)
    exercise.add_widget(kiosk_root)
    host.add_widget(exercise)
    window.add_widget(host)
    try:
        host.current = "exercise"
        for _ in range(5):
            EventLoop.idle()
        assert kiosk_root.controller.wait_idle(20)
        start = kiosk_root.screen("home").ids.start_button
        x, y = start.to_window(*start.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        assert kiosk_root.controller.in_session, "a tap on Start in the host's screen starts a session"
        host.current = "weather"
        EventLoop.idle()
        assert host.current_screen is weather
    finally:
        kiosk_root.close()
        window.remove_widget(host)
    with SessionLog.open(data_dir) as log:
        [saved] = log.records()
    assert not saved.completed, "closing the host saved the running session"
