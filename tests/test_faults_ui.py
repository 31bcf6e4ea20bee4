"""The app under faults, in a real window on a fake clock: a damaged log or settings file
at start, a voice that fails every way it can, a clock that is wrong, and 1,000 random taps.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set

import kivy_harness  # noqa: F401  (before anything from kivy)
import pytest
from factories import numbered_record
from kivy.clock import Clock
from kivy.uix.behaviors import ButtonBehavior
from kivy_harness import FAKE_TIME, Kiosk, texts, visible, walk
from voice_fakes import HANGING_ENGINE, MISSING_ENGINE, TINY_LIBRARY, hide_commands, install_fake_engine

from kiosk import paths
from kiosk.config import Settings, load_settings
from kiosk.core.catalog import Library, load_library
from kiosk.core.runner import CAPTIONLESS, SessionRunner
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import LOG_NAME, SessionLog
from kiosk.sound.audio import NullAudio
from kiosk.sound.voice import CueSpeaker, PhraseVoice, Sounds

MEDIA = paths.shipped_media_dir()


def one_tap_tiny_library(folder: Path) -> Library:
    """A 13-second routine on the Start button: a whole session costs a few hundred fake ticks."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(TINY_LIBRARY.replace("    name: Tiny\n", "    name: Tiny\n    default: true\n"))
    library = load_library([folder], MEDIA)
    assert not library.errors and library.default_routine().id == "tiny"
    return library


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return one_tap_tiny_library(tmp_path_factory.mktemp("tiny"))


def saved(data_dir: Path) -> List[Any]:
    with SessionLog.open(data_dir) as log:
        return log.records()


def run_to_the_end(driver: Kiosk) -> None:
    assert driver.controller.in_session
    driver.advance(build_timeline(driver.controller.timeline.routine).total_s + 1, step=0.25, draw_every=10)
    assert not driver.controller.in_session
    driver.settle()
    driver.advance(2)  # past the guard that ignores taps just after a screen change


def go_home_from_done(driver: Kiosk) -> None:
    assert driver.controller.screen == "done"
    driver.tap(driver.widget("done", "home_button"))
    assert driver.controller.screen == "home"
    driver.settle()
    driver.advance(2)


# --------------------------------------------------------------------------- damaged files at start


def damaged_log(data_dir: Path, log_bytes: Callable[[bytes], bytes], backup_bytes: Callable[[bytes], bytes]) -> int:
    """Write a 4-session log and its backup, then damage both; return how many sessions are whole somewhere."""
    from kiosk.sessionlog.store import salvage_records

    with SessionLog.open(data_dir) as log:
        for number in range(4):
            log.append(numbered_record(number))
    content = (data_dir / LOG_NAME).read_bytes()
    backup = (data_dir / (LOG_NAME + ".bak")).read_bytes()
    damaged, damaged_backup = log_bytes(content), backup_bytes(backup)
    (data_dir / LOG_NAME).write_bytes(damaged)
    (data_dir / (LOG_NAME + ".bak")).write_bytes(damaged_backup)
    return len({d["id"] for d in salvage_records(damaged)[0] + salvage_records(damaged_backup)[0]})


