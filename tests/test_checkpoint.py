"""The running session's checkpoint: when the runner asks for one, and how the log records a leftover, once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import List

import pytest
from factories import numbered_record
from test_runner import START_WALL, FakeClock, NotingSpeaker

from kiosk.cli import main as kiosk_main
from kiosk.core.runner import CHECKPOINT_EVERY_S, SessionRunner
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog import checkpoint
from kiosk.sessionlog.checkpoint import CHECKPOINT_NAME, CheckpointWriter
from kiosk.sessionlog.store import SessionLog

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def running(shipped_library):
    timeline = build_timeline(shipped_library.default_routine())
    clock = FakeClock()
    runner = SessionRunner(timeline, clock=clock, speaker=NotingSpeaker(), wall=lambda: START_WALL, boot_id="boot")
    return runner, clock, timeline


def test_checkpoints_fall_at_the_start_at_every_boundary_and_every_few_active_seconds(running) -> None:
    runner, clock, timeline = running
    assert runner.checkpoint() is None, "nothing to save before the start"
    runner.start()
    taken: List[float] = []
    while not runner.finished:
        record = runner.checkpoint()
        if record is not None:
            taken.append(record.active_s)
            assert record.interrupted and not record.completed and record.id == runner.record_id
        clock.now += 0.5
        runner.tick()
    assert taken[0] == 0.0
    gaps = [later - earlier for earlier, later in zip(taken, taken[1:])]
    assert max(gaps) <= CHECKPOINT_EVERY_S + 0.5, "never more than the cadence (plus one sample) apart"
    starts = {round(segment.start_s * 2) / 2 for segment in timeline.segments}
    assert starts <= {round(active * 2) / 2 for active in taken} | {0.0}, "one at every segment start"
    assert runner.checkpoint() is None, "nothing after the end"
    final = runner.record()
    assert final.id == runner.record_id and final.completed and not final.interrupted


def test_a_paused_session_asks_for_no_checkpoint_while_its_active_time_stands_still(running) -> None:
    runner, clock, _ = running
    runner.start()
    runner.checkpoint()
    runner.pause()
    for _ in range(100):
        clock.now += 1.0
        runner.tick()
        assert runner.checkpoint() is None


def cut_off(number: int, active_s: float = 180.0):
    return replace(numbered_record(number, completed=False), active_s=active_s, interrupted=True)


def test_a_leftover_checkpoint_becomes_an_interrupted_session_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    writer = CheckpointWriter(data_dir)
    writer.save([cut_off(1)])
    writer.release()  # the process died: its lock went with it
    with SessionLog.open(data_dir) as log:
        assert log.recovered == cut_off(1)
        assert "Your last session was cut off: 3:00 saved." in log.screen_notices
        assert log.records() == [cut_off(1)]
    assert not (data_dir / CHECKPOINT_NAME).exists()
    with SessionLog.open(data_dir) as log:
        assert log.recovered is None and log.screen_notices == []
        assert len(log.records()) == 1


def test_a_crash_between_recording_and_removing_the_checkpoint_records_it_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    writer = CheckpointWriter(data_dir)
    writer.save([numbered_record(7), cut_off(8)])  # an unsaved finished session and the cut-off one
    writer.release()

    def power_cut(folder: Path) -> None:
        raise OSError("power cut before the checkpoint was removed")

    monkeypatch.setattr(checkpoint, "discard", power_cut)
    with pytest.raises(OSError):
        SessionLog.open(data_dir)
    monkeypatch.undo()
    with SessionLog.open(data_dir) as log:
        assert sorted(record.id for record in log.records()) == [numbered_record(7).id, cut_off(8).id]
        assert log.recovered is None, "already recorded: only the file is removed"
    assert not (data_dir / CHECKPOINT_NAME).exists()


def test_a_running_sessions_checkpoint_is_left_alone_by_another_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    writer = CheckpointWriter(data_dir)
    writer.save([cut_off(1)])
    code = ("import sys; from pathlib import Path; from kiosk.sessionlog.store import SessionLog\n"
            "with SessionLog.open(Path(sys.argv[1])) as log: print(len(log.records()), log.recovered)")
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    live = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True,
                          env=environment, check=True)
    assert live.stdout.split() == ["0", "None"], "a live session is not recorded as cut off"
    writer.finish()
    assert not (data_dir / CHECKPOINT_NAME).exists()


def test_an_unreadable_checkpoint_is_kept_aside_and_reported(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / CHECKPOINT_NAME).write_text('{"version": 1, "records": [{"id": "half')
    with SessionLog.open(data_dir, now=lambda: dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)) as log:
        assert log.records() == []
        assert any("could not be read" in notice for notice in log.notices)
    [aside] = data_dir.glob(f"{CHECKPOINT_NAME}.corrupt-*")
    assert aside.read_text().startswith('{"version": 1')


def test_any_kiosk_command_that_opens_the_log_records_the_leftover(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    writer = CheckpointWriter(data_dir)
    writer.save([cut_off(3, active_s=95.0)])
    writer.release()
    assert kiosk_main(["--data-dir", str(data_dir), "log", "list"]) == 0
    out, err = capsys.readouterr()
    assert "recorded a session cut off" in err
    assert "cut off" in out and "01:35" in out
    stored = json.loads((data_dir / "sessions.json").read_text())["_default"]["1"]
    assert stored["interrupted"] is True and stored["completed"] is False
