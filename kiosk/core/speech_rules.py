"""The speaking rules: what to play now, what to hold, what to drop. Pure and clock-free.

The speaker's thread asks `SpeechRules.next(now, playing)` whenever something changes
and does what the answer says. Nothing here reads a clock, sleeps or plays a sound,
so every rule is tested by feeding times in.

The rules:
- announcements, side switches and the end (and its chime) are never dropped: they
  play as soon as the channel is free, and cut short a count or reminder in the way;
- anything else (counts, reps, reminders, "Begin", "Rest") that cannot start within
  `late_limit_s` of its due time is dropped rather than said late;
- one sound at a time: a new one waits for the current one, or is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Tuple

LATE_LIMIT_S = 1.0
"""A count or reminder starting later than this after its time is more confusing than silence."""

MUST_PLAY_KINDS = frozenset({"announce", "switch", "done", "chime"})
"""What the person cannot follow the session without."""


@dataclass(frozen=True)
class Utterance:
    """One sound to play for a cue: its spoken phrase, or a beep or chime."""

    serial: int
    kind: str
    """The cue's kind ("announce", "count", ...), or "beep" / "chime"."""
    text: str
    due_at: float
    sound: Optional[Path] = None
    """The WAV to play; None while it is still being rendered."""

    @property
    def must_play(self) -> bool:
        return self.kind in MUST_PLAY_KINDS


@dataclass(frozen=True)
class Decision:
    start: Optional[Utterance] = None
    """Play this now."""
    interrupt: bool = False
    """Stop the sound that is playing first (to make way for `start`)."""
    dropped: Tuple[Utterance, ...] = ()
    """Given up: too late to be useful, or could not be rendered."""


class SpeechRules:
    def __init__(self, late_limit_s: float = LATE_LIMIT_S) -> None:
        self.late_limit_s = late_limit_s
        self._waiting: List[Utterance] = []

    @property
    def waiting(self) -> Tuple[Utterance, ...]:
        return tuple(self._waiting)

    def add(self, utterance: Utterance) -> None:
        self._waiting.append(utterance)

    def ready(self, serial: int, sound: Optional[Path]) -> Tuple[Utterance, ...]:
        """A waiting utterance's sound has been rendered (None: it could not be). Returns what was dropped."""
        for index, utterance in enumerate(self._waiting):
            if utterance.serial == serial:
                if sound is None:
                    del self._waiting[index]
                    return (utterance,)
                self._waiting[index] = replace(utterance, sound=sound)
                break
        return ()

    def clear(self) -> Tuple[Utterance, ...]:
        """Stop: everything waiting is dropped."""
        dropped, self._waiting = tuple(self._waiting), []
        return dropped

    def next(self, now: float, playing: Optional[Utterance]) -> Decision:
        """What to do at `now`, given what is playing (None when the channel is free)."""
        late = tuple(u for u in self._waiting if not u.must_play and now - u.due_at > self.late_limit_s)
        if late:
            self._waiting = [u for u in self._waiting if u not in late]
        due = [u for u in self._waiting if u.sound is not None and u.due_at <= now]
        urgent = [u for u in due if u.must_play]
        if playing is not None:
            if urgent and not playing.must_play:
                return self._take(urgent[0], late, interrupt=True)
            return Decision(dropped=late)
        if urgent:
            return self._take(urgent[0], late)
        if due:
            return self._take(min(due, key=lambda u: (u.due_at, u.serial)), late)
        return Decision(dropped=late)

    def _take(self, utterance: Utterance, dropped: Tuple[Utterance, ...], interrupt: bool = False) -> Decision:
        self._waiting.remove(utterance)
        return Decision(start=utterance, interrupt=interrupt, dropped=dropped)
