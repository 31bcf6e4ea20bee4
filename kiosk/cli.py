"""The `kiosk` command: the admin's door over SSH, and the launcher of the app.

The admin commands (validate, list, plan, log, stats, schema) never import Kivy, so
they answer quickly on a Pi. A user error is one line on stderr and exit status 2 (a
file with many problems, such as a CSV with bad rows, gets a line for each), never a
traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import json
import os
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, TextIO

from kiosk import __version__, paths
from kiosk.config import Settings, load_settings
from kiosk.core.clockcheck import local_now, read_clock
from kiosk.core.model import SessionRecord, clock_text
from kiosk.sessionlog.atomic import WRITE_ERRORS

if TYPE_CHECKING:
    from kiosk.core.catalog import Library


ROOM_FOR_A_SESSION = 256 * 1024
"""Free space `kiosk play` wants beyond a copy of the log: the checkpoint, the backup link, slack."""


class UserError(Exception):
    """A mistake in what was asked: said in one line, exit status 2."""


class CannotWrite(Exception):
    """The data folder refused a write (full, read-only or failing card): one line, exit status 1."""


@dataclass
class Context:
    """What every command needs, resolved once from the options and the environment."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO
    now: Callable[[], dt.datetime]
    settings: Settings = field(default_factory=Settings)

    @property
    def data_dir(self) -> Path:
        return paths.data_dir(self.args.data_dir)

    def warn(self, message: str) -> None:
        print(message, file=self.err)

    def library_layers(self, extra: Optional[Sequence[Path]] = None) -> List[Any]:
        user = [Path(d) for d in self.settings.exercises_dirs]
        user += [Path(d) for d in (self.args.exercises or [])]
        layers: List[Any] = [paths.shipped_exercises_dir()]
        if extra is not None:
            layers.append(list(extra))
        else:
            layers.extend(user)
        return layers

    def library(self, quiet: bool = False) -> Library:
        from kiosk.core.catalog import load_library  # the library only for the commands that need it

        library = load_library(self.library_layers(), paths.shipped_media_dir())
        if not quiet:
            for problem in library.problems:
                self.warn(str(problem))
        return library

    def routine(self, library: Library, routine_id: Optional[str]) -> Any:
        if routine_id:
            if routine_id not in library.routines:
                known = ", ".join(sorted(library.routines)) or "none"
                raise UserError(f"no routine {routine_id!r} (known: {known})")
            return library.routines[routine_id]
        routine = library.default_routine(self.settings.default_routine or None)
        if routine is None:
            raise UserError("the library has no routine that loads; run `kiosk validate`")
        return routine

    def today(self) -> dt.date:
        return self.now().date()


# --------------------------------------------------------------------------- commands

def cmd_validate(ctx: Context) -> int:
    targets = [Path(p) for p in ctx.args.paths]
    for target in targets:
        if not target.exists():
            raise UserError(f"{target}: no such file or folder")
    from kiosk.core.catalog import load_library

    library = load_library(ctx.library_layers(targets if targets else None), paths.shipped_media_dir())
    for problem in library.problems:
        print(problem, file=ctx.out)
    errors, warnings = len(library.errors), len(library.warnings)
    summary = (f"{_count(len(library.files), 'file')}, {_count(len(library.exercises), 'exercise')}, "
               f"{_count(len(library.routines), 'routine')}")
    if errors:
        print(f"{_count(errors, 'error')}, {_count(warnings, 'warning')} in {summary}", file=ctx.out)
        return 1
    extra = f" ({_count(warnings, 'warning')})" if warnings else ""
    print(f"OK: {summary}{extra}", file=ctx.out)
    return 0


