"""Fuzz the library loader and the settings loader with hypothesis, for as long as asked.

Run: .venv/bin/python bench/fuzz_catalog.py [--minutes 10] [--worst-cases]

Four generators feed the loaders: raw bytes, YAML-ish token soup, mutations of the
shipped library files, and well-formed YAML documents with the library's own keys and
wrong values. The promise: no exception escapes `load_library` or `load_settings` (the
loader's own problems are its answer), every problem points at `path:line:col` inside
the file, and every routine that loads can be planned. The test suite runs the same
checks briefly (tests/test_faults_input.py); this script runs them until time is up.

`--worst-cases` prints how long the loader takes, and how much memory it peaks at, on
hand-made hostile files, against the budgets from the issue.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import paths
from kiosk.config import SETTING_FIELDS, load_settings
from kiosk.core.catalog import CUE_FIELDS, EXERCISE_FIELDS, FILE_FIELDS, ROUTINE_FIELDS, STEP_FIELDS, load_library
from kiosk.core.timeline import build_timeline
from kiosk.core.yamldoc import dump

BASE_LIBRARY = """\
exercises:
  - id: base-toes
    name: Base toes
    instructions: Spread the toes.
    caption: Spread
    duration: 20
"""
"""A known exercise beside every fuzzed file, so fuzzed routines can name one that exists."""

TOKENS = (
    "exercises:", "routines:", "steps:", "cues:", "- ", "  ", "    ", "\n", "\n  - ", ": ", ":", ",", "[", "]",
    "{", "}", "'", '"', "#", "---", "...", "%YAML 1.1\n", "? ", "|", ">", "&a ", "*a", "!!python/object/apply:os.system",
    "!foo ", "<<: ", "id: ", "name: ", "base-toes", "x", "duration: ", "reps: ", "seconds_per_rep: ", "sides: ",
    "both", "left", "sets: ", "rest: ", "at: ", "say: ", "50%", "150%", "0", "-1", "1e309", ".inf", ".nan", "~",
    "null", "yes", "no", "2026-01-01", "3600.0001", "99999999999999999999", "\t", "\ufeff", "\x00", "é", "\u2028",
    "default: true", "exercise: ", "lead_in: ", "rest_between: ", "image: ", "../../etc/passwd", "/dev/zero",
    "tags: [foot, nope]", "limb: ", "switch: ", "voice: ", "volume: ", "weekly_goal: ", "week_start: ",
)

KEYS = tuple(sorted({spec.name for table in (FILE_FIELDS, EXERCISE_FIELDS, ROUTINE_FIELDS, STEP_FIELDS, CUE_FIELDS,
                                             SETTING_FIELDS) for spec in table}))

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(["base-toes", "50%", "both", "monday", "10", "", " ", "Z" * 300]),
)

VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6)),
    max_leaves=40,
)


def documents() -> st.SearchStrategy[bytes]:
    """Well-formed YAML shaped like a library (or settings) file, with any values under the known keys."""
    exercise = st.dictionaries(st.sampled_from([s.name for s in EXERCISE_FIELDS]), VALUES, max_size=10)
    routine = st.dictionaries(st.sampled_from([s.name for s in ROUTINE_FIELDS]), VALUES, max_size=8)
    library = st.fixed_dictionaries({}, optional={"exercises": st.lists(exercise, max_size=3),
                                                  "routines": st.lists(routine, max_size=3)})
    return st.one_of(library, VALUES).map(lambda data: dump(data).encode("utf-8"))


def token_soup() -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(TOKENS), max_size=80).map(lambda parts: "".join(parts).encode("utf-8"))


def shipped_texts() -> List[bytes]:
    return [path.read_bytes() for path in sorted(paths.shipped_exercises_dir().glob("*.yaml"))]


def mutations() -> st.SearchStrategy[bytes]:
    """A shipped file with a few bytes cut, repeated, replaced or swapped: almost valid, so deep paths run."""
    texts = shipped_texts()

    @st.composite
    def mutated(draw: Any) -> bytes:
        data = bytearray(draw(st.sampled_from(texts)))
        for _ in range(draw(st.integers(1, 6))):
            if not data:
                break
            start = draw(st.integers(0, len(data) - 1))
            end = min(len(data), start + draw(st.integers(0, 40)))
            action = draw(st.sampled_from(["cut", "repeat", "token", "byte"]))
            if action == "cut":
                del data[start:end]
            elif action == "repeat":
                data[start:start] = data[start:end]
            elif action == "token":
                data[start:start] = draw(st.sampled_from(TOKENS)).encode("utf-8")
            else:
                data[start] = draw(st.integers(0, 255))
        return bytes(data)

    return mutated()


STRATEGIES: Dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "bytes": lambda: st.binary(max_size=3000),
    "token soup": token_soup,
    "mutated shipped files": mutations,
    "documents with wrong values": documents,
}


def check_loaders(raw: bytes, folder: Path) -> None:
    """The property: the loaders answer any bytes with records and problems, never an exception."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(BASE_LIBRARY, encoding="utf-8")
    fuzzed = folder / "fuzzed.yaml"
    fuzzed.write_bytes(raw)
    library = load_library([folder])
    for problem in library.problems:
        assert problem.line >= 1 and problem.col >= 1, problem
        assert problem.path.endswith(("fuzzed.yaml", "base.yaml")), problem
        assert problem.severity in ("error", "warning"), problem
    for routine in library.routines.values():
        timeline = build_timeline(routine)
        assert timeline.total_s > 0
    settings_file = folder.parent / f"{folder.name}-config.yaml"  # outside the library folder
    settings_file.write_bytes(raw)
    loaded, settings_problems = load_settings(settings_file)
    for problem in settings_problems:
        assert problem.path == str(settings_file) and problem.line >= 1 and problem.col >= 1, problem
    assert 1 <= loaded.weekly_goal <= 7


