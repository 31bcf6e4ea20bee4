"""Soak the session log in SIGKILLs that land at random moments, and count what survives.

Run: .venv/bin/python bench/soak_power.py [--lanes 4] [--kills 130] [--max-delay-ms 25] [--seed N]

Each lane is a process that forks appenders on one shared log and SIGKILLs each after a
random 0 to max-delay ms, so kills land while opening, between appends, mid-write and while
another lane holds the lock, in whatever mix this machine's disk and CPU make. How many
land where depends on the machine; that is why this is a bench and not a test
(tests/test_faults_power.py kills at every step by its progress instead). What must not
depend on the machine: nothing lost that returned, nothing stored twice, a log that opens
without repair. The exit status is 1 if any of those fails.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Sequence, Set

from kiosk.core.model import SessionRecord
from kiosk.sessionlog.store import SessionLog

REPO_ROOT = Path(__file__).resolve().parent.parent


def power_record(record_id: str, number: int) -> SessionRecord:
    """A session in one of two years, in case the log keeps a file per year."""
    year = 2025 + number % 2
    return SessionRecord.from_dict({
        "id": record_id, "routine": "power", "local_date": f"{year}-11-26",
        "started_utc": f"{year}-11-26T07:{number % 60:02d}:00Z", "completed": True})


def append_until_killed(data_dir: Path, prefix: str, report: int) -> None:
    """The forked child: open the log and append for ever, saying "try ID" and "done ID" around each."""
    with SessionLog.open(data_dir) as log:
        for notice in log.notices:
            os.write(report, ("notice " + " ".join(notice.split()) + "\n").encode())
        number = 0
        while True:
            record_id = f"{prefix}-{number}"
            os.write(report, f"try {record_id}\n".encode())
            log.append(power_record(record_id, number))
            os.write(report, f"done {record_id}\n".encode())
            number += 1


def run_lane(data_dir: Path, lane: str, kills: int, seed: int, max_delay_s: float) -> None:
    """One lane: fork, let the child append for a random moment, SIGKILL it; print what it said."""
    rng = random.Random(seed)
    for kill in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                append_until_killed(data_dir, f"{lane}-{kill}", write_end)
            finally:
                os._exit(3)
        os.close(write_end)
        time.sleep(rng.uniform(0, max_delay_s))  # the random moment of the power cut: the point of this bench
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as reports:
            sys.stdout.write(reports.read().decode())
        sys.stdout.write(f"killed {lane}-{kill}\n")
    sys.stdout.flush()


def start_lane(data_dir: Path, lane: str, kills: int, seed: int, max_delay_s: float) -> List[str]:
    """A lane in its own process (so the lanes really contend for the lock); its report lines."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(
        [sys.executable, __file__, "--lane", lane, "--data-dir", str(data_dir), "--kills", str(kills),
         "--seed", str(seed), "--max-delay-ms", str(max_delay_s * 1000)],
        capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"lane {lane} failed:\n{result.stderr[-3000:]}")
    return result.stdout.splitlines()


def ids_after(lines: List[str], word: str) -> Set[str]:
    return {line.split()[1] for line in lines if line.startswith(word + " ")}


def soak(data_dir: Path, lanes: int, kills: int, seed: int, max_delay_s: float) -> int:
    started = time.monotonic()
    with ThreadPoolExecutor(lanes) as pool:
        outputs = list(pool.map(lambda lane: start_lane(data_dir, f"lane{lane}", kills, seed + lane, max_delay_s),
                                range(lanes)))
    lines = [line for output in outputs for line in output]
    tried, returned = ids_after(lines, "try"), ids_after(lines, "done")
    child_notices = [line for line in lines if line.startswith("notice ")]
    with SessionLog.open(data_dir) as log:
        final_notices = log.notices
        stored = [record.id for record in log.records()]
    in_flight = tried - returned
    lost = returned - set(stored)
    twice = [record_id for record_id, copies in Counter(stored).items() if copies > 1]
    invented = set(stored) - tried
    rows = [
        ("kills", sum(line.startswith("killed ") for line in lines)),
        ("appends returned", len(returned)),
        ("killed mid-append", len(in_flight)),
        ("  of which stored", len(in_flight & set(stored))),
        ("lost", len(lost)),
        ("duplicated", len(twice)),
        ("stored, never appended", len(invented)),
        ("opens that repaired the log", len(child_notices) + len(final_notices)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{lanes} lanes x {kills} kills, 0-{max_delay_s * 1000:g} ms each, seed {seed}, "
          f"{time.monotonic() - started:.1f} s")
    for name, count in rows:
        print(f"{name:<{width}}  {count:>7,}")
    for problem in (child_notices + final_notices)[:3]:
        print("repair:", problem)
    if lost:
        print("lost:", sorted(lost)[:5])
    return 1 if lost or twice or invented or child_notices or final_notices else 0


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=4, help="killer processes on one log at once (default 4)")
    parser.add_argument("--kills", type=int, default=130, help="kills per lane (default 130)")
    parser.add_argument("--max-delay-ms", type=float, default=25.0, help="latest kill after the fork (default 25)")
    parser.add_argument("--seed", type=int, default=None, help="the random moments (default: a new seed)")
    parser.add_argument("--data-dir", type=Path, default=None, help="the log's folder (default: a scratch one)")
    parser.add_argument("--lane", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    seed = random.randrange(1 << 30) if args.seed is None else args.seed
    if args.lane is not None:
        run_lane(args.data_dir, args.lane, args.kills, seed, args.max_delay_ms / 1000)
        return 0
    if args.data_dir is not None:
        return soak(args.data_dir, args.lanes, args.kills, seed, args.max_delay_ms / 1000)
    with tempfile.TemporaryDirectory() as scratch:
        return soak(Path(scratch), args.lanes, args.kills, seed, args.max_delay_ms / 1000)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