def _print_json(ctx: Context, data: Any) -> None:
    json.dump(data, ctx.out, indent=2)
    print(file=ctx.out)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def cmd_list(ctx: Context) -> int:
    from kiosk.core.timeline import build_timeline

    library = ctx.library()
    default = library.default_routine(ctx.settings.default_routine or None)
    exercises = [{
        "id": e.id, "name": e.name, "image": e.image, "tags": list(e.tags), "sides": e.sides,
        "caption": e.caption, "duration_s": e.duration_s, "reps": e.reps,
        "seconds_per_rep": e.seconds_per_rep, "sets": e.sets, "safety": e.safety,
    } for e in library.exercises.values()]
    routines = [{
        "id": r.id, "name": r.name, "description": r.description,
        "total_s": build_timeline(r).to_json()["total_s"], "steps": len(r.steps),
        "default": default is not None and r.id == default.id,
    } for r in library.routines.values()]
    if ctx.args.json:
        _print_json(ctx, {"exercises": exercises, "routines": routines})
        return 0
    print("Routines", file=ctx.out)
    for routine in routines:
        mark = "*" if routine["default"] else " "
        print(f" {mark} {routine['id']:<24} {_clock(routine['total_s']):>6}  {routine['name']}", file=ctx.out)
    print("\nExercises", file=ctx.out)
    for exercise in exercises:
        print(f"   {exercise['id']:<24} {exercise['name']}  [{', '.join(exercise['tags'])}]", file=ctx.out)
    print("\n* the one-tap routine on the Start button", file=ctx.out)
    return 0


def _clock(seconds: float) -> str:
    return clock_text(seconds, pad_minutes=True)


def cmd_plan(ctx: Context) -> int:
    from kiosk.core.timeline import build_timeline

    library = ctx.library()
    routine = ctx.routine(library, ctx.args.routine)
    timeline = build_timeline(routine)
    if ctx.args.json:
        _print_json(ctx, timeline.to_json())
        return 0
    print(f"{routine.name} ({routine.id}): {_clock(timeline.total_s)}", file=ctx.out)
    for segment in timeline.segments:
        side = f" {segment.side}" if segment.side and segment.kind in ("work", "switch") else ""
        sets = f" set {segment.set_number}/{segment.set_count}" if segment.set_count > 1 else ""
        print(f"[{_clock(segment.start_s)}-{_clock(segment.end_s)}] {segment.kind:<8} "
              f"{segment.exercise.name}{side}{sets}", file=ctx.out)
        for cue in segment.cues:
            print(f"    [{_clock(cue.at_s)}] {cue.text}", file=ctx.out)
    return 0


def _parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be a date like 2026-11-26, not {text!r}") from None


def _open_log(ctx: Context, *, reading: bool = False) -> Any:
    """The session log; `reading` commands also work on a folder that cannot be written."""
    from kiosk.sessionlog.store import SessionLog  # TinyDB only for the commands that need the log

    try:
        log = SessionLog.open_for_reading(ctx.data_dir) if reading else SessionLog.open(ctx.data_dir)
    except OSError as error:
        raise CannotWrite(_write_problem(error, ctx.data_dir)) from None
    for notice in log.notices:
        ctx.warn(f"kiosk: {notice}")
    if log.recovered is not None:
        ctx.warn(f"kiosk: recorded a session cut off on {log.recovered.local_date} "
                 f"({_clock(log.recovered.active_s)} of {log.recovered.routine})")
    try:
        repaired = log.repair_clock(read_clock())
    except OSError as error:
        ctx.warn(f"kiosk: {_write_problem(error, ctx.data_dir)}")
        repaired = []
    if repaired:
        ctx.warn(f"kiosk: dated {_count(len(repaired), 'session')} saved while the clock was wrong")
    return log


def _write_problem(error: OSError, data_dir: Path) -> str:
    """One line naming the file and the reason, for a write the card refused."""
    where = error.filename or data_dir
    reason = error.strerror or str(error)
    return f"cannot write {where}: {reason}; nothing was changed"


def _appended(ctx: Context, log: Any, record: SessionRecord) -> SessionRecord:
    try:
        return log.append(record)
    except OSError as error:
        raise CannotWrite(_write_problem(error, ctx.data_dir)) from None


def cmd_log_add(ctx: Context) -> int:
    from kiosk.core.timeline import build_timeline

    library = ctx.library(quiet=True)
    routine = ctx.routine(library, ctx.args.routine)
    now = ctx.now()
    if ctx.args.date:
        day = _parse_date(ctx.args.date, "--date")
        if day > now.date():
            raise UserError(f"--date {day} is in the future")
        started = dt.datetime.combine(day, dt.time(12, 0)).astimezone() if day != now.date() else now
    else:
        started = now
    total = build_timeline(routine).total_s
    record = SessionRecord.create(
        routine=routine.id, started=started, ended=started + dt.timedelta(seconds=total),
        planned_s=total, active_s=total, completed=True, source="backfill",
        steps_done=len(routine.steps),
    )
    with _open_log(ctx) as log:
        _appended(ctx, log, record)
    print(f"Recorded {routine.name} on {record.local_date}.", file=ctx.out)
    return 0