@pytest.mark.parametrize("case, log_bytes, backup_bytes", [
    ("truncated, good backup", lambda c: c[: len(c) // 2], lambda b: b),
    ("truncated, truncated backup", lambda c: c[: len(c) * 3 // 4], lambda b: b[: len(b) // 2]),
    ("zero bytes, random backup", lambda c: b"", lambda b: os.urandom(len(b))),
    ("wrong shape, no whole backup", lambda c: b'{"_default": [' + c + b"]}", lambda b: b"{}"),
    ("random bytes, random backup", lambda c: os.urandom(len(c)), lambda b: os.urandom(len(b))),
])
def test_the_app_starts_on_a_damaged_log_keeps_it_recovers_and_says_so(
        tiny_library: Library, tmp_path: Path, case: str, log_bytes: Any, backup_bytes: Any) -> None:
    data_dir = tmp_path / "data"
    whole = damaged_log(data_dir, log_bytes, backup_bytes)
    driver = Kiosk(tiny_library, data_dir)
    try:
        notice = driver.controller.notice
        assert "session log" in notice and ("damaged" in notice or "empty" in notice), notice
        assert driver.root.ids.notice.text.startswith(notice)
        assert list(data_dir.glob(f"{LOG_NAME}.corrupt-*")), "the damaged file is kept"
        assert driver.controller.stats is not None and driver.controller.stats.total_sessions == whole
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
    finally:
        driver.close()
    assert len(saved(data_dir)) == whole + 1


def test_the_app_says_where_a_settings_file_is_wrong_and_starts_with_defaults(tmp_path: Path) -> None:
    from kiosk.ui.app import AppOptions, build_controller

    config = tmp_path / "config.yaml"
    config.write_text("weekly_goal: [5]\nvoice: true\nvolumne: 1\n", encoding="utf-8")
    settings, problems = load_settings(config)
    controller = build_controller(AppOptions(data_dir=tmp_path / "data", config_path=config), settings, problems)
    try:
        assert "config.yaml, line 1" in controller.notice and "whole number" in controller.notice
        assert "kiosk validate" not in controller.notice, "said whole: a touch-only user has no command line"
        assert controller.settings.weekly_goal == Settings().weekly_goal
    finally:
        controller.shut_down()


# --------------------------------------------------------------------------- the voice fails

CRASHING_ENGINE = HANGING_ENGINE.replace(
    "threading.Event().wait()  # the engine hangs, as pyttsx3 can on Linux",
    "import os; os._exit(9)  # the engine takes the worker down")


class NoDevice(NullAudio):
    """A sound output with no device behind it, as KivyAudio reports one."""

    @property
    def problem(self) -> Optional[str]:
        return "no audio device (simulated)"


class EngineThatCannotRender:
    """A PhraseVoice stand-in that never yields sound (for the no-device case, where rendering is moot)."""

    tier = "pyttsx3"
    engine = "stub"
    problem = None

    def cached(self, text: str) -> None:
        return None

    piper = None
    fallbacks: List[str] = []

    def render(self, texts: Sequence[str], progress: Any = None) -> Dict[str, Path]:
        return {}

    render_for_cue = render

    def close(self) -> None:
        pass


FAULTS = ["engine missing", "engine hanging", "worker crashing", "no audio device"]


@pytest.fixture
def voice_fault(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    fault = request.param
    if fault != "no audio device":
        install_fake_engine(tmp_path, monkeypatch, {"engine missing": MISSING_ENGINE, "engine hanging": HANGING_ENGINE,
                                                     "worker crashing": CRASHING_ENGINE}[fault])
        hide_commands(tmp_path, monkeypatch)  # no espeak-ng to fall back on either
    return fault


@pytest.mark.parametrize("voice_fault", FAULTS, indirect=True)
def test_a_failing_voice_leaves_captions_says_voice_off_and_the_next_session_tries_again(
        tiny_library: Library, tmp_path: Path, voice_fault: str) -> None:
    made: List[CueSpeaker] = []

    def speaker_factory(settings: Settings) -> CueSpeaker:
        if voice_fault == "no audio device":
            voice: Any = EngineThatCannotRender()
            audio: NullAudio = NoDevice(FAKE_TIME)
        else:
            voice = PhraseVoice(cache_dir=tmp_path / f"voice-{len(made)}", reply_timeout_s=0.5)
            audio = NullAudio(FAKE_TIME)
        made.append(CueSpeaker(voice=voice, audio=audio, sounds=Sounds.from_media(MEDIA), clock=FAKE_TIME))
        return made[-1]

    driver = Kiosk(tiny_library, tmp_path / "data", speaker_factory=speaker_factory)
    captions: List[str] = []
    driver.controller.bind(view=lambda _c, view: captions.append(view.caption_text))
    try:
        driver.advance(2)
        for session in (1, 2):
            if session == 2:
                go_home_from_done(driver)
            driver.tap(driver.widget("home", "start_button"))
            assert len(made) == session + 1, "each session starts with a fresh try at the voice"
            driver.settle()  # the new speaker has tried (and failed) to prepare the phrases
            driver.advance(0.5)
            assert driver.widget("session", "voice_notice").text.startswith("Voice off"), made[-1].detail
            run_to_the_end(driver)
            assert driver.controller.screen == "done"
        assert [r.completed for r in saved(tmp_path / "data")] == [True, True]
        said = {c.text for c in build_timeline(tiny_library.default_routine()).cues if c.kind not in CAPTIONLESS}
        assert said <= set(captions), "every phrase the voice would have said was on screen"
        if voice_fault in ("engine hanging", "worker crashing"):
            assert any("restarting" in n for n in made[-1].voice.notices), made[-1].voice.notices
    finally:
        driver.close()


def test_after_the_engine_comes_back_the_next_session_speaks(tiny_library: Library, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    hide_commands(tmp_path, monkeypatch)
    made: List[CueSpeaker] = []

    def speaker_factory(settings: Settings) -> CueSpeaker:
        made.append(CueSpeaker(voice=PhraseVoice(cache_dir=tmp_path / "voice"), audio=NullAudio(FAKE_TIME),
                               sounds=Sounds.from_media(MEDIA), clock=FAKE_TIME))
        return made[-1]

    driver = Kiosk(tiny_library, tmp_path / "data", speaker_factory=speaker_factory)
    try:
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        driver.settle()
        driver.advance(0.5)
        assert driver.widget("session", "voice_notice").text.startswith("Voice off")
        run_to_the_end(driver)
        monkeypatch.undo()  # the engine and espeak-ng are back (a package was reinstalled)
        go_home_from_done(driver)
        driver.tap(driver.widget("home", "start_button"))
        driver.settle()
        driver.advance(0.5)
        assert made[-1].status == "voice" and driver.widget("session", "voice_notice").text == ""
        run_to_the_end(driver)
    finally:
        driver.close()


# --------------------------------------------------------------------------- the clock


def test_a_session_under_a_1970_clock_counts_once_the_next_session_dates_it(tiny_library: Library,
                                                                             tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    driver = Kiosk(tiny_library, data_dir)
    right_wall = driver.controller.wall
    try:
        offset = right_wall() - dt.datetime(1970, 1, 1, 0, 5, tzinfo=dt.timezone.utc)
        driver.controller.wall = lambda: right_wall() - offset  # booted without network
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
        [flagged] = saved(data_dir)
        assert flagged.clock_unverified and flagged.local_date == "1970-01-01"
        go_home_from_done(driver)
        assert driver.widget("home", "today").text == "Not done yet today"

        driver.controller.wall = right_wall  # NTP synced
        driver.advance(60)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
        go_home_from_done(driver)
        first, second = saved(data_dir)
        assert first.id == flagged.id and not first.clock_unverified
        assert first.local_date == second.local_date == right_wall().date().isoformat()
        assert first.clock_repaired_from == flagged.started_utc
        assert driver.controller.stats.completed_sessions == 2
        assert driver.widget("home", "daily_streak").text == "1 day in a row"
    finally:
        driver.close()


def test_the_next_start_of_the_app_dates_a_session_saved_under_a_wrong_clock(tiny_library: Library,
                                                                            tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    driver = Kiosk(tiny_library, data_dir)
    right_wall = driver.controller.wall
    try:
        offset = right_wall() - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        driver.controller.wall = lambda: right_wall() - offset
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
    finally:
        driver.close()  # the watchdog restarts the app, or the person switches it off and on (same boot)
    FAKE_TIME.now += 600
    again = Kiosk(tiny_library, data_dir, today=right_wall().date())
    try:
        [record] = saved(data_dir)
        assert not record.clock_unverified and record.clock_repaired_from.startswith("1970-01-01")
        assert again.controller.stats.completed_sessions == 1
        assert again.widget("home", "today").text == "Done today"
    finally:
        again.close()


# --------------------------------------------------------------------------- 1,000 random taps

TAPS = 1000
SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "20261126"))


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def runners(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[SessionRunner]]:
    """Every session runner the controller makes, to count the sessions running at once."""
    from kiosk.ui import session_section as controller_module  # where the controller makes its runners

    made: List[SessionRunner] = []

    class CountedRunner(SessionRunner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(controller_module, "SessionRunner", CountedRunner)
    yield made


def tappable(driver: Kiosk) -> List[Any]:
    width, height = driver.window.size
    found = []
    for widget in walk(driver.root):
        if isinstance(widget, ButtonBehavior) and visible(widget) and not getattr(widget, "disabled", False):
            x, y = widget.to_window(*widget.center)
            if 0 <= x < width and 0 <= y < height:
                found.append(widget)
    return found


def poke_at(driver: Kiosk, x: float, y: float, hold_s: float = 0.0) -> None:
    """A finger down and up, dispatched at once; Kivy's clock ticks, but no frame is drawn (a frame
    costs ~45 ms on Xvfb, so the test draws one every few taps instead)."""
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(x, y)
    touch.touch_down()
    Clock.tick()
    if hold_s:
        tick_for(hold_s, step=0.1)
    touch.touch_up()
    Clock.tick()


def tick_for(seconds: float, step: float) -> None:
    """Move the fake clock on, ticking Kivy's clock at each step without drawing."""
    target = FAKE_TIME.now + seconds
    while FAKE_TIME.now < target:
        FAKE_TIME.now = min(target, FAKE_TIME.now + step)
        Clock.tick()


def test_a_thousand_random_taps_never_crash_never_run_two_sessions_and_keep_the_log_whole(
        tiny_library: Library, tmp_path: Path, runners: List[SessionRunner]) -> None:
    rng = random.Random(SEED)
    data_dir, config = tmp_path / "data", tmp_path / "config.yaml"
    errors = Errors()
    logging.getLogger().addHandler(errors)
    driver = Kiosk(tiny_library, data_dir, config_path=config, first_start=True)
    seen: Set[str] = set()
    try:
        for tap in range(TAPS):
            seen.add(driver.controller.screen)
            targets = tappable(driver)
            if targets and rng.random() < 0.8:
                widget = rng.choice(targets)
                x, y = widget.to_window(widget.x + rng.random() * widget.width, widget.y + rng.random() * widget.height)
            else:
                x, y = rng.uniform(0, driver.window.width - 1), rng.uniform(0, driver.window.height - 1)
            poke_at(driver, x, y, hold_s=1.2 if rng.random() < 0.03 else 0.0)
            roll = rng.random()
            if roll < 0.05:
                tick_for(rng.uniform(10, 200), step=1.0)  # sessions end, idle time-outs
            elif roll < 0.6:
                tick_for(rng.uniform(0.0, 2.0), step=0.5)
            if tap % 25 == 0:
                driver.frames(1)  # a real frame now and then: drawing every screen state must not fail
            if rng.random() < 0.1:
                assert driver.controller.wait_idle(20)
            live = [runner for runner in runners if runner.session.started_at is not None and not runner.finished]
            assert len(live) <= 1, f"seed {SEED}, tap {tap}: {len(live)} sessions at once"
            if live:
                assert live[0] is driver.controller.runner and driver.controller.in_session, f"seed {SEED}, tap {tap}"
            assert "Traceback" not in " ".join(texts(driver.root))
        driver.controller.stop()
        driver.settle()
    finally:
        driver.close()
        logging.getLogger().removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records][:3]
    assert {"home", "session", "done", "streaks", "routines", "settings", "safety"} <= seen, f"seed {SEED}: {seen}"

    started = [runner for runner in runners if runner.session.started_at is not None]
    assert len(started) >= 10, f"seed {SEED}: too few sessions to say much"
    with SessionLog.open(data_dir) as log:
        assert log.notices == []
        stored = log.records()
    assert sorted(r.id for r in stored) == sorted(runner.record().id for runner in started)
    by_id = {r.id: r for r in stored}
    for runner in started:
        record = runner.record()
        kept = by_id[record.id]
        assert (kept.completed, kept.active_s, kept.routine) == (record.completed, record.active_s, record.routine)
    settings, problems = load_settings(config) if config.exists() else (Settings(), ())
    assert problems == ()
