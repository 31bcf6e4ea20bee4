"""The voice with the real espeak-ng: rendered WAVs, the fallback ladder, the speaker's rules.

Rendered phrases are inspected with `wave`: valid, not silent, and short enough for the
room the timeline leaves them. Failures are real processes failing: a worker killed
with SIGKILL, an engine that hangs, an engine that is not installed.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import threading
import wave
from array import array
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
from test_audio import hide_the_sound_card
from voice_fakes import (FLAKY_ENGINE, HANGING_ENGINE, MISSING_ENGINE, Recorder, hide_commands, install_fake_engine,
                         tiny_routine)

from kiosk import cli, paths
from kiosk.config import Settings
from kiosk.core.catalog import Library
from kiosk.core.model import Cue
from kiosk.core.speaker import SilentSpeaker, Speaker
from kiosk.core.speech_rules import LATE_LIMIT_S
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.play import ScaledClock, play_session
from kiosk.sound.audio import NullAudio, wav_info, wav_seconds
from kiosk.sound.voice import CueSpeaker, EspeakCommand, PhraseCache, PhraseVoice, Sounds, make_speaker, match_voice
from kiosk.sound.voice_worker import VoiceInfo

MEDIA = paths.shipped_media_dir()
SOUNDS = Sounds.from_media(MEDIA)
SILENCE_RMS = 300.0
"""Speech from espeak-ng has an RMS in the thousands; a silent or broken file is near 0."""


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def rms(path: Path) -> float:
    with wave.open(str(path)) as source:
        samples = array("h", source.readframes(source.getnframes()))
    return math.sqrt(sum(v * v for v in samples) / len(samples)) if samples else 0.0


def routine_phrases(library: Library) -> List[str]:
    texts: Dict[str, None] = {}
    for routine in library.routines.values():
        for cue in build_timeline(routine).cues:
            texts[cue.text] = None
    return list(texts)


# --------------------------------------------------------------------------- rendering, both engines


@pytest.fixture(scope="module", params=["pyttsx3", "espeak-ng"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             shipped_library: Library) -> Tuple[str, Dict[str, Path]]:
    """Every phrase of every shipped routine, at the default settings, by one engine."""
    folder = tmp_path_factory.mktemp(f"rendered-{request.param}")
    voice = PhraseVoice(cache_dir=folder, rate=Settings().speech_rate, use_worker=request.param == "pyttsx3")
    try:
        result = voice.render(routine_phrases(shipped_library))
        assert voice.tier == request.param, voice.notices
    finally:
        voice.close()
    return request.param, result


def test_every_phrase_renders_to_a_valid_wav_that_is_not_silent(rendered: Tuple[str, Dict[str, Path]],
                                                                 shipped_library: Library) -> None:
    engine, paths_by_text = rendered
    phrases = routine_phrases(shipped_library)
    assert sorted(paths_by_text) == sorted(phrases)
    for text, path in paths_by_text.items():
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050), text
            assert wav.getnframes() > 0, text
        assert rms(path) > SILENCE_RMS, f"{engine}: {text!r} is silent"


def allowed_seconds(timeline: Timeline, cue: Cue) -> float:
    """An announcement must end before its exercise starts; anything else before the next cue."""
    if cue.kind == "announce":
        segment = timeline.position_at(cue.at_s).segment
        assert segment is not None
        if segment.kind != "work":
            return segment.end_s - cue.at_s
    return cue.room_s


def test_every_phrase_of_every_shipped_routine_fits_the_room_the_timeline_leaves(
        rendered: Tuple[str, Dict[str, Path]], shipped_library: Library) -> None:
    engine, paths_by_text = rendered
    beep = wav_seconds(SOUNDS.beep) if SOUNDS.beep else 0.0
    too_long = []
    for routine in shipped_library.routines.values():
        timeline = build_timeline(routine)
        for cue in timeline.cues:
            needed = wav_seconds(paths_by_text[cue.text]) + (beep if cue.kind == "count" else 0.0)
            room = allowed_seconds(timeline, cue)
            if needed > room:
                too_long.append(f"{routine.id} [{cue.at_s:g} s] {cue.kind} {cue.text!r}: "
                                f"{needed:.2f} s of speech, {room:.2f} s of room")
    assert not too_long, f"{engine} at {Settings().speech_rate} wpm:\n" + "\n".join(too_long)


def test_cached_phrases_are_used_as_they_are(tmp_path: Path) -> None:
    voice = PhraseVoice(cache_dir=tmp_path / "voice")
    try:
        first = voice.render(["Begin.", "Rest."])
        stamps = {text: path.stat().st_mtime_ns for text, path in first.items()}
        assert voice.cached("Begin.") == first["Begin."]
        assert voice.cached("Not said yet.") is None
        again = voice.render(["Rest.", "Begin."])
        assert again == first
        assert {text: path.stat().st_mtime_ns for text, path in again.items()} == stamps
    finally:
        voice.close()


def test_the_cache_key_covers_text_voice_rate_and_engine(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    base = cache.path_for("pyttsx3-2.99+espeak-ng-1.51", "", 160, "Begin.")
    assert base == cache.path_for("pyttsx3-2.99+espeak-ng-1.51", "", 160, "Begin.")
    others = {
        cache.path_for("pyttsx3-2.99+espeak-ng-1.52", "", 160, "Begin."),
        cache.path_for("pyttsx3-2.99+espeak-ng-1.51", "gmw/en-us", 160, "Begin."),
        cache.path_for("pyttsx3-2.99+espeak-ng-1.51", "", 170, "Begin."),
        cache.path_for("pyttsx3-2.99+espeak-ng-1.51", "", 160, "Begin"),
    }
    assert base not in others and len(others) == 4


def test_the_configured_voice_and_rate_change_the_sound(tmp_path: Path) -> None:
    text = "Switch to your left foot."
    lengths = {}
    for voice_id, rate in (("", 160), ("", 300), ("gmw/en-us", 160)):
        voice = PhraseVoice(cache_dir=tmp_path / "voice", voice_id=voice_id, rate=rate)
        try:
            lengths[(voice_id, rate)] = voice.render([text])[text]
            assert not voice.notices
        finally:
            voice.close()
    assert len(set(lengths.values())) == 3
    assert wav_seconds(lengths[("", 300)]) < wav_seconds(lengths[("", 160)])


def test_an_unknown_voice_falls_back_to_the_default_and_says_so(tmp_path: Path) -> None:
    voice = PhraseVoice(cache_dir=tmp_path / "voice", voice_id="klingon-imperial")
    try:
        assert "Begin." in voice.render(["Begin."])
        assert voice.tier == "pyttsx3"
        assert any("no voice 'klingon-imperial'" in notice for notice in voice.notices)
    finally:
        voice.close()


def test_match_voice_by_id_short_id_name_or_language() -> None:
    voices = [VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb", "en")),
              VoiceInfo("gmw/en-us", "English (America)", ("en-us",))]
    assert match_voice("gmw/en-us", voices) is voices[1]
    assert match_voice("EN-US", voices) is voices[1]
    assert match_voice("english (great britain)", voices) is voices[0]
    assert match_voice("en-gb", voices) is voices[0]
    assert match_voice("fr", voices) is None and match_voice("", voices) is None


def test_the_command_line_takes_text_that_looks_like_an_option(tmp_path: Path) -> None:
    out = tmp_path / "dash.wav"
    EspeakCommand().render("-s 999 three", out, "", 160)
    assert rms(out) > SILENCE_RMS


def test_espeak_command_lists_voices() -> None:
    voices = EspeakCommand().voices()
    assert any(v.id == "gmw/en-us" and "en-us" in v.languages for v in voices)


# --------------------------------------------------------------------------- the fallback ladder


def test_a_worker_killed_between_phrases_is_restarted(tmp_path: Path) -> None:
    voice = PhraseVoice(cache_dir=tmp_path / "voice")
    try:
        voice.render(["Begin."])
        first_pid = voice.worker_pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        assert "Rest." in voice.render(["Rest."])
        assert voice.tier == "pyttsx3" and voice.worker_pid not in (None, first_pid)
        assert any("died" in notice for notice in voice.notices)
    finally:
        voice.close()


def test_a_hanging_engine_is_restarted_once_then_the_command_line_takes_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, HANGING_ENGINE)
    # A short wait for the hanging worker only: espeak-ng keeps its usual time, however busy the machine.
    voice = PhraseVoice(cache_dir=tmp_path / "voice", reply_timeout_s=0.5, espeak=EspeakCommand())
    try:
        result = voice.render(["Begin.", "Rest."])
        assert sorted(result) == ["Begin.", "Rest."]
        assert voice.tier == "espeak-ng"
        assert any("restarting" in notice for notice in voice.notices)
        assert "using the espeak-ng command line" in (voice.problem or "")
        assert rms(result["Begin."]) > SILENCE_RMS
    finally:
        voice.close()


def test_a_missing_pyttsx3_goes_straight_to_the_command_line(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    voice = PhraseVoice(cache_dir=tmp_path / "voice")
    try:
        assert "Begin." in voice.render(["Begin."])
        assert voice.tier == "espeak-ng" and len(voice.notices) == 1
        assert "simulated: pyttsx3 is not installed" in voice.notices[0]
    finally:
        voice.close()


def test_no_engine_at_all_leaves_captions_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    hide_commands(tmp_path, monkeypatch)
    voice = PhraseVoice(cache_dir=tmp_path / "voice")
    try:
        assert voice.render(["Begin."]) == {}
        assert voice.tier == "none" and "captions and beeps only" in (voice.problem or "")
        assert voice.voices() == []
    finally:
        voice.close()


# --------------------------------------------------------------------------- the speaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tone(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(array("h", [1000] * int(seconds * 22050)).tobytes())
    return path


class StubVoice:
    """A PhraseVoice stand-in with phrases of known length; `gate` holds rendering back."""

    def __init__(self, phrases: Dict[str, Path], tier: str = "pyttsx3") -> None:
        self.phrases = phrases
        self.tier = tier
        self.engine = "stub"
        self.problem: Optional[str] = None
        self.gate = threading.Event()
        self.gate.set()
        self.rendering = threading.Event()

    def cached(self, text: str) -> Optional[Path]:
        return None

    piper = None
    fallbacks: List[str] = []

    def render(self, texts: Sequence[str], progress: Optional[Callable[[str], None]] = None) -> Dict[str, Path]:
        self.rendering.set()
        self.gate.wait(timeout=30)
        return {t: self.phrases[t] for t in texts if t in self.phrases}

    render_for_cue = render

    def close(self) -> None:
        self.gate.set()


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Tuple[CueSpeaker, StubVoice, NullAudio, FakeClock, Recorder]]:
    phrases = {"Get ready.": tone(tmp_path / "long.wav", 4.0), "3": tone(tmp_path / "three.wav", 0.4),
               "Begin.": tone(tmp_path / "begin.wav", 0.5), "Switch sides.": tone(tmp_path / "switch.wav", 1.5),
               "Well done.": tone(tmp_path / "done.wav", 1.0)}
    clock, recorder = FakeClock(), Recorder()
    voice, audio = StubVoice(phrases), NullAudio(clock)
    speaker = CueSpeaker(voice=voice, audio=audio, sounds=SOUNDS, volume=0.6, clock=clock,  # type: ignore[arg-type]
                         listener=recorder)
    speaker.prepare(list(phrases))
    yield speaker, voice, audio, clock, recorder
    speaker.close()


def started(recorder: Recorder) -> List[str]:
    return [f"{e.utterance.kind}:{e.utterance.text}" for e in recorder.of("start")]


def test_a_count_plays_its_beep_then_the_number(parts) -> None:
    speaker, _, audio, clock, recorder = parts
    speaker.say(Cue(7.0, "count", "3"), clock.now)
    assert recorder.wait_for(lambda events: len(events) == 1)
    assert started(recorder) == ["beep:3"]
    clock.now += 0.2  # the beep (0.12 s) is over
    assert recorder.wait_for(lambda events: len(events) == 2)
    assert started(recorder) == ["beep:3", "count:3"]
    assert [p.wav.name for p in audio.plays] == ["beep.wav", "three.wav"]
    assert all(p.volume == 0.6 for p in audio.plays)
    assert speaker.status == "voice"


def test_a_count_is_dropped_behind_a_long_announcement_which_is_never_cut(parts) -> None:
    speaker, _, _, clock, recorder = parts
    speaker.say(Cue(0.0, "announce", "Get ready."), clock.now)
    speaker.say(Cue(1.0, "count", "3"), clock.now)
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 1)
    clock.now += LATE_LIMIT_S + 0.5
    assert recorder.wait_for(lambda events: len(recorder.of("drop")) == 2)  # its beep and its number
    assert {e.utterance.kind for e in recorder.of("drop")} == {"beep", "count"}
    assert started(recorder) == ["announce:Get ready."] and not recorder.of("interrupt")


def test_a_switch_cuts_a_count_short_and_is_heard_at_once(parts) -> None:
    speaker, _, _, clock, recorder = parts
    speaker.say(Cue(0.0, "start", "Begin."), clock.now)
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 1)
    speaker.say(Cue(0.2, "switch", "Switch sides."), clock.now)
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 2)
    assert [e.utterance.text for e in recorder.of("interrupt")] == ["Begin."]
    assert started(recorder)[-1] == "switch:Switch sides."


def test_done_plays_the_chime_then_the_phrase(parts) -> None:
    speaker, _, audio, clock, recorder = parts
    speaker.say(Cue(60.0, "done", "Well done."), clock.now)
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 1)
    clock.now += 1.3  # the chime lasts 1.2 s
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 2)
    assert [p.wav.name for p in audio.plays] == ["chime.wav", "done.wav"]


def test_stop_silences_and_forgets_what_was_waiting(parts) -> None:
    speaker, _, audio, clock, recorder = parts
    speaker.say(Cue(0.0, "announce", "Get ready."), clock.now)
    speaker.say(Cue(0.1, "switch", "Switch sides."), clock.now)
    assert recorder.wait_for(lambda events: len(recorder.of("start")) == 1)
    speaker.stop()
    assert recorder.wait_for(lambda events: len(recorder.of("drop")) == 1)
    assert speaker.drain(30.0)
    assert not audio.playing


def test_say_and_stop_return_while_the_engine_is_busy(tmp_path: Path) -> None:
    """The engine is held mid-render; the caller (the UI thread) is not."""
    voice = StubVoice({"Begin.": tone(tmp_path / "b.wav", 0.3)})
    voice.gate.clear()
    clock, recorder = FakeClock(), Recorder()
    speaker = CueSpeaker(voice=voice, audio=NullAudio(clock), sounds=SOUNDS, clock=clock,  # type: ignore[arg-type]
                         listener=recorder)
    try:
        speaker.say(Cue(0.0, "start", "Begin."), clock.now)  # not prepared: it has to be rendered
        assert voice.rendering.wait(timeout=10)
        speaker.say(Cue(1.0, "count", "3"), clock.now)
        assert recorder.wait_for(lambda events: len(recorder.of("start")) == 1)  # the beep is not held up
        speaker.stop()
        assert not speaker.drain(0.05)  # still rendering
        voice.gate.set()
        assert speaker.drain(10.0)
    finally:
        speaker.close()


def test_with_the_voice_off_the_beeps_are_the_count_and_the_chime_the_end() -> None:
    clock, recorder = FakeClock(), Recorder()
    audio = NullAudio(clock)
    speaker = make_speaker(replace(Settings(), voice=False), media_dir=MEDIA, cache_dir=Path("/nonexistent"),
                           audio=audio, clock=clock)
    speaker.listener = recorder
    try:
        assert speaker.status == "off"
        speaker.say(Cue(0.0, "announce", "Get ready."), clock.now)
        assert speaker.drain(10.0)
        speaker.say(Cue(7.0, "count", "3"), clock.now)
        assert recorder.wait_for(lambda events: len(events) == 1)
        speaker.say(Cue(9.0, "done", "Well done."), clock.now)
        clock.now += 0.5
        assert recorder.wait_for(lambda events: len(events) == 2)
        clock.now += 2.0
        assert speaker.drain(10.0)
        assert [p.wav.name for p in audio.plays] == ["beep.wav", "chime.wav"]
    finally:
        speaker.close()


def test_with_voice_and_beeps_off_nothing_is_played() -> None:
    clock = FakeClock()
    audio = NullAudio(clock)
    speaker = make_speaker(replace(Settings(), voice=False, beeps=False), media_dir=MEDIA,
                           cache_dir=Path("/nonexistent"), audio=audio, clock=clock)
    try:
        speaker.say(Cue(7.0, "count", "3"), clock.now)
        assert speaker.drain(10.0)
        assert audio.plays == [] and speaker.status == "off"
    finally:
        speaker.close()


def test_status_is_fallback_when_the_voice_or_the_sound_is_gone(tmp_path: Path) -> None:
    clock = FakeClock()
    speaker = CueSpeaker(voice=StubVoice({}, tier="none"), audio=NullAudio(clock), clock=clock)  # type: ignore[arg-type]
    try:
        assert speaker.status == "fallback"
    finally:
        speaker.close()

    class NoDevice(NullAudio):
        problem = "no audio device (test)"

    speaker = CueSpeaker(voice=StubVoice({}), audio=NoDevice(clock), clock=clock)  # type: ignore[arg-type]
    try:
        assert speaker.status == "fallback" and speaker.detail == "no audio device (test)"
        speaker.say(Cue(0.0, "count", "3"), clock.now)
        assert speaker.drain(10.0)
    finally:
        speaker.close()
    assert SilentSpeaker().status == "off"


def test_make_speaker_with_the_voice_on_renders_with_pyttsx3(tmp_path: Path) -> None:
    clock = FakeClock()
    audio = NullAudio(clock)
    speaker = make_speaker(Settings(), media_dir=MEDIA, cache_dir=tmp_path / "voice", audio=audio, clock=clock)
    try:
        speaker.prepare(["Begin."])
        assert speaker.status == "voice" and speaker.detail.startswith("pyttsx3 worker (pyttsx3-2.99")
        recorder = Recorder()
        speaker.listener = recorder
        speaker.say(Cue(0.0, "start", "Begin."), clock.now)
        assert recorder.wait_for(lambda events: len(events) == 1)
        clock.now += 5.0
        assert speaker.drain(10.0)
        assert len(audio.plays) == 1 and rms(audio.plays[0].wav) > SILENCE_RMS
        assert audio.plays[0].volume == Settings().volume
    finally:
        speaker.close()


# --------------------------------------------------------------------------- whole sessions


class KillWorkerOnLine(io.StringIO):
    """Captions out; SIGKILLs the voice worker when a caption with `marker` is printed."""

    def __init__(self, voice: PhraseVoice, marker: str) -> None:
        super().__init__()
        self.voice, self.marker = voice, marker
        self.killed: Optional[int] = None

    def write(self, text: str) -> int:
        if self.marker in text and self.killed is None:
            self.killed = self.voice.worker_pid
            if self.killed is not None:
                os.kill(self.killed, signal.SIGKILL)
        return super().write(text)


def run_tiny_session(tmp_path: Path, speaker: Speaker, clock: ScaledClock, out: io.StringIO) -> Timeline:
    timeline = build_timeline(tiny_routine(tmp_path / "library"))
    runner, interrupted = play_session(timeline, speaker=speaker, clock=clock, out=out, speed=clock.speed)
    assert not interrupted and runner.record().completed
    return timeline


def test_a_worker_killed_mid_session_is_restarted_and_the_session_goes_on(tmp_path: Path) -> None:
    clock = ScaledClock(6.0)
    recorder = Recorder()
    audio = NullAudio(clock)
    speaker = make_speaker(Settings(), media_dir=MEDIA, cache_dir=tmp_path / "voice", audio=audio, clock=clock)
    speaker.listener = recorder
    assert speaker.voice is not None
    out = KillWorkerOnLine(speaker.voice, "Switch to your left")
    try:
        timeline = run_tiny_session(tmp_path, speaker, clock, out)  # nothing prepared: phrases render at cue time
        assert speaker.drain(30.0)
        assert out.killed is not None
        assert speaker.status == "voice" and speaker.voice.worker_pid not in (None, out.killed)
        must = [c.text for c in timeline.cues if c.kind in ("announce", "switch", "done")]
        assert [t for t in recorder.texts("start") if t in must] == must
        captions = [line for line in out.getvalue().splitlines() if line.startswith("[")]
        assert len(captions) == len(timeline.cues)
    finally:
        speaker.close()


def test_with_no_engine_at_all_the_session_completes_with_captions_and_beeps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    hide_commands(tmp_path, monkeypatch)
    clock = ScaledClock(8.0)
    audio = NullAudio(clock)
    speaker = make_speaker(Settings(), media_dir=MEDIA, cache_dir=tmp_path / "voice", audio=audio, clock=clock)
    try:
        timeline = build_timeline(tiny_routine(tmp_path / "library"))
        speaker.prepare([c.text for c in timeline.cues])
        assert speaker.status == "fallback"
        out = io.StringIO()
        run_tiny_session(tmp_path, speaker, clock, out)
        assert speaker.drain(30.0)
        captions = [line for line in out.getvalue().splitlines() if line.startswith("[")]
        assert len(captions) == len(timeline.cues)
        played = [p.wav.name for p in audio.plays]
        assert set(played) == {"beep.wav", "chime.wav"} and played[-1] == "chime.wav"
    finally:
        speaker.close()


# --------------------------------------------------------------------------- kiosk voices, kiosk say


def run_cli(*argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_kiosk_voices_lists_id_name_and_languages() -> None:
    code, out, _ = run_cli("voices")
    assert code == 0
    assert any(line.split()[0] == "gmw/en-us" and "(en-us" in line for line in out.splitlines()[1:-2] if line.strip())
    code, out, _ = run_cli("voices", "--json")
    voices = json.loads(out)
    assert code == 0 and {"id", "name", "languages", "selected"} <= set(voices[0])


def test_kiosk_voices_marks_the_configured_voice(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("voice_id: gmw/en-us\n")
    code, out, _ = run_cli("--config", str(config), "voices")
    assert code == 0
    assert [line.split()[1] for line in out.splitlines() if line.startswith("*")] == ["gmw/en-us"]


def test_kiosk_say_to_a_file_writes_a_spoken_wav(tmp_path: Path) -> None:
    target = tmp_path / "phrase.wav"
    code, out, err = run_cli("say", "Switch to your left foot.", "--to", str(target))
    assert code == 0, err
    assert wav_seconds(target) > 0.5 and rms(target) > SILENCE_RMS
    assert str(target) in out


def test_kiosk_say_without_a_sound_card_says_so_and_exits_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_the_sound_card(tmp_path, monkeypatch)
    code, _, err = run_cli("say", "Hello.")
    assert code == 1
    assert "cannot play the phrase" in err and "--to FILE.wav" in err and "Traceback" not in err


def test_kiosk_say_with_no_engine_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    hide_commands(tmp_path, monkeypatch)
    code, _, err = run_cli("say", "Hello.", "--to", str(tmp_path / "x.wav"))
    assert code == 1 and "no speech engine" in err and not (tmp_path / "x.wav").exists()


def test_kiosk_say_refuses_empty_text() -> None:
    code, _, err = run_cli("say", "   ")
    assert code == 2 and "give the text to say" in err


def test_kiosk_voices_lists_the_piper_voices_found_and_marks_the_one_chosen(
        tmp_path: Path, isolated_home: Path, piper_model: Path) -> None:
    folder = isolated_home / ".local" / "share" / "piper-voices" / "en" / "en_US"
    folder.mkdir(parents=True)
    for suffix in ("", ".json"):
        (folder / (piper_model.name + suffix)).symlink_to(Path(str(piper_model) + suffix))
    (folder / "broken.onnx").write_bytes(b"not a model")
    config = tmp_path / "config.yaml"
    config.write_text(f"voice_engine: piper\npiper_voice: {folder / piper_model.name}\n")
    code, out, _ = run_cli("--config", str(config), "voices")
    assert code == 0
    marked = [line for line in out.splitlines() if line.startswith("*")]
    assert marked == [f"* {folder / piper_model.name}  (en_US, medium, 22,050 Hz)"]
    assert f"  {folder / 'broken.onnx'}  (cannot be used: " in out and "broken.onnx.json beside it" in out
    assert "the kiosk speaks with the Piper voice en_US-joe-medium." in out
    code, out, _ = run_cli("--config", str(config), "voices", "--json")
    piper = [voice for voice in json.loads(out) if voice["engine"] == "piper"]
    assert [(v["name"], v["usable"], v["selected"], v["sample_rate"]) for v in piper] == [
        ("en_US-joe-medium", True, True, 22050), ("broken", False, False, None)]


def test_kiosk_voices_says_why_the_chosen_piper_voice_is_not_the_one_speaking(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"voice_engine: piper\npiper_voice: {tmp_path / 'gone.onnx'}\n")
    code, out, _ = run_cli("--config", str(config), "voices")
    assert code == 0
    summary = out.splitlines()[-2]
    assert "the kiosk speaks with pyttsx3's default voice: " in summary
    assert ("Piper voice cannot be used" in summary and "gone.onnx" in summary) or "not installed" in summary


def test_kiosk_say_with_the_piper_engine_saves_pipers_voice(tmp_path: Path, piper_model: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"piper_voice: {piper_model}\n")  # the settings' engine stays pyttsx3
    target = tmp_path / "phrase.wav"
    code, out, err = run_cli("--config", str(config), "say", "--engine", "piper", "Switch to your left foot.",
                             "--to", str(target))
    assert code == 0, err
    assert f"Saved {target} (piper)." in out and "not used" not in err
    info = wav_info(target)
    assert (info.frame_rate, info.channels) == (22050, 1) and info.seconds > 0.8 and rms(target) > SILENCE_RMS
    code, out, err = run_cli("--config", str(config), "say", "Switch to your left foot.", "--to", str(target))
    assert code == 0 and f"Saved {target} (pyttsx3)." in out


def test_a_phrase_the_engine_wrote_no_file_for_is_tried_once_more(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, FLAKY_ENGINE)
    hide_commands(tmp_path, monkeypatch)  # no espeak-ng command line to fall back to: only the retry can say it
    voice = PhraseVoice(cache_dir=tmp_path / "voice")
    try:
        rendered = voice.render(["Switch to your left foot."])
    finally:
        voice.close()
    assert voice.tier == "pyttsx3" and voice.fallbacks == []
    assert wav_seconds(rendered["Switch to your left foot."]) == pytest.approx(0.5, abs=0.06)


def test_a_voice_without_sound_never_makes_a_session_wait(tmp_path: Path, piper_model: Path) -> None:
    class Unheard(NullAudio):
        @property
        def problem(self) -> Optional[str]:
            return "no audio device (simulated)"

    settings = Settings(voice_engine="piper", piper_voice=str(piper_model))
    heard = make_speaker(settings, media_dir=paths.shipped_media_dir(), cache_dir=tmp_path, audio=NullAudio())
    unheard = make_speaker(settings, media_dir=paths.shipped_media_dir(), cache_dir=tmp_path, audio=Unheard())
    try:
        assert heard.slow_to_prepare and not unheard.slow_to_prepare
    finally:
        heard.close()
        unheard.close()
