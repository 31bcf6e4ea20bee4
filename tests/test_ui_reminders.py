"""Reminders in the real app: a real window, the fake clock, and the real espeak-ng voice
rendering the message (played into a recording audio output, since there is no sound card)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest
from kivy_harness import FAKE_TIME, Kiosk, visible  # noqa: I001  (first: it configures Kivy)
from layout_rules import everything_wrong

from kiosk import paths
from kiosk.config import Settings, load_settings
from kiosk.core.reminders import Reminder
from kiosk.core.timeline import build_timeline
from kiosk.remind import REMINDERS_FILE
from kiosk.sound.audio import NullAudio, wav_info
from kiosk.sound.voice import CueSpeaker, make_speaker, reminder_voice

MEDIA = paths.shipped_media_dir()
MESSAGE = "Time for your five minutes of feet and hips."


class Reminded:
    """The reminder speakers the app made, each with the audio it played into."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.speakers: List[CueSpeaker] = []
        self.audio: List[NullAudio] = []

    def __call__(self, settings: Settings) -> CueSpeaker:
        audio = NullAudio(FAKE_TIME)
        speaker = make_speaker(reminder_voice(settings), media_dir=MEDIA, cache_dir=self.folder / "voice",
                               audio=audio, clock=FAKE_TIME)
        self.speakers.append(speaker)
        self.audio.append(audio)
        return speaker

    def plays(self) -> List[Path]:
        return [played.wav for audio in self.audio for played in audio.plays]

    def chimes(self) -> int:
        return sum(1 for wav in self.plays() if wav.name == "chime.wav")


@pytest.fixture
def kiosk_with(shipped_library, tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    made: List[Kiosk] = []

    def make(*reminders: Reminder, start: dt.time = dt.time(9, 0), data: Optional[Path] = None,
             size=(800, 480), **settings) -> Kiosk:
        config = tmp_path / "config.yaml"
        chosen = Settings(reminders=reminders, reminder_volume=0.6, **settings)
        kiosk = Kiosk(shipped_library, data or tmp_path / "data", settings=chosen, config_path=config, size=size,
                      start_time=start, reminder_speaker_factory=Reminded(tmp_path))
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def reminded(kiosk: Kiosk) -> Reminded:
    return kiosk.controller._reminder_speaker_factory


def wait_for_sound(kiosk: Kiosk, count: int, timeout: float = 60.0) -> None:
    """Until `count` sounds have started: the speaker renders (real espeak-ng, real time) and
    plays on threads of its own, by the fake clock, which moves on a little at each look."""
    deadline = time.monotonic() + timeout
    while len(reminded(kiosk).plays()) < count:
        assert time.monotonic() < deadline, f"only {reminded(kiosk).plays()} played"
        kiosk.advance(0.2, step=0.1, draw_every=1.0)
        time.sleep(0.01)


def card(kiosk: Kiosk):
    return kiosk.widget("home", "reminder_card")


def test_at_its_time_the_card_comes_with_the_chime_and_the_message_in_the_real_voice(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:05", message=MESSAGE))
    kiosk.advance(240, step=1.0, draw_every=60)
    assert kiosk.controller.reminder_text == "" and not visible(card(kiosk))
    kiosk.advance(61, step=1.0, draw_every=60)
    assert kiosk.controller.reminder_text == MESSAGE
    assert visible(card(kiosk)) and card(kiosk).ids.message.text == MESSAGE
    assert not visible(kiosk.widget("home", "start_button"))
    kiosk.advance(20, step=0.1, draw_every=5)  # the chime plays, then the words
    wait_for_sound(kiosk, 2)
    chime, words = reminded(kiosk).plays()[:2]
    assert chime == MEDIA / "sounds" / "chime.wav"
    info = wav_info(words)
    assert (info.frame_rate, info.channels) == (22050, 1) and info.seconds > 1.5  # espeak-ng said it
    assert {played.volume for played in reminded(kiosk).audio[0].plays} == {0.6}
    assert everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale) == []


@pytest.mark.parametrize("size", [(480, 800), (1920, 1080)], ids=["portrait", "fullhd"])
def test_the_card_fits_every_screen(kiosk_with, size) -> None:
    kiosk = kiosk_with(Reminder("09:01", message="A longer message than most: time for your five minutes of "
                                                 "feet and hips, then a glass of water."), size=size)
    kiosk.advance(61, step=1.0, draw_every=60)
    assert visible(card(kiosk))
    assert everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale) == []


def test_start_on_the_card_starts_the_one_tap_routine(kiosk_with, shipped_library) -> None:
    kiosk = kiosk_with(Reminder("09:01"))
    kiosk.advance(62, step=1.0, draw_every=60)
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_start)
    assert kiosk.controller.in_session
    assert kiosk.controller.timeline.routine.id == shipped_library.default_routine().id
    assert kiosk.controller.reminder_text == ""


