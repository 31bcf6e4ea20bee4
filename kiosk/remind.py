"""`kiosk remind list` and `kiosk remind test`: the reminders from the command line.

`list` asks the same pure schedule the app asks (`kiosk.core.reminders`), with today's
answers from the data folder and today's sessions from the log, so it says what the
screen will do. `test` plays (or saves) a reminder as the screen would: the chime, then
the message, at the reminder volume.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from kiosk.config import Settings
from kiosk.core.clockcheck import newest_trusted_start, wall_problem
from kiosk.core.reminders import DEFAULT_MESSAGE, Day, Planned, Situation, read_day, upcoming
from kiosk.core.streaks import compute_stats

REMINDERS_FILE = "reminders.json"
"""Today's answers, kept by the app in the data folder (see kiosk.ui.reminder_section)."""


def read_day_file(data_dir: Path, today: dt.date) -> Day:
    """Today's answers as the app saved them; a missing or unreadable file is a new day."""
    try:
        return read_day((data_dir / REMINDERS_FILE).read_text(encoding="utf-8"), today)
    except (OSError, UnicodeDecodeError):
        return Day(today)


def parse_now(text: str, zone: dt.tzinfo) -> dt.datetime:
    """`--now`: an ISO date and time; without an offset it is local time in `zone`."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--now {text!r} is not a date and time like 2026-12-02T18:00") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def planned(settings: Settings, data_dir: Path, now: dt.datetime, zone: dt.tzinfo, records: List[Any],
            days: int = 7) -> List[Planned]:
    """The reminders over the coming `days`, each with whether it will play."""
    local_now = now.astimezone(zone)
    day = read_day_file(data_dir, local_now.date())
    stats = compute_stats(records, local_now.date(), weekly_goal=settings.weekly_goal,
                          week_start=settings.week_start_index, now=local_now)
    trusted = wall_problem(local_now, newest_trusted_start(records)) is None
    return upcoming(settings.reminders, now, zone, day,
                    Situation(done_today=stats.done_today, clock_trusted=trusted), days=days)


def as_json(items: List[Planned]) -> List[Dict[str, Any]]:
    return [{"at": item.at.isoformat(timespec="minutes"), "time": item.reminder.time,
             "days": list(item.reminder.days), "message": item.reminder.text, "plays": item.plays,
             "why_not": item.why_not, "late": item.late} for item in items]


def as_lines(items: List[Planned], now: dt.datetime, zone: dt.tzinfo, days: int) -> List[str]:
    local_now = now.astimezone(zone)
    lines = [f"Reminders over the next {days} days, from {local_now:%a %d %b %H:%M} ({_zone_name(zone, local_now)}):"]
    if not items:
        lines.append("  none")
    for item in items:
        state = ("plays now (late)" if item.late else "plays") if item.plays else f"silent: {item.why_not}"
        lines.append(f"  {item.at:%a %d %b %H:%M}  {state:<24} {item.reminder.text}")
    return lines


def _zone_name(zone: dt.tzinfo, now: dt.datetime) -> str:
    key = getattr(zone, "key", None)
    return key if key and key != "localtime" else (now.tzname() or "local time")


def reminder_sound(settings: Settings, media_dir: Path, cache_dir: Path, target: Path,
                   message: Optional[str] = None) -> List[str]:
    """The chime and the message (spoken with the voice settings) as one WAV at the reminder
    volume; returns what went wrong with the voice, if anything (then the chime alone)."""
    from kiosk.sound.audio import write_joined
    from kiosk.sound.voice import PhraseVoice, Sounds

    text = message or (settings.reminders[0].text if settings.reminders else DEFAULT_MESSAGE)
    sounds = Sounds.from_media(media_dir)
    parts = [sounds.chime] if sounds.chime is not None else []
    notices: List[str] = []
    if settings.voice:
        voice = PhraseVoice(cache_dir=cache_dir, voice_id=settings.voice_id, rate=settings.speech_rate)
        try:
            spoken = voice.render([text]).get(text)
        finally:
            voice.close()
        notices.extend(voice.notices)
        if spoken is None:
            notices.append("no speech engine could say the message; the chime alone")
        else:
            parts.append(spoken)
    if not parts:
        raise ValueError("neither the chime nor the voice is there to play")
    write_joined(parts, target, settings.reminder_volume)
    return notices


def scratch_wav() -> Path:
    return Path(tempfile.mkdtemp(prefix="kiosk-remind-")) / "reminder.wav"