def cmd_log_list(ctx: Context) -> int:
    with _open_log(ctx, reading=True) as log:
        records = log.records()
    if ctx.args.json:
        _print_json(ctx, [r.to_dict() for r in records])
        return 0
    if not records:
        print("No sessions yet.", file=ctx.out)
        return 0
    for r in records:
        state = ("done" if r.completed else "cut off" if r.interrupted else "stopped") + \
            (" (clock?)" if r.clock_unverified else "")
        pain = f"  pain {r.pain}" if r.pain is not None else ""
        screen = f"  on {r.screen}" if r.screen else ""
        print(f"{r.local_date}  {r.routine:<24} {state:<8} {_clock(r.active_s):>6}  {r.source}{pain}{screen}",
              file=ctx.out)
    print(_count(len(records), "session"), file=ctx.out)
    return 0


def cmd_log_export(ctx: Context) -> int:
    from kiosk.sessionlog.records_csv import export_csv

    with _open_log(ctx, reading=True) as log:
        records = log.records()
    if ctx.args.output:
        target = Path(ctx.args.output)
        try:
            with open(target, "w", newline="", encoding="utf-8") as stream:
                export_csv(records, stream)
        except OSError as error:
            raise UserError(f"cannot write {target}: {error.strerror or error}") from None
        print(f"Exported {_count(len(records), 'session')} to {target}.", file=ctx.err)
    else:
        export_csv(records, ctx.out)
    return 0


SOME_ROWS_LEFT_OUT = 3
"""Exit status of `kiosk log import --skip-bad` when it imported the good rows and left bad ones out."""


def cmd_log_import(ctx: Context) -> int:
    from kiosk.sessionlog.records_csv import CsvImportError, read_csv_rows

    source = Path(ctx.args.file)
    try:
        with open(source, newline="", encoding="utf-8-sig") as stream:  # a spreadsheet may start with a BOM
            rows = read_csv_rows(stream, str(source))
    except OSError as error:
        raise UserError(f"cannot read {source}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UserError(f"{source}: the file is not UTF-8 text") from None
    except CsvImportError as error:  # the header: nothing can be read without it
        raise UserError(str(error)) from None
    bad = len(rows.bad_rows)
    for problem in rows.bad_rows:  # every one, so they can all be put right at once
        print(problem, file=ctx.err)
    if bad and not ctx.args.skip_bad:
        rest = (f"--skip-bad imports the other {_count(len(rows.records), 'row')}" if rows.records
                else "no row is good")
        raise UserError(f"{_count(bad, 'bad row')} in {source}; nothing was imported ({rest})")
    with _open_log(ctx) as log:
        try:
            added, skipped = log.import_records(rows.records)
        except OSError as error:
            raise CannotWrite(_write_problem(error, ctx.data_dir)) from None
    left_out = f"; left out {_count(bad, 'bad row')}" if bad else ""
    print(f"Imported {_count(added, 'session')} from {source}; skipped {skipped} already in the log{left_out}.",
          file=ctx.out)
    return SOME_ROWS_LEFT_OUT if bad else 0


def cmd_stats(ctx: Context) -> int:
    from kiosk.core.streaks import compute_stats

    now = None if ctx.args.today else ctx.now()
    today = _parse_date(ctx.args.today, "--today") if now is None else now.date()
    with _open_log(ctx, reading=True) as log:
        records = log.records()
    stats = compute_stats(records, today, weekly_goal=ctx.settings.weekly_goal,
                          week_start=ctx.settings.week_start_index, now=now)
    if ctx.args.json:
        _print_json(ctx, stats.to_json())
        return 0
    data = stats.to_json()
    week = data["this_week"]
    print(f"Today ({data['today']}): {'done' if data['done_today'] else 'not yet'}", file=ctx.out)
    print(f"Daily streak:  {data['current_daily_streak']} (longest {data['longest_daily_streak']})", file=ctx.out)
    print(f"Weekly streak: {data['current_weekly_streak']} (longest {data['longest_weekly_streak']}), "
          f"goal {data['weekly_goal']} days a week", file=ctx.out)
    print(f"This week (from {week['start']}): {week['days_done']} of {data['weekly_goal']} days", file=ctx.out)
    print("", file=ctx.out)
    for row in data["weeks"]:
        cells = "".join("#" if done else "." for done in row["days"])
        print(f"  {row['start']}  {cells}  {row['days_done']}", file=ctx.out)
    return 0


def cmd_remind_list(ctx: Context) -> int:
    from kiosk import remind
    from kiosk.core.clockcheck import local_zone

    zone = local_zone()
    try:
        now = remind.parse_now(ctx.args.now, zone) if ctx.args.now else ctx.now()
    except ValueError as error:
        raise UserError(str(error)) from None
    with _open_log(ctx, reading=True) as log:
        records = log.records()
    items = remind.planned(ctx.settings, ctx.data_dir, now, zone, records)
    if ctx.args.json:
        _print_json(ctx, remind.as_json(items))
        return 0
    if not ctx.settings.reminders:
        print("No reminders are set: add them on the Settings screen (Reminders) or under `reminders:` in "
              "the settings file.", file=ctx.out)
        return 0
    for line in remind.as_lines(items, now, zone, 7):
        print(line, file=ctx.out)
    return 0


def cmd_remind_test(ctx: Context) -> int:
    from kiosk import remind
    from kiosk.sound.voice import default_cache_dir

    cache_dir = default_cache_dir()
    target = Path(ctx.args.to) if ctx.args.to else remind.scratch_wav()
    try:
        notices = remind.reminder_sound(ctx.settings, paths.shipped_media_dir(), cache_dir, target)
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror or error}") from None
    except (wave.Error, ValueError) as error:  # a voice at another sample rate than the chime, say
        print(f"kiosk: cannot make the reminder's sound: {error}", file=ctx.err)
        return 1
    for notice in notices:
        ctx.warn(f"kiosk: {notice}")
    if ctx.args.to:
        print(f"Saved {target}.", file=ctx.out)
        return 0
    return _play(ctx, target, 1.0, "the reminder")  # already at the reminder volume


