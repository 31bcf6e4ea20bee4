"""The voice in the real app: Home prepares the one-tap routine in the background, a Start
tapped before that waits at most 2 s (saying so on the Start button), Piper's phrases are
the ones heard once ready, a Piper that cannot be used is said once, and the Settings
screen chooses the engine and the voice.

Real parts: a Kivy window on Xvfb driven by touches and the fake clock, the real Piper
voice of the test extra, the real pyttsx3 worker for the quick voice. Sound goes into a
recording audio output (no sound card here).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest
from kivy_harness import FAKE_TIME, Kiosk  # noqa: I001  (first: it configures Kivy)
from layout_rules import everything_wrong
from voice_fakes import Recorder, write_tiny_library

from kiosk import paths
from kiosk.config import Settings, load_settings
from kiosk.core.reminders import Reminder
from kiosk.core.catalog import load_library
from kiosk.core.timeline import build_timeline
from kiosk.sound.audio import NullAudio
from kiosk.sound.piper import PiperVoice
from kiosk.sound.voice import CueSpeaker, PhraseVoice, Sounds, make_speaker, reminder_voice
from kiosk.ui.voice_section import PREPARING, VOICE_WAIT_S, phrases_of

MEDIA = paths.shipped_media_dir()
HUNG_PIPER = [sys.executable, "-c", "import sys, time; sys.stdin.readline(); time.sleep(600)"]
"""A Piper that takes a phrase and never answers: the slowest Piper there can be."""
BROKEN_PIPER = [sys.executable, "-c", "import sys; sys.exit('piper: cannot load the voice')"]


class Speakers:
    """The app's speakers as the settings ask, each playing into a recording audio output;
    `hung_piper` makes the Piper one never answer."""

    def __init__(self, folder: Path, hung_piper: bool = False, broken_first: bool = False) -> None:
        self.folder = folder
        self.hung_piper = hung_piper
        self.broken_first = broken_first
        """The first Piper speaker's program fails at once; later ones are the real Piper."""
        self.made: List[CueSpeaker] = []
        self.audio: List[NullAudio] = []
        self.recorder = Recorder()

    def __call__(self, settings: Settings) -> CueSpeaker:
        audio = NullAudio(FAKE_TIME)
        broken = self.broken_first and settings.voice_engine == "piper" and not self.made
        if (self.hung_piper or broken) and settings.voice_engine == "piper":
            piper = PiperVoice(model_path=settings.piper_voice, speaker="", rate=settings.speech_rate,
                               cache_dir=self.folder / "voice", program=BROKEN_PIPER if broken else HUNG_PIPER,
                               load_timeout_s=600)
            speaker = CueSpeaker(voice=PhraseVoice(cache_dir=self.folder / "voice", piper=piper), audio=audio,
                                 sounds=Sounds.from_media(MEDIA), clock=FAKE_TIME, listener=self.recorder)
        else:
            speaker = make_speaker(settings, media_dir=MEDIA, cache_dir=self.folder / "voice", audio=audio,
                                   clock=FAKE_TIME)
            speaker.listener = self.recorder
        self.made.append(speaker)
        self.audio.append(audio)
        return speaker


@pytest.fixture
def tiny_library(tmp_path: Path):
    return load_library([paths.shipped_exercises_dir(), write_tiny_library(tmp_path / "library")], MEDIA)