def run(strategy_name: str, examples: int, folder: Path, seed: int = 0) -> None:
    """Check `examples` inputs from one generator; raises (with hypothesis's minimal example) on a failure."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(STRATEGIES[strategy_name]())
    def check(raw: bytes) -> None:
        check_loaders(raw, folder)

    if seed:
        from hypothesis import seed as with_seed

        with_seed(seed)(check)()
    else:
        check()


# --------------------------------------------------------------------------- worst cases


def alias_bomb() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines).encode()


def under_limit(unit: str) -> bytes:
    repeat = (1024 * 1024 - 32) // len(unit)
    return ("exercises:\n" + unit * repeat).encode()[: 1024 * 1024]


WORST_CASES: Dict[str, Tuple[Callable[[], bytes], float, float]] = {
    # name: (content, budget seconds, budget MB)
    "alias bomb (billion laughs)": (alias_bomb, 1.0, 50.0),
    "20 MB file": (lambda: b"exercises:\n" + b"#" * (20 * 1024 * 1024), 1.0, 50.0),
    "1 MiB nested 200,000 deep": (lambda: b"exercises: " + b"[" * 200_000, 1.0, 50.0),
    "1 MiB of one long line": (lambda: b"exercises: " + b"a" * (1024 * 1024 - 16), 1.0, 50.0),
    "1 MiB of unknown keys": (lambda: "".join(f"k{n}: {n}\n" for n in range(90_000)).encode()[: 1024 * 1024],
                              1.0, 50.0),
    "1 MiB of broken exercises": (lambda: under_limit("  - id: x\n"), 1.0, 50.0),
    "1 MiB of empty mappings": (lambda: under_limit("  - {}\n"), 1.0, 50.0),
    "1 MiB of short lists": (lambda: under_limit("  - [a, b]\n"), 1.0, 50.0),
}
"""The first two are the issue's promises; the rest are what a 1 MiB file can still do.
tests/test_faults_input.py loads the same files for their answer and memory, not their time."""


def measure(content: bytes, folder: Path) -> Tuple[float, float, int]:
    """Seconds and peak MB of loading a folder holding this one file, and how many problems came back."""
    target = folder / "worst.yaml"
    target.write_bytes(content)
    del content
    tracemalloc.start()
    started = time.perf_counter()
    library = load_library([folder])
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    target.unlink()
    return elapsed, peak, len(library.problems)


def worst_cases() -> int:
    rows = []
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for name, (make, seconds, megabytes) in WORST_CASES.items():
            elapsed, peak, problems = measure(make(), Path(scratch))
            ok = elapsed < seconds and peak < megabytes
            failed += not ok
            rows.append((name, f"{elapsed * 1000:,.0f} ms", f"{peak:,.1f} MB", f"{problems:,}",
                         f"< {seconds * 1000:.0f} ms, < {megabytes:.0f} MB", "ok" if ok else "OVER"))
    headers = ("hostile file", "time", "peak memory", "problems", "budget", "")
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    for row in [headers] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    return 1 if failed else 0


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--chunk", type=int, default=500, help="examples per generator per round")
    parser.add_argument("--worst-cases", action="store_true", help="only time the hand-made hostile files")
    args = parser.parse_args(list(argv))
    if args.worst_cases:
        return worst_cases()
    deadline = time.monotonic() + args.minutes * 60
    checked = {name: 0 for name in STRATEGIES}
    rounds = 0
    with tempfile.TemporaryDirectory() as scratch:
        while time.monotonic() < deadline:
            for name in STRATEGIES:
                run(name, args.chunk, Path(scratch) / "fuzz", seed=random.randrange(1, 1 << 31))
                checked[name] += args.chunk
                if time.monotonic() >= deadline:
                    break
            rounds += 1
    for name, count in checked.items():
        print(f"{name:<30} {count:>9,} inputs, no exception escaped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