def _mqtt_settings(ctx: Context) -> None:
    import logging

    # The link's own lines are for the app's journal; here each outcome is said once, below.
    quiet = logging.getLogger("kiosk.mqtt")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    if not ctx.settings.mqtt.enabled:
        raise UserError("MQTT is off: give `mqtt:` a `host:` in the settings file (see docs/home-assistant.md)")
    from kiosk.mqtt.link import MqttUnavailable, load_paho

    try:
        load_paho()
    except MqttUnavailable as error:
        raise UserError(str(error)) from None


def cmd_mqtt_sync(ctx: Context) -> int:
    from kiosk.mqtt import commands

    _mqtt_settings(ctx)
    try:
        result = commands.sync(ctx.settings, ctx.data_dir, timeout=ctx.args.timeout)
    except commands.NotConnected as error:
        print(f"kiosk: mqtt: {error}", file=ctx.err)
        return 1
    except OSError as error:
        raise CannotWrite(_write_problem(error, ctx.data_dir)) from None
    for reason in result.ignored:
        ctx.warn(f"kiosk: mqtt: ignored: {reason}")
    print(f"Heard {_count(result.heard, 'session')} on the broker; merged {len(result.merged)} into the log; "
          f"published {result.published}.", file=ctx.out)
    return 0


def cmd_mqtt_status(ctx: Context) -> int:
    from kiosk.mqtt import commands

    _mqtt_settings(ctx)
    result = commands.status(ctx.settings, ctx.data_dir, ctx.library(quiet=True), ctx.now())
    if ctx.args.json:
        _print_json(ctx, {"settings": result.settings, "broker": result.broker, "reachable": result.reachable,
                          "entities": result.entities})
        return 0 if result.reachable else 1
    for key, value in result.settings.items():
        print(f"{key + ':':<18}{value}", file=ctx.out)
    print(f"{'broker:':<18}{result.broker}", file=ctx.out)
    print("", file=ctx.out)
    print("What Home Assistant sees:", file=ctx.out)
    width = max(len(entity["name"]) for entity in result.entities)
    for entity in result.entities:
        state = entity["state"]
        shown = "(a button)" if entity["component"] == "button" else (
            "unknown" if state is None else f"{state}{' ' + entity['unit'] if entity['unit'] else ''}")
        print(f"  {entity['component']:<14}{entity['name']:<{width + 2}}{shown}", file=ctx.out)
    return 0 if result.reachable else 1