@pytest.fixture
def kiosk_with(tiny_library, tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    made: List[Kiosk] = []

    def make(speakers: Speakers, reminder_speakers: Optional[Speakers] = None, size=(800, 480), **settings) -> Kiosk:
        chosen = Settings(default_routine="tiny", **settings)
        kiosk = Kiosk(tiny_library, tmp_path / "data", settings=chosen, config_path=tmp_path / "config.yaml",
                      speaker_factory=speakers, reminder_speaker_factory=reminder_speakers, size=size)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def wait_until(kiosk: Kiosk, condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Draw frames (the fake clock still) until the condition holds: threads work in real time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        kiosk.frames(1)
        time.sleep(0.01)


def start_button(kiosk: Kiosk):
    return kiosk.widget("home", "start_button")


def test_a_start_before_a_hung_voice_is_ready_waits_two_seconds_then_the_quick_voice_speaks(
        kiosk_with, tmp_path: Path, piper_model: Path, tiny_library) -> None:
    speakers = Speakers(tmp_path, hung_piper=True)
    kiosk = kiosk_with(speakers)
    controller = kiosk.controller
    controller.change_setting("piper_voice", str(piper_model))
    controller.change_setting("voice_engine", "piper")  # Home starts preparing the tiny routine, in vain
    assert controller.speaker.slow_to_prepare
    kiosk.frames(2)
    kiosk.advance(2.0)  # past the guard of the settings change

    total = len(phrases_of(build_timeline(tiny_library.routines["tiny"])))
    kiosk.tap(start_button(kiosk))
    assert not controller.in_session
    assert (controller.start_title, controller.start_detail) == (PREPARING, f"0 of {total} phrases ready")
    assert start_button(kiosk).ids.title.text == PREPARING
    assert everything_wrong(kiosk.root, kiosk.window, scale=controller.scale) == []  # the longer words fit
    assert "starting" in controller.why_not_start()
    kiosk.advance(1.0, step=0.1)
    kiosk.tap(start_button(kiosk))  # a second tap while it waits starts nothing more, nor waits longer
    assert controller.start() is False
    kiosk.advance(VOICE_WAIT_S - 1.2, step=0.1)
    assert not controller.in_session

    kiosk.advance(0.3, step=0.1)
    assert controller.in_session and controller.screen == "session"
    assert controller.start_title == "Start"
    # Piper is still "preparing" (hung), so the announcement comes from the quick voice.
    assert speakers.recorder.wait_for(lambda events: any(e.action == "start" and e.utterance.kind == "announce"
                                                         for e in events), timeout=60)
    announced = next(e for e in speakers.recorder.of("start") if e.utterance.kind == "announce")
    voice = controller.speaker.voice
    assert voice.tier == "piper" and voice.piper.ready(announced.utterance.text) is None
    assert announced.utterance.sound is not None and announced.utterance.sound.exists()


def test_the_start_button_waiting_for_the_voice_fits_a_portrait_screen(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = kiosk_with(Speakers(tmp_path, hung_piper=True), size=(480, 800))
    kiosk.controller.change_settings(voice_engine="piper", piper_voice=str(piper_model))  # then prepares in vain
    kiosk.advance(2.0)
    kiosk.tap(start_button(kiosk))
    assert kiosk.controller.start_title == PREPARING and not kiosk.controller.in_session
    kiosk.frames(2)
    assert everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale) == []


def test_a_start_once_the_voice_is_ready_starts_at_once_in_pipers_voice(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    speakers = Speakers(tmp_path)
    kiosk = kiosk_with(speakers, voice_engine="piper", piper_voice=str(piper_model))
    controller = kiosk.controller
    kiosk.settle()  # Home prepared the one-tap routine with the real Piper
    assert controller.speaker.voice.tier == "piper"
    kiosk.advance(2.0)
    kiosk.tap(start_button(kiosk))
    assert controller.in_session and controller.start_title == "Start"
    assert speakers.recorder.wait_for(lambda events: any(e.action == "start" and e.utterance.kind == "announce"
                                                         for e in events), timeout=60)
    announced = next(e for e in speakers.recorder.of("start") if e.utterance.kind == "announce")
    piper = controller.speaker.voice.piper
    assert announced.utterance.sound == piper.ready(announced.utterance.text)
    assert controller.notice == ""


def test_a_piper_voice_that_cannot_be_used_is_said_once_and_the_standard_voice_speaks(
        kiosk_with, tmp_path: Path) -> None:
    speakers = Speakers(tmp_path)
    missing = tmp_path / "voices" / "en_US-nobody-medium.onnx"
    kiosk = kiosk_with(speakers, voice_engine="piper", piper_voice=str(missing))
    controller = kiosk.controller
    kiosk.advance(1.0)
    assert controller.notice.startswith("The Piper voice is not used: the voice file")
    assert str(missing) in controller.notice and controller.notice.endswith("speaking with the standard voice "
                                                                             "(pyttsx3).")
    assert controller.speaker.voice.tier == "pyttsx3" and not controller.speaker.slow_to_prepare
    shown = controller.notice
    controller.dismiss_notice()
    controller.change_setting("speech_rate", 180)  # a new speaker, the same Piper problem
    kiosk.settle()
    kiosk.advance(1.0)
    assert [text.split(":")[0] for text in controller.speaker.voice.fallbacks] == ["the Piper voice is not used"]
    assert controller.notice == "" and shown not in controller._notices  # said once in a run, not at every change


def test_settings_choose_the_engine_and_a_piper_voice_found_in_the_voices_folder(
        kiosk_with, tmp_path: Path, piper_model: Path, isolated_home: Path) -> None:
    folder = isolated_home / ".local" / "share" / "piper-voices"
    folder.mkdir(parents=True)
    for suffix in ("", ".json"):
        (folder / (piper_model.name + suffix)).symlink_to(Path(str(piper_model) + suffix))
    speakers = Speakers(tmp_path)
    kiosk = kiosk_with(speakers)
    controller = kiosk.controller
    kiosk.advance(1.0)
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.settle()
    row, engine = kiosk.widget("settings", "voice_engine_row"), kiosk.widget("settings", "voice_engine_next")
    assert row.value == "Standard (espeak-ng)"
    assert kiosk.widget("settings", "piper_voice_row").value == "Choose one"
    kiosk.advance(1.0)
    kiosk.tap(engine)
    kiosk.settle()
    assert row.value == "Natural (Piper)"
    assert kiosk.widget("settings", "piper_voice_row").value == "joe (en_US)"
    assert kiosk.widget("settings", "piper_voice_next").disabled  # the only voice found is the one chosen
    saved, problems = load_settings(tmp_path / "config.yaml")
    assert problems == () and saved.voice_engine == "piper"
    assert saved.piper_voice == str(folder / piper_model.name)
    assert controller.speaker.voice.tier == "piper" and controller.speaker.slow_to_prepare
    kiosk.advance(1.0)
    kiosk.tap(engine)
    kiosk.settle()
    assert row.value == "Standard (espeak-ng)" and controller.speaker.voice.tier == "pyttsx3"
    assert load_settings(tmp_path / "config.yaml")[0].voice_engine == "pyttsx3"


def test_no_piper_voice_found_says_so_on_the_settings_screen(kiosk_with, tmp_path: Path) -> None:
    kiosk = kiosk_with(Speakers(tmp_path))
    kiosk.advance(1.0)
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.settle()
    assert kiosk.widget("settings", "piper_voice_row").value == "None found"
    assert kiosk.widget("settings", "piper_voice_next").disabled


def test_a_reminder_speaks_in_pipers_voice_prepared_at_home(kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    message = "Time for your feet and hips."
    speakers, reminders = Speakers(tmp_path), Speakers(tmp_path)
    kiosk = kiosk_with(speakers, lambda settings: reminders(reminder_voice(settings)), voice_engine="piper",
                       piper_voice=str(piper_model), reminders=(Reminder("09:01", message=message),))
    kiosk.settle()  # Home rendered the routine and the message with Piper
    piper = kiosk.controller.speaker.voice.piper
    assert piper is not None and piper.ready(message) is not None
    kiosk.advance(62, step=1.0, draw_every=60)
    assert kiosk.controller.reminder_text == message
    deadline = time.monotonic() + 60
    while not any(e.utterance.kind == "done" for e in reminders.recorder.of("start")):  # the chime, then the words
        assert time.monotonic() < deadline, reminders.recorder.of("start")
        kiosk.advance(0.2, step=0.1, draw_every=1.0)
        time.sleep(0.01)
    said = next(e for e in reminders.recorder.of("start") if e.utterance.kind == "done")
    assert said.utterance.text == message
    assert said.utterance.sound == piper.ready(message)  # the same file: Piper's, not the quick voice's


def waiting_kiosk(kiosk_with, tmp_path: Path, piper_model: Path) -> Kiosk:
    """A kiosk whose Piper never answers, so a Start on Home waits the whole 2 s."""
    kiosk = kiosk_with(Speakers(tmp_path, hung_piper=True))
    kiosk.controller.change_settings(voice_engine="piper", piper_voice=str(piper_model))
    kiosk.advance(2.0)
    return kiosk


def test_a_routine_chosen_from_the_list_starts_at_once_without_a_wait(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = waiting_kiosk(kiosk_with, tmp_path, piper_model)
    kiosk.controller.go("routines")
    kiosk.advance(2.0)
    assert kiosk.controller.start("tiny")
    assert kiosk.controller.in_session and not kiosk.controller.starting


def test_stop_from_home_assistant_or_leaving_home_calls_off_a_start_waiting_for_the_voice(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = waiting_kiosk(kiosk_with, tmp_path, piper_model)
    controller = kiosk.controller
    kiosk.tap(start_button(kiosk))
    assert controller.starting
    controller.stop_from_afar()
    assert not controller.starting and controller.start_title == "Start"
    kiosk.advance(VOICE_WAIT_S + 1, step=0.1)
    assert not controller.in_session

    kiosk.tap(start_button(kiosk))
    assert controller.starting
    kiosk.tap(kiosk.widget("home", "settings_button"))
    assert controller.screen == "settings" and not controller.starting
    kiosk.advance(VOICE_WAIT_S + 1, step=0.1)
    assert not controller.in_session and controller.screen == "settings"


def test_a_new_speaker_with_every_phrase_on_disk_starts_without_the_two_seconds(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = kiosk_with(Speakers(tmp_path), voice_engine="piper", piper_voice=str(piper_model))
    kiosk.settle()  # every phrase of the one-tap routine made by Piper, on disk
    controller = kiosk.controller
    controller.change_setting("volume", 0.5)  # a new speaker: it knows of nothing ready yet
    kiosk.advance(2.0)
    kiosk.tap(start_button(kiosk))
    # The fake clock stands still: only the new speaker finding its phrases on disk can start it.
    wait_until(kiosk, lambda: controller.in_session, "the session starts")
    assert controller.speaker.voice.tier == "piper"


def test_a_start_called_off_leaves_the_reminder_to_come_again(kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = kiosk_with(Speakers(tmp_path, hung_piper=True), reminders=(Reminder("09:01"),))
    controller = kiosk.controller
    controller.change_settings(voice_engine="piper", piper_voice=str(piper_model))
    kiosk.advance(62, step=1.0, draw_every=60)
    assert controller.reminder_text
    kiosk.advance(2.0)
    controller.reminder_start()
    assert controller.starting and controller.reminder_text == ""  # the Start button says what happens
    controller.stop_from_afar()
    assert not controller.starting and not controller.in_session
    kiosk.advance(31 * 60, step=5.0, draw_every=600)
    assert controller.reminder_text  # not answered: it came again after 30 minutes


def test_a_start_from_home_assistant_on_another_screen_starts_at_once(
        kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = waiting_kiosk(kiosk_with, tmp_path, piper_model)
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.advance(2.0)
    assert kiosk.controller.start_from_afar()
    assert kiosk.controller.in_session and not kiosk.controller.starting


def test_the_piper_notice_goes_once_piper_speaks_again(kiosk_with, tmp_path: Path, piper_model: Path) -> None:
    kiosk = kiosk_with(Speakers(tmp_path, broken_first=True), voice_engine="piper", piper_voice=str(piper_model))
    controller = kiosk.controller
    kiosk.advance(1.0)
    assert controller.notice.startswith("The Piper voice is not used: Piper could not say anything")
    assert kiosk.widget("settings", "voice_engine_row").value == "Natural (Piper): unavailable"
    controller.change_setting("volume", 0.5)  # a new speaker, the real Piper this time
    kiosk.settle()
    kiosk.advance(1.0)
    assert controller.notice == "" and controller.piper_in_use
    assert kiosk.widget("settings", "voice_engine_row").value == "Natural (Piper)"
