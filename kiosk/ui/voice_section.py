"""The controller's voice side: preparing phrases ahead, the short wait for a slow voice at
Start, the voice's notices, and the choice of Piper voice. A section of `KioskController`,
which owns the properties these methods set.

Phrases are prepared on the controller's voice worker, a thread of its own: Piper may take
a minute on a Pi, and the log must never wait behind it. Home prepares the one-tap
routine whenever the voice or the library changes; a Start tapped before that is done
waits at most `VOICE_WAIT_S`, showing the progress on the Start button, and whatever
is still not ready is said by the quick voice in that session.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Set, Tuple

from kivy.clock import Clock

from kiosk import paths
from kiosk.core.model import Routine
from kiosk.core.speaker import Speaker, distinct_phrases
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.ui.background import BackgroundWorker

log = logging.getLogger("kiosk")

VOICE_WAIT_S = 2.0
"""The longest a tap on Start waits for the voice; then the session starts regardless."""
PREPARING = "Preparing the voice..."
PIPER_NOT_USED = "The Piper voice is not used"
"""How a notice about Piper falling back starts (see PhraseVoice._drop_piper)."""


def phrases_of(timeline: Timeline) -> List[str]:
    """What a session will say, each phrase once, as the voice renders them."""
    return distinct_phrases(cue.text for cue in timeline.cues)


class VoiceSection:
    # Set by KioskController (Kivy properties and plain attributes).
    settings: Any
    clock: Callable[[], float]
    worker: BackgroundWorker
    voice_worker: BackgroundWorker
    speaker: Speaker
    voice_notice: str
    start_title: str
    start_detail: str
    piper_voices: List[str]
    piper_in_use: bool
    reminder_text: str
    _speaker_factory: Callable[[Any], Speaker]
    _voice_generation: int = 0
    _voice_ready: Set[str]
    _voice_queued: Set[str]
    """Phrases handed to this speaker's preparation (queued or done)."""
    _voice_settled: Set[str]
    """Phrases whose preparation has finished, made or not."""
    _voice_notices_shown: Set[str]
    _voice_chosen: Tuple[Any, ...] = ()
    """The voice the notices shown are about (on, engine, Piper voice, speaker)."""
    _pending_start: Optional[Tuple[Routine, Timeline, float]] = None
    _pending_event: Any = None

    if TYPE_CHECKING:  # provided by KioskController or the other sections
        def add_notice(self, text: str, *, lasting: bool = False) -> None: ...
        def default_routine(self) -> Optional[Routine]: ...
        def change_setting(self, name: str, value: Any) -> None: ...
        def _show_start_button(self) -> None: ...
        def _begin(self, routine: Routine, timeline: Timeline) -> bool: ...
        def _drop_reminder_speaker(self) -> None: ...
        def _drop_notice(self, text: str) -> None: ...
        def change_settings(self, **values: Any) -> None: ...
        def _reminder_phrases(self) -> List[str]: ...

    # ------------------------------------------------------------------ preparing

    def _prepare_voice(self, timeline: Timeline) -> None:
        """Render the session's phrases ahead, on the voice worker; each phrase ready is noted."""
        self._prepare_phrases(phrases_of(timeline))

    def _prepare_phrases(self, phrases: Sequence[str]) -> None:
        speaker, generation = self.speaker, self._voice_generation
        self._voice_queued.update(phrases)

        def ready(text: str) -> None:  # on the voice worker's thread
            self.voice_worker.hand_over(lambda: self._phrase_ready(generation, text))

        def prepare() -> None:
            try:
                speaker.prepare(phrases, ready)
            finally:  # an error too: nothing more will come of these phrases, so none is waited for
                self.voice_worker.hand_over(lambda: self._voice_prepared(generation, phrases))

        self.voice_worker.run(prepare)

    def _prepare_home_voice(self) -> None:
        """The one-tap routine, ready before anyone taps Start; then the reminders' messages
        (their own speaker finds them in the cache: the same voice, rate and text)."""
        default = self.default_routine()
        phrases = phrases_of(build_timeline(default)) if default is not None else []
        self._prepare_phrases(phrases + [text for text in self._reminder_phrases() if text not in phrases])

    def _prepare_reminder_voice(self) -> None:
        """The reminders' messages, again when they or the streak they mention change (Piper
        only: the standard voice makes a message in time when it is due)."""
        if self.speaker.slow_to_prepare and self.settings.reminders:
            self._prepare_phrases(self._reminder_phrases())

    def _phrase_ready(self, generation: int, text: str) -> None:
        if generation != self._voice_generation:
            return  # a phrase of a voice since replaced
        self._voice_ready.add(text)
        if self._pending_start is not None:
            self._check_pending_start()

    def _voice_prepared(self, generation: int, phrases: Sequence[str]) -> None:
        if generation == self._voice_generation:
            self._voice_settled.update(phrases)  # made, or left to the quick voice: no use waiting
            if self._pending_start is not None:
                self._check_pending_start()
        self._update_voice_notice()
        self._show_voice_news()
        if generation == self._voice_generation and self._piper_speaking() \
                and any(text in self._voice_ready for text in phrases):
            for text in [t for t in self._voice_notices_shown if t.startswith(PIPER_NOT_USED)]:
                self._drop_notice(text)  # Piper speaks again (after a new speaker): the notice is over
                self._voice_notices_shown.discard(text)

    def _unready(self, timeline: Timeline) -> Tuple[int, int]:
        """(phrases still being prepared, phrases in all) for a session of `timeline`."""
        phrases = phrases_of(timeline)
        waiting = sum(1 for text in phrases if text not in self._voice_ready and text not in self._voice_settled)
        return waiting, len(phrases)

    # ------------------------------------------------------------------ Start, with a slow voice

    def _start_when_voice_ready(self, routine: Routine, timeline: Timeline, *, wait: bool = True) -> bool:
        """Start now, or, when a slow voice (Piper) has phrases still to make, in at most
        VOICE_WAIT_S, with the progress on the Start button. Without `wait` (a routine
        chosen from the list, where no button could show it) it starts at once."""
        if any(text not in self._voice_queued for text in phrases_of(timeline)):
            self._prepare_voice(timeline)  # for this speaker: not the one-tap routine, or a new speaker
        missing, _total = self._unready(timeline)
        if not wait or not self.speaker.slow_to_prepare or not missing:
            return self._begin(routine, timeline)
        self._pending_start = (routine, timeline, self.clock() + VOICE_WAIT_S)
        self._show_pending_start()
        # The card goes, so the Start button under it can say what happens; the reminder is
        # answered only when the session starts (called off, it still comes back in 30 minutes).
        self.reminder_text = ""
        self._pending_event = Clock.schedule_interval(lambda _dt: self._check_pending_start(), 0.05)
        return True

    def _check_pending_start(self) -> None:
        pending = self._pending_start
        if pending is None:
            return
        routine, timeline, deadline = pending
        missing, _total = self._unready(timeline)
        if missing and self.speaker.slow_to_prepare and self.clock() < deadline:
            self._show_pending_start()
            return
        if missing and self.speaker.slow_to_prepare:
            log.info("voice: %d phrases not ready after %.0f s; the quick voice says them this session",
                     missing, VOICE_WAIT_S)
        self._cancel_pending_start()
        self._begin(routine, timeline)

    def _show_pending_start(self) -> None:
        assert self._pending_start is not None
        missing, total = self._unready(self._pending_start[1])
        self.start_title = PREPARING
        self.start_detail = f"{total - missing} of {total} phrases ready"

    def cancel_start(self) -> None:
        """Stop from Home Assistant, or the screen left, while a Start waits for the voice."""
        if self._pending_start is not None:
            log.info("voice: the start waiting for the voice was called off")
        self._cancel_pending_start()

    def _cancel_pending_start(self) -> None:
        if self._pending_event is not None:
            self._pending_event.cancel()
            self._pending_event = None
        if self._pending_start is not None:
            self._pending_start = None
            self._show_start_button()

    @property
    def starting(self) -> bool:
        """A Start was tapped and waits (briefly) for the voice."""
        return self._pending_start is not None

    # ------------------------------------------------------------------ the speaker

    def _replace_speaker(self, prepare_home: bool = True) -> None:
        """A new speaker for new voice settings (or another chance after a fallback); Home's
        routine is prepared for it at once."""
        old = self.speaker
        self._voice_generation += 1
        self._voice_ready, self._voice_queued, self._voice_settled = set(), set(), set()
        chosen = self._voice_choice()
        if chosen != self._voice_chosen:  # another voice: what was wrong with the old one may be put right
            self._voice_chosen = chosen
            for text in self._voice_notices_shown:
                self._drop_notice(text)
            self._voice_notices_shown = set()
        self.speaker = self._speaker_factory(self.settings)
        self.worker.run(old.close)
        self._drop_reminder_speaker()  # made again, with the new settings, at the next reminder
        self._update_voice_notice()
        if prepare_home:
            self._prepare_home_voice()

    def _voice_choice(self) -> Tuple[Any, ...]:
        """What decides which voice speaks: the notices about one voice go when another is chosen."""
        return (self.settings.voice, self.settings.voice_engine, self.settings.piper_voice,
                self.settings.piper_speaker)

    def _update_voice_notice(self) -> None:
        self.voice_notice = "Voice off: follow the captions" if self.speaker.status == "fallback" else ""
        self.piper_in_use = self._piper_speaking()

    def _piper_speaking(self) -> bool:
        """Piper is the voice (chosen and not fallen back), whether or not a sound card plays it."""
        voice = getattr(self.speaker, "voice", None)  # a CueSpeaker's; other speakers have no Piper
        return voice is not None and voice.tier == "piper"

    def _show_voice_news(self) -> None:
        """Which voice speaks and why, when it fell back: said once per reason for these voice
        settings, and kept (a session does not clear it) until tapped away or the settings change."""
        for news in self.speaker.take_notices():
            text = news[:1].upper() + news[1:].rstrip(".") + "."
            if text not in self._voice_notices_shown:
                self._voice_notices_shown.add(text)
                self.add_notice(text, lasting=True)
        self.piper_in_use = self._piper_speaking()

    # ------------------------------------------------------------------ choosing a Piper voice

    def find_piper_voices(self) -> None:
        """Look for Piper voices in the background (the configured one, then the usual folders)."""
        from kiosk.sound.piper import find_models

        configured = self.settings.piper_voice

        def find() -> List[str]:
            return [str(found.path) for found in find_models(configured, paths.piper_voice_dirs())
                    if found.model is not None]

        self.worker.run(find, self._piper_voices_found)

    def _piper_voices_found(self, found: Sequence[str]) -> None:
        self.piper_voices = list(found)

    def next_voice_engine(self) -> None:
        """pyttsx3 <-> piper; going to Piper with no voice chosen picks the first one found."""
        engine = "pyttsx3" if self.settings.voice_engine == "piper" else "piper"
        if engine == "piper" and not self.settings.piper_voice and self.piper_voices:
            self.change_settings(voice_engine=engine, piper_voice=self.piper_voices[0])
        else:
            self.change_setting("voice_engine", engine)

    def next_piper_voice(self) -> None:
        voices = list(self.piper_voices)
        if not voices:
            return
        current = self.settings.piper_voice
        index = voices.index(current) if current in voices else -1
        self.change_setting("piper_voice", voices[(index + 1) % len(voices)])

    def piper_voice_text(self) -> str:
        """The Settings screen's name for the chosen Piper voice: "lessac (en_US)" for
        en_US-lessac-medium.onnx, and whether it can be used."""
        chosen = self.settings.piper_voice
        if not chosen:
            return "Choose one" if self.piper_voices else "None found"
        name = Path(chosen).name
        name = name[:-len(".onnx")] if name.endswith(".onnx") else name
        parts = name.split("-")
        shown = f"{parts[1].replace('_', ' ')} ({parts[0]})" if len(parts) == 3 else name
        return shown if chosen in self.piper_voices else f"{shown}: cannot be used"