def cmd_schema(ctx: Context) -> int:
    if ctx.args.plan:
        from kiosk.core.timeline import plan_json_schema

        _print_json(ctx, plan_json_schema())
        return 0
    from kiosk.core.catalog import json_schema

    _print_json(ctx, json_schema())
    return 0


def cmd_run(ctx: Context) -> int:
    from kiosk.pi.display import NoDisplay
    from kiosk.ui.app import AppOptions, run_app  # Kivy is loaded only here

    try:
        return run_app(AppOptions(
            data_dir=ctx.data_dir,
            config_path=paths.config_path(ctx.args.config),
            extra_exercise_dirs=tuple(Path(d) for d in (ctx.args.exercises or [])),
            windowed=ctx.args.windowed,
            check=ctx.args.check,
            speed=ctx.args.speed,
        ))
    except NoDisplay as error:  # no screen to draw on: say so and stop, rather than run on unseen
        print(f"kiosk: no display: {error}", file=ctx.err)
        return 1


def cmd_voices(ctx: Context) -> int:
    from kiosk.sound.piper import describe_program, find_models, find_program
    from kiosk.sound.voice import PhraseVoice, default_cache_dir, match_voice

    settings = ctx.settings
    voice = PhraseVoice(cache_dir=default_cache_dir(), voice_id=settings.voice_id, rate=settings.speech_rate)
    try:
        voices = voice.voices()
    finally:
        voice.close()
    models = find_models(settings.piper_voice, paths.piper_voice_dirs())
    program = find_program()
    piper_chosen = settings.voice_engine == "piper"
    chosen = match_voice(settings.voice_id, voices)
    configured = Path(settings.piper_voice).expanduser() if settings.piper_voice else None
    if ctx.args.json:
        _print_json(ctx, [dict(v.to_json(), engine="pyttsx3", selected=v is chosen and not piper_chosen)
                          for v in voices] + [_piper_json(found, piper_chosen and found.path == configured)
                                              for found in models])
        return 0 if voices or any(found.model for found in models) else 1
    if voices:
        width = max(len(v.id) for v in voices)
        print(f"pyttsx3 voices (voice_engine: pyttsx3):\n  {'ID':<{width}}  NAME  (LANGUAGES)", file=ctx.out)
        for v in voices:
            mark = "*" if v is chosen and not piper_chosen else " "
            print(f"{mark} {v.id:<{width}}  {v.name}  ({', '.join(v.languages)})", file=ctx.out)
    else:
        print(f"pyttsx3 voices: none ({voice.problem or 'install espeak-ng'})", file=ctx.out)
    print(f"\nPiper voices (voice_engine: piper; Piper: {describe_program(program)}):", file=ctx.out)
    for found in models:
        mark = "*" if piper_chosen and found.path == configured else " "
        detail = f"{found.model.describe()}" if found.model is not None else f"cannot be used: {found.problem}"
        print(f"{mark} {found.path}  ({detail})", file=ctx.out)
    if not models:
        folders = " or ".join(str(folder) for folder in paths.piper_voice_dirs())
        print(f"  none found (put a voice's .onnx and .onnx.json in {folders})", file=ctx.out)
    print(f"\n{_count(len(voices), 'pyttsx3 voice')}, {_count(sum(1 for f in models if f.model), 'Piper voice')}; "
          f"the kiosk speaks with {_voice_in_use(settings, chosen, models, program)}.", file=ctx.out)
    print("Set voice_engine, and voice_id or piper_voice, in the settings.", file=ctx.out)
    return 0 if voices or any(found.model for found in models) else 1


def _piper_json(found: Any, selected: bool) -> Dict[str, Any]:
    model = found.model
    return {"engine": "piper", "id": str(found.path), "name": model.name if model else found.path.name.rsplit(".onnx", 1)[0],
            "languages": [model.language] if model and model.language else [],
            "sample_rate": model.sample_rate if model else None,
            "speakers": sorted(model.speakers, key=model.speakers.get) if model else [],
            "usable": model is not None, "problem": found.problem, "selected": selected}


