"""What the session runner needs from a voice: the Speaker protocol, and a speaker that says nothing.

Core: no engine, no audio, no I/O. `voice.py` makes the real speakers.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Protocol, Sequence

from kiosk.core.model import Cue


Progress = Callable[[str], None]


def distinct_phrases(texts: Iterable[str]) -> List[str]:
    """What a voice renders for these texts: stripped, each once, in order, none empty."""
    return list(dict.fromkeys(text.strip() for text in texts if text and text.strip()))


class Speaker(Protocol):
    def prepare(self, phrases: Sequence[str], progress: Optional[Progress] = None) -> None:
        """Get ready to say these phrases at once (render them ahead), telling `progress` each
        phrase as it is ready. May block: call it off the UI thread."""

    @property
    def slow_to_prepare(self) -> bool:
        """Whether a session should wait (a little) for `prepare`: a phrase it has not made
        cannot be made in time at its cue (Piper), so another voice would say it."""

    def take_notices(self) -> List[str]:
        """Which voice speaks, and why, each time that changed since the last call (a fallback)."""

    def say(self, cue: Cue, due_at: float) -> None:
        """Say a cue that fell due at `due_at` (monotonic seconds). Returns at once."""

    def stop(self) -> None:
        """Fall silent now (pause, skip, stop). Returns at once."""

    @property
    def status(self) -> str:
        """"voice" when speaking, "fallback" when a problem silenced the voice, "off" when switched off."""

    def close(self) -> None:
        """Release the engine and any worker."""


class SilentSpeaker:
    """Says nothing: voice switched off, or no way to make sound. Captions carry the cues."""

    def __init__(self, status: str = "off") -> None:
        self._status = status

    def prepare(self, phrases: Sequence[str], progress: Optional[Progress] = None) -> None:
        pass

    @property
    def slow_to_prepare(self) -> bool:
        return False

    def take_notices(self) -> List[str]:
        return []

    def say(self, cue: Cue, due_at: float) -> None:
        pass

    def stop(self) -> None:
        pass

    @property
    def status(self) -> str:
        return self._status

    def close(self) -> None:
        pass