def test_no_answer_repeats_it_once_after_30_minutes_and_never_again(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"))
    kiosk.advance(62, step=1.0, draw_every=60)
    kiosk.advance(10, step=0.5)
    wait_for_sound(kiosk, 1)
    assert reminded(kiosk).chimes() == 1
    kiosk.advance(29 * 60, step=5.0, draw_every=600)
    assert reminded(kiosk).chimes() == 1
    kiosk.advance(70, step=1.0, draw_every=60)
    wait_for_sound(kiosk, 2)
    assert reminded(kiosk).chimes() == 2 and kiosk.controller.reminder_text
    kiosk.advance(3 * 60 * 60, step=10.0, draw_every=1800)
    wait_for_sound(kiosk, 2)
    assert reminded(kiosk).chimes() == 2


def test_in_30_minutes_puts_it_off_once(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"))
    kiosk.advance(62, step=1.0, draw_every=60)
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_snooze)
    assert kiosk.controller.reminder_text == "" and visible(kiosk.widget("home", "start_button"))
    kiosk.advance(29 * 60, step=5.0, draw_every=600)
    assert kiosk.controller.reminder_text == ""
    kiosk.advance(70, step=1.0, draw_every=60)
    assert kiosk.controller.reminder_text
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_snooze)  # and again, as often as asked
    kiosk.advance(31 * 60, step=5.0, draw_every=600)
    assert kiosk.controller.reminder_text
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_not_today)
    kiosk.advance(3 * 60 * 60, step=10.0, draw_every=1800)
    wait_for_sound(kiosk, 3)
    assert reminded(kiosk).chimes() == 3 and kiosk.controller.reminder_text == ""


def test_not_today_silences_every_reminder_until_tomorrow(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"), Reminder("12:00"), Reminder("08:00", days=("fri",)))
    kiosk.advance(62, step=1.0, draw_every=60)
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_not_today)
    kiosk.advance(6 * 60 * 60, step=10.0, draw_every=3600)
    assert kiosk.controller.reminder_text == ""
    kiosk.advance(17 * 60 * 60, step=30.0, draw_every=3600)  # the next morning: Friday 08:00
    assert kiosk.wall().date() == dt.date(2026, 11, 27) and kiosk.wall().time() >= dt.time(8, 0)
    assert kiosk.controller.reminder_text
    wait_for_sound(kiosk, 2)
    assert reminded(kiosk).chimes() == 2


def test_a_day_already_done_stays_quiet(kiosk_with, shipped_library) -> None:
    kiosk = kiosk_with(Reminder("09:20"))
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(build_timeline(shipped_library.default_routine()).total_s + 2, step=0.5)
    kiosk.settle()
    assert kiosk.controller.done_today
    kiosk.advance(30 * 60, step=5.0, draw_every=600)
    assert kiosk.controller.reminder_text == "" and reminded(kiosk).speakers == []


def test_never_during_a_session(kiosk_with, shipped_library) -> None:
    routine = max(shipped_library.routines.values(), key=lambda r: build_timeline(r).total_s)
    kiosk = kiosk_with(Reminder("09:05"))
    kiosk.controller.start(routine.id)
    kiosk.advance(6 * 60, step=0.5, draw_every=30)
    assert kiosk.controller.in_session and kiosk.controller.reminder_text == ""
    kiosk.advance(5.0)
    kiosk.controller.stop()  # stopped short: not done, and the reminder was answered by the session
    kiosk.advance(40 * 60, step=5.0, draw_every=600)
    assert kiosk.controller.reminder_text == "" and reminded(kiosk).speakers == []


def test_the_night_screen_wakes_for_a_reminder_the_person_set(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("22:30"), start=dt.time(21, 55), night_mode="blank", night_start="22:00",
                       night_end="07:00", idle_timeout=60)
    kiosk.advance(10 * 60, step=1.0, draw_every=60)
    assert kiosk.controller.night == "blank"
    kiosk.advance(25 * 60 + 30, step=1.0, draw_every=60)  # 22:30:30
    assert kiosk.controller.night == "" and kiosk.controller.reminder_text
    kiosk.advance(5 * 60, step=1.0, draw_every=60)  # nobody answers: the screen goes dark again
    assert kiosk.controller.night == "blank"
    kiosk.advance(30 * 60, step=1.0, draw_every=600)  # the repeat would fall in the night: not played
    wait_for_sound(kiosk, 1)
    assert reminded(kiosk).chimes() == 1 and kiosk.controller.night == "blank"


def test_a_restart_after_a_power_cut_does_not_play_it_again(kiosk_with, tmp_path: Path) -> None:
    first = kiosk_with(Reminder("09:01"))
    first.advance(62, step=1.0, draw_every=60)
    assert first.controller.reminder_text
    first.settle()  # today's answers are on the card before the plug is pulled
    saved = json.loads((tmp_path / "data" / REMINDERS_FILE).read_text())
    assert [(key, kind) for key, kind, _ in saved["played"]] == [("09:01|mon,tue,wed,thu,fri,sat,sun|", "first")]
    first.close()  # the plug is pulled; the kiosk comes straight back
    second = kiosk_with(Reminder("09:01"), start=dt.time(9, 2), data=tmp_path / "data")
    second.advance(20, step=1.0, draw_every=10)
    assert second.controller.reminder_text == "" and reminded(second).speakers == []