def _voice_in_use(settings: Any, chosen: Any, models: Sequence[Any], program: Any) -> str:
    """Which voice a session would start with, or why not the one chosen."""
    from kiosk.sound.piper import PiperUnusable

    standard = f"pyttsx3 voice {settings.voice_id}" if chosen else "pyttsx3's default voice"
    if not settings.voice:
        return "no voice: voice is off in the settings (captions and beeps)"
    if settings.voice_engine != "piper":
        return standard
    if not program:
        return f"{standard}: voice_engine is piper, but Piper is not installed"
    if not settings.piper_voice:
        return f"{standard}: voice_engine is piper, but piper_voice is not set"
    configured = Path(settings.piper_voice).expanduser()
    found = next((f for f in models if f.path == configured), None)
    if found is None or found.model is None:
        why = found.problem if found is not None else f"{configured} is not there"
        return f"{standard}: the Piper voice cannot be used ({why})"
    try:
        found.model.speaker_id(settings.piper_speaker)
    except PiperUnusable as error:
        return f"{standard}: {error}"
    return f"the Piper voice {found.model.name}"


def cmd_say(ctx: Context) -> int:
    from kiosk.sound.audio import write_scaled
    from kiosk.sound.voice import default_cache_dir, phrase_voice

    text = " ".join(ctx.args.text.split())
    if not text:
        raise UserError("give the text to say, e.g. kiosk say \"Switch to your left foot.\"")
    voice = phrase_voice(ctx.settings, default_cache_dir(), engine=ctx.args.engine)
    try:
        rendered = voice.render([text]).get(text)
        piper = voice.piper
        # Piper's, or the voice below it (Piper could not be used, or could not say this phrase).
        used = "piper" if piper is not None and rendered is not None and piper.ready(text) == rendered \
            else voice.tier_below_piper
    finally:
        voice.close()
    for notice in voice.notices:
        ctx.warn(f"kiosk: {notice}")
    if rendered is None:
        print("kiosk: no speech engine could say it; install espeak-ng", file=ctx.err)
        return 1
    if ctx.args.to:
        target = Path(ctx.args.to)
        try:
            write_scaled(rendered, target, ctx.settings.volume)
        except OSError as error:
            raise UserError(f"cannot write {target}: {error.strerror or error}") from None
        print(f"Saved {target} ({used}).", file=ctx.out)
        return 0
    return _play(ctx, rendered, ctx.settings.volume, "the phrase")


def _play(ctx: Context, wav: Path, volume: float, what: str) -> int:
    """Play a WAV through aplay to its end; 1 with one line when it cannot be heard."""
    from kiosk.sound.audio import AplayAudio
    from kiosk.sound.voice import default_cache_dir

    aplay = AplayAudio(default_cache_dir() / "scaled")
    problem = aplay.probe()
    if problem is None:
        aplay.play(wav, volume)
        try:
            while aplay.playing:
                time.sleep(0.02)
        except KeyboardInterrupt:
            aplay.stop()
            raise
        problem = aplay.problem
    if problem:
        print(f"kiosk: cannot play {what}: {problem}. Save it with --to FILE.wav instead.", file=ctx.err)
        return 1
    return 0


def _check_room(ctx: Context) -> None:
    """Refuse before a session starts, not after it, when the log could not take it."""
    from kiosk.sessionlog.atomic import write_atomically
    from kiosk.sessionlog.store import LOG_NAME

    not_started = "the session was not started"
    try:
        with _open_log(ctx) as log:
            del log
    except CannotWrite as error:
        raise CannotWrite(str(error).replace("nothing was changed", not_started)) from None
    data_dir = ctx.data_dir
    try:
        needed = os.stat(data_dir / LOG_NAME).st_size + ROOM_FOR_A_SESSION
    except FileNotFoundError:
        needed = ROOM_FOR_A_SESSION
    try:
        free = os.statvfs(data_dir)
        if free.f_bavail * free.f_frsize < needed:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(data_dir))
        probe = data_dir / ".kiosk-write-check"
        write_atomically(probe, b"\0" * 4096)
        os.unlink(probe)
    except OSError as error:
        raise CannotWrite(_write_problem(error, data_dir).replace("nothing was changed", not_started)) from None


