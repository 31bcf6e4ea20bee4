"""Reminders benchmark: what the once-a-second check costs the Kivy main thread.

Run: .venv/bin/python bench/bench_reminders.py [--repeat 2000]

Rows, each beside its reference measured in the same run: `due()` with 8 reminders on a
day with some played and answered (reference: no reminders at all), and `upcoming()` over
7 days for `kiosk remind list` (reference: 1 reminder). Exit status 1 if a budget is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import zoneinfo
from typing import Callable, List, Tuple

from table import print_table  # noqa: E402  (bench/ is on the path when run)

from kiosk.core.reminders import Day, Reminder, Situation, due, upcoming

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 26, 18, 45, tzinfo=ZONE)
EIGHT = tuple(Reminder(f"{hour:02d}:30", days=("mon", "tue", "wed", "thu", "fri") if hour % 2 else
                       ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), message=f"Message {hour}")
              for hour in range(7, 23, 2))


def per_call(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        samples.append((time.perf_counter() - start) / repeat)
    return statistics.median(samples)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)
    day = Day(NOW.date())
    played = due(EIGHT, NOW.replace(hour=17, minute=31), ZONE, day, Situation())
    day = day.with_played(played, NOW.replace(hour=17, minute=31)).answer(NOW.replace(hour=17, minute=32))
    situation = Situation()
    rows: List[Tuple[str, str, str, str, str]] = []

    empty = per_call(lambda: due((), NOW, ZONE, Day(NOW.date()), situation), args.repeat)
    eight = per_call(lambda: due(EIGHT, NOW, ZONE, day, situation), args.repeat)
    rows.append(("due(), 8 reminders (once a second, UI thread)", f"{empty * 1e6:.1f} µs (none set)",
                 f"{eight * 1e6:.1f} µs", "< 1 ms (6% of a frame)", "ok" if eight < 1e-3 else "OVER"))
    one = per_call(lambda: upcoming(EIGHT[:1], NOW, ZONE, day, situation), max(1, args.repeat // 10))
    week = per_call(lambda: upcoming(EIGHT, NOW, ZONE, day, situation), max(1, args.repeat // 10))
    rows.append(("upcoming(), 8 reminders x 7 days (kiosk remind list)", f"{one * 1e6:.0f} µs (1 reminder)",
                 f"{week * 1e6:.0f} µs", "< 50 ms", "ok" if week < 0.05 else "OVER"))
    print_table(("operation", "reference", "measured (median)", "budget", ""), rows)
    return 1 if any(row[-1] == "OVER" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