def test_a_reminder_missed_while_off_plays_up_to_two_hours_late(kiosk_with, tmp_path: Path) -> None:
    late = kiosk_with(Reminder("07:30"), start=dt.time(9, 20), data=tmp_path / "late")
    late.advance(5, step=1.0)
    assert late.controller.reminder_text
    late.close()
    too_late = kiosk_with(Reminder("07:00"), start=dt.time(9, 20), data=tmp_path / "too-late")
    too_late.advance(5, step=1.0)
    assert too_late.controller.reminder_text == ""


def test_the_settings_file_keeps_what_the_card_does_not_touch(kiosk_with, tmp_path: Path) -> None:
    kiosk = kiosk_with(Reminder("09:01", days=("mon", "thu"), message=MESSAGE))
    assert kiosk.controller.add_reminder()
    kiosk.controller.shift_reminder(1, -1)
    kiosk.settle()
    settings, problems = load_settings(tmp_path / "config.yaml")
    assert problems == ()
    assert settings.reminders == (Reminder("09:01", ("mon", "thu"), MESSAGE), Reminder("09:56"))


def test_a_clock_that_cannot_be_right_plays_no_reminder(shipped_library, tmp_path: Path) -> None:
    """A Pi without a real-time clock boots in the past until NTP: no reminder from that time."""
    kiosk = Kiosk(shipped_library, tmp_path / "data", settings=Settings(reminders=(Reminder("09:01"),)),
                  today=dt.date(2025, 1, 1), reminder_speaker_factory=Reminded(tmp_path))
    try:
        kiosk.advance(120, step=1.0, draw_every=60)
        assert kiosk.controller.reminder_text == "" and reminded(kiosk).speakers == []
    finally:
        kiosk.close()


def test_moving_a_reminder_that_played_to_a_time_gone_by_does_not_play_it_again(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"))
    kiosk.advance(62, step=1.0, draw_every=60)
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_snooze)
    kiosk.advance(5 * 60, step=1.0, draw_every=60)  # 09:08
    kiosk.controller.shift_reminder(0, 1)  # 09:06: gone by today, so tomorrow
    assert kiosk.controller.add_reminder()  # 10:06, still to come: it plays
    kiosk.advance(20, step=1.0)
    assert kiosk.controller.reminder_text == "" and kiosk.controller.screen == "home"
    kiosk.advance(60 * 60, step=5.0, draw_every=600)
    wait_for_sound(kiosk, 2)
    assert kiosk.controller.reminder_text and reminded(kiosk).chimes() == 3  # 09:01, its snooze at 09:33, 10:06


def test_a_new_reminder_volume_is_the_next_reminders(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"), Reminder("09:20"))
    kiosk.advance(62, step=1.0, draw_every=60)
    wait_for_sound(kiosk, 1)
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_snooze)
    kiosk.controller.change_setting("reminder_volume", 0.2)
    kiosk.advance(20 * 60, step=2.0, draw_every=600)
    wait_for_sound(kiosk, 2)
    volumes = [played.volume for audio in reminded(kiosk).audio for played in audio.plays]
    assert volumes[0] == 0.6 and volumes[-1] == 0.2


def test_a_tap_as_the_card_comes_does_not_answer_it(kiosk_with) -> None:
    kiosk = kiosk_with(Reminder("09:01"))
    kiosk.advance(58, step=1.0, draw_every=60)
    assert kiosk.controller.reminder_text == ""
    kiosk.advance(2.0)  # the card comes now, under a finger that was on its way to Start
    assert kiosk.controller.reminder_text
    kiosk.tap(card(kiosk).ids.reminder_not_today)
    assert kiosk.controller.reminder_text  # too soon to be an answer to it
    kiosk.advance(2.0)
    kiosk.tap(card(kiosk).ids.reminder_not_today)
    assert kiosk.controller.reminder_text == ""


def test_after_a_night_on_a_blank_screen_yesterdays_done_does_not_silence_the_morning(
        kiosk_with, shipped_library) -> None:
    kiosk = kiosk_with(Reminder("06:30"), start=dt.time(20, 0), night_mode="blank", night_start="22:00",
                       night_end="07:00", idle_timeout=60)
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(build_timeline(shipped_library.default_routine()).total_s + 2, step=0.5)
    kiosk.settle()
    assert kiosk.controller.done_today
    kiosk.advance(10.5 * 60 * 60 + 31, step=10.0, draw_every=3600)  # 06:31 the next morning, the screen blank
    assert kiosk.wall().time() < dt.time(6, 40) and kiosk.controller.reminder_text
    assert not kiosk.controller.done_today