def cmd_play(ctx: Context) -> int:
    from kiosk.core.timeline import build_timeline
    from kiosk.play import play_routine
    from kiosk.sessionlog.checkpoint import CheckpointWriter

    library = ctx.library()
    routine = ctx.routine(library, ctx.args.routine)
    _check_room(ctx)
    checkpoints = CheckpointWriter(ctx.data_dir)

    def save_checkpoint(record: SessionRecord) -> None:
        try:
            checkpoints.save([record])
        except OSError as error:
            ctx.warn(f"kiosk: could not write the session checkpoint: {error.strerror or error}")

    outcome = play_routine(build_timeline(routine), ctx.settings, out=ctx.out, err=ctx.err,
                           speed=ctx.args.speed, no_voice=ctx.args.no_voice, wall=ctx.now,
                           on_checkpoint=save_checkpoint)
    if outcome.record is None:
        checkpoints.release()
        print("Stopped before the session began; nothing recorded.", file=ctx.out)
        return 130
    try:
        with _open_log(ctx) as log:
            stored = _appended(ctx, log, outcome.record)
    except CannotWrite:
        save_checkpoint(outcome.record)
        checkpoints.release()
        ctx.warn("kiosk: the session is kept in the checkpoint and recorded at the next start that can write")
        raise
    checkpoints.finish()
    if stored.clock_unverified:
        ctx.warn("kiosk: the clock looks wrong, so this session counts towards streaks once the clock is right")
    if outcome.record.completed:
        print(f"Well done: {routine.name} recorded for {outcome.record.local_date}.", file=ctx.out)
        return 0
    if not outcome.interrupted:  # ran to the end, but too little of it was exercise time done
        print("Finished, but less than half of the exercise time was done: recorded as not completed.",
              file=ctx.out)
        return 0
    print(f"Stopped at [{_clock(outcome.stopped_at_s)}]; recorded as not completed.", file=ctx.out)
    return 130


# --------------------------------------------------------------------------- parsing

