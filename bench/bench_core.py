"""Core benchmark: library load, planning, `kiosk stats` and log appends at Pi-lifetime sizes.

Run: .venv/bin/python bench/bench_core.py [--sessions 20000] [--repeat 5]

Each row is measured beside its reference in the same run (the small or empty case,
and a bare Python start for the whole-process rows), and printed as a table with the
budget from the issue. Exit status 1 if a budget is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

from table import print_table  # noqa: E402  (bench/ is on the path when run)

from kiosk import paths
from kiosk.core.catalog import load_library
from kiosk.core.model import SessionRecord
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import SessionLog


def timed(action: Callable[[], object], repeat: int) -> List[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def write_big_library(folder: Path, exercises: int) -> None:
    per_file = 50
    for file_number in range(0, exercises, per_file):
        lines = ["exercises:"]
        for n in range(file_number, min(exercises, file_number + per_file)):
            lines += [
                f"  - id: exercise-{n}",
                f"    name: Exercise {n}",
                "    instructions: Sit tall. Move slowly and breathe out as you go.",
                "    caption: Slowly",
                f"    duration: {20 + n % 20}",
                "    sides: both" if n % 2 else "    sides: none",
                "    cues:",
                "      - at: 50%",
                "        say: Halfway.",
                "    tags: [foot, seated]",
            ]
        (folder / f"part-{file_number // per_file:03d}.yaml").write_text("\n".join(lines) + "\n")
    steps = "\n".join(f"      - exercise-{n}" for n in range(0, 60))
    (folder / "routines.yaml").write_text(
        "routines:\n  - id: hour\n    name: A long hour\n    default: true\n    steps:\n" + steps + "\n")


def records(count: int) -> List[SessionRecord]:
    """`count` sessions ending today, about five a day: 20,000 is ten years of a busy household."""
    first = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=4.4 * count)
    made = []
    for n in range(count):
        started = first + dt.timedelta(hours=4.4 * n)
        made.append(SessionRecord.create(
            routine="daily-reset", started=started, ended=started + dt.timedelta(minutes=5),
            planned_s=300, active_s=300, completed=n % 7 != 3, source="kiosk",
            steps_done=5, pain=n % 11 if n % 3 == 0 else None))
    return made


def whole_process(argv: List[str], repeat: int) -> List[float]:
    return timed(lambda: subprocess.run(argv, check=True, capture_output=True), repeat)


def row(name: str, reference: Tuple[str, List[float]], measured: List[float], budget_s: float) -> Tuple[str, ...]:
    ref_name, ref_samples = reference
    median = statistics.median(measured)
    return (name, f"{statistics.median(ref_samples) * 1000:8.1f} ms  ({ref_name})",
            f"{median * 1000:8.1f} ms (max {max(measured) * 1000:.1f})",
            f"< {budget_s * 1000:.0f} ms", "ok" if median < budget_s else "OVER")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--exercises", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)

        big = root / "library"
        big.mkdir()
        write_big_library(big, args.exercises)
        shipped = timed(lambda: load_library([paths.shipped_exercises_dir()], paths.shipped_media_dir()), args.repeat)
        loaded = timed(lambda: load_library([big], None), args.repeat)
        library = load_library([big], None)
        assert not library.errors, library.errors[:3]
        rows.append(row(f"load library, {args.exercises} exercises", ("shipped library", shipped), loaded, 1.0))

        hour = library.routines["hour"]
        small = load_library([paths.shipped_exercises_dir()], paths.shipped_media_dir()).default_routine()
        assert small is not None
        ref = timed(lambda: build_timeline(small).to_json(), args.repeat)
        plan = timed(lambda: build_timeline(hour).to_json(), args.repeat)
        minutes = build_timeline(hour).total_s / 60
        rows.append(row(f"plan a {minutes:.0f}-minute routine", ("5-minute routine", ref), plan, 0.5))

        empty_dir, full_dir = root / "empty", root / "full"
        SessionLog.open(empty_dir).close()
        with SessionLog.open(full_dir) as log:
            log.import_records(records(args.sessions))
        python = [sys.executable]
        bare = whole_process(python + ["-c", "pass"], args.repeat)
        stats_empty = whole_process(python + ["-m", "kiosk", "stats", "--json", "--data-dir", str(empty_dir)],
                                    args.repeat)
        stats_full = whole_process(python + ["-m", "kiosk", "stats", "--json", "--data-dir", str(full_dir)],
                                   args.repeat)
        rows.append(row("`kiosk stats`, empty log (process)", ("bare python", bare), stats_empty, 1.0))
        rows.append(row(f"`kiosk stats`, {args.sessions:,} sessions (process)", ("empty log", stats_empty),
                        stats_full, 0.5))

        def appends(folder: Path) -> List[float]:
            with SessionLog.open(folder) as log:
                extra = records(20)  # today's: they go to this year's file, as a new session does
                return timed(lambda: log.append(extra.pop()), 20)

        append_empty = appends(empty_dir)
        append_full = appends(full_dir)
        rows.append(row(f"log append at {args.sessions:,} sessions", ("empty log", append_empty), append_full, 0.05))

    print_table(("operation", "reference (median)", "measured (median)", "budget", ""), rows)
    return 1 if any(r[-1] == "OVER" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