def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--data-dir", metavar="DIR", default=default,
                        help="where the session log lives (default: $KIOSK_DATA_DIR or the per-user data dir)")
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="settings file (default: $KIOSK_CONFIG or ~/.config/home-exercise-kiosk/config.yaml)")
    parser.add_argument("--exercises", metavar="DIR", action="append", default=default,
                        help="an extra folder of exercise files (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Voice-guided foot and hip mobility sessions for a home touchscreen.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Callable[[Context], int], help_text: str,
            within: Any = commands) -> argparse.ArgumentParser:
        sub = within.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    run = add("run", cmd_run, "start the touchscreen app")
    run.add_argument("--windowed", action="store_true", help="a window instead of full screen (development)")
    run.add_argument("--check", action="store_true",
                     help="draw the first frame, read the log, print the notice on screen and quit: "
                          "checks the display, the install and the data folder")
    run.add_argument("--speed", type=_speed, default=1.0, metavar="N",
                     help="for testing: run the session clock N times faster")
    validate = add("validate", cmd_validate, "check exercise and routine files")
    validate.add_argument("paths", nargs="*", metavar="PATH",
                          help="files or folders to check with the shipped library (default: the configured library)")
    listing = add("list", cmd_list, "list the exercises and routines")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    plan = add("plan", cmd_plan, "show a routine's timeline (default: the one-tap routine)")
    plan.add_argument("routine", nargs="?", metavar="ROUTINE")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    stats = add("stats", cmd_stats, "show daily and weekly streaks")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument("--today", metavar="YYYY-MM-DD", help="compute as if today were this date")
    schema = add("schema", cmd_schema, "print the JSON Schema of the library files (with --plan: of `kiosk plan "
                 "--json`)")
    schema.add_argument("--plan", action="store_true",
                        help="print the JSON Schema of `kiosk plan --json` instead")
    voices = add("voices", cmd_voices, "list the voices the kiosk can speak with")
    voices.add_argument("--json", action="store_true", help="machine-readable output")
    say = add("say", cmd_say, "say a phrase with the current voice settings, or save it as a WAV")
    say.add_argument("text", metavar="TEXT")
    say.add_argument("--to", metavar="FILE.wav", help="save the phrase to this WAV file instead of playing it")
    say.add_argument("--engine", choices=("pyttsx3", "piper"),
                     help="this engine instead of the settings' voice_engine (piper uses piper_voice)")
    play = add("play", cmd_play, "an audio-only session in the terminal, one caption line per cue; "
               "recorded in the log")
    play.add_argument("routine", nargs="?", metavar="ROUTINE")
    play.add_argument("--no-voice", action="store_true", help="captions and beeps only")
    play.add_argument("--speed", type=_speed, default=1.0, metavar="N",
                      help="run the session clock N times faster, for trying a routine quickly; the session "
                           "is still recorded as played in full (use a scratch --data-dir to keep it out)")

    remind = commands.add_parser("remind", parents=[common], help="the reminders: list them, or play one now")
    remind_commands = remind.add_subparsers(dest="remind_command", metavar="ACTION")
    remind.set_defaults(handler=lambda ctx: _missing_action(remind, "say what to do: list or test"))
    remind_list = add("list", cmd_remind_list, "the reminders of the coming 7 days, and whether each will play",
                      remind_commands)
    remind_list.add_argument("--json", action="store_true", help="machine-readable output")
    remind_list.add_argument("--now", metavar="ISO-DATETIME",
                             help="as if it were this moment (local time unless it has an offset)")
    remind_test = add("test", cmd_remind_test, "play a reminder now, as the screen would: the chime, then the "
                      "message, at the reminder volume", remind_commands)
    remind_test.add_argument("--to", metavar="FILE.wav", help="save it to this WAV file instead of playing it")

    mqtt = commands.add_parser("mqtt", parents=[common], help="Home Assistant and the household log over MQTT")
    mqtt_commands = mqtt.add_subparsers(dest="mqtt_command", metavar="ACTION")
    mqtt.set_defaults(handler=lambda ctx: _missing_action(mqtt, "say what to do: sync or status"))
    mqtt_sync = add("sync", cmd_mqtt_sync, "once: publish this screen's sessions and merge the other "
                    "screens' into the log", mqtt_commands)
    mqtt_sync.add_argument("--timeout", type=float, default=30.0, metavar="S",
                           help="give up after S seconds without the broker (default 30)")
    mqtt_status = add("status", cmd_mqtt_status, "what Home Assistant sees (the entities and their states) "
                      "and whether the broker answers", mqtt_commands)
    mqtt_status.add_argument("--json", action="store_true", help="machine-readable output")

    log = commands.add_parser("log", parents=[common], help="the session log: add, list, export, import")
    log_commands = log.add_subparsers(dest="log_command", metavar="ACTION")
    log.set_defaults(handler=lambda ctx: _missing_action(log, "say what to do with the log: add, list, export "
                                                                   "or import"))
    log_add = add("add", cmd_log_add, "record a completed session done away from the display", log_commands)
    log_add.add_argument("--date", metavar="YYYY-MM-DD", help="the day it was done (default: today)")
    log_add.add_argument("--routine", metavar="ID", help="which routine (default: the one-tap routine)")
    log_list = add("list", cmd_log_list, "list the recorded sessions", log_commands)
    log_list.add_argument("--json", action="store_true", help="a JSON list of records")
    export = add("export", cmd_log_export, "write the log as CSV (for backup or a new SD card)", log_commands)
    export.add_argument("--csv", action="store_true", required=True, help="CSV format (the only one)")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    importing = add("import", cmd_log_import, "add the sessions of a CSV export; skips ones already present",
                    log_commands)
    importing.add_argument("file", metavar="FILE.csv")
    importing.add_argument("--skip-bad", action="store_true",
                           help="import the good rows and name each bad one on stderr, exit status "
                                f"{SOME_ROWS_LEFT_OUT} if any was left out (without it, one bad row "
                                "imports nothing: exit status 2)")
    return parser


def _speed(value: str) -> float:
    from kiosk.play import positive_speed

    try:
        return positive_speed(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {value!r}") from None


def _missing_action(parser: argparse.ArgumentParser, what: str) -> int:
    parser.print_usage(sys.stderr)
    raise UserError(what)


def main(argv: Optional[Sequence[str]] = None, *, out: Optional[TextIO] = None, err: Optional[TextIO] = None,
         now: Callable[[], dt.datetime] = local_now) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(out)
        return 0
    ctx = Context(args, out, err, now)
    try:
        settings, problems = load_settings(paths.config_path(args.config))
        for problem in problems:
            ctx.warn(str(problem))
        ctx.settings = settings
        return int(args.handler(ctx))
    except UserError as error:
        print(f"kiosk: error: {error}", file=err)
        return 2
    except CannotWrite as error:
        print(f"kiosk: error: {error}", file=err)
        return 1
    except BrokenPipeError:  # before OSError, which it is: `kiosk log list | head` is no error
        return 0
    except OSError as error:
        if error.errno not in WRITE_ERRORS:
            raise
        where = error.filename or "the output"  # a log write names its file; this one did not
        print(f"kiosk: error: cannot write {where}: {error.strerror or error}", file=err)
        return 1
    except KeyboardInterrupt:
        print("kiosk: interrupted", file=err)
        return 130

