"""Hostile input: fuzzed library and settings files, alias bombs, huge files, wrong settings.

The fuzzing itself lives in bench/fuzz_catalog.py (which runs it for ten minutes); here
every generator runs briefly, so CI tries a few hundred fresh inputs on each run. How long
the loader takes on the hostile files is timed there too (`--worst-cases`): here only what
does not depend on the machine's speed, the answer and the memory.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Tuple

import pytest

from kiosk import cli
from kiosk.config import SETTING_FIELDS, Settings, load_settings
from kiosk.core.catalog import load_library
from kiosk.core.yamldoc import MAX_NODES

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_PER_GENERATOR = 120


def load_fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_catalog", REPO_ROOT / "bench" / "fuzz_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_catalog", module)
    spec.loader.exec_module(module)
    return module


FUZZER = load_fuzzer()


@pytest.mark.parametrize("generator", list(FUZZER.STRATEGIES))
def test_no_exception_escapes_the_loaders_whatever_the_file_holds(generator: str, tmp_path: Path) -> None:
    FUZZER.run(generator, EXAMPLES_PER_GENERATOR, tmp_path / "library")


def test_the_fuzz_check_does_catch_an_escaping_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property is only worth its runs if a loader bug would fail it."""
    def broken_loader(layers: Any, media: Any = None) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(FUZZER, "load_library", broken_loader)
    with pytest.raises(KeyError):
        FUZZER.check_loaders(b"exercises: []\n", tmp_path / "library")


def load_measuring_memory(folder: Path) -> Tuple[Any, float]:
    """The library of a folder and the peak megabytes Python allocated loading it.

    Memory, unlike time, does not depend on how fast or how busy the machine is; the
    loader's speed on these files is timed by `bench/fuzz_catalog.py --worst-cases`."""
    tracemalloc.start()
    try:
        library = load_library([folder])
        return library, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


GOOD_EXERCISE = FUZZER.BASE_LIBRARY


@pytest.mark.parametrize("name, make", [
    ("alias-bomb.yaml", FUZZER.alias_bomb),
    ("twenty-mb.yaml", lambda: b"exercises:\n" + b"#" * (20 * 1024 * 1024)),
])
def test_alias_bombs_and_20_mb_files_are_refused_in_little_memory(
        name: str, make: Callable[[], bytes], tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / name).write_bytes(make())
    (folder / "good.yaml").write_text(GOOD_EXERCISE, encoding="utf-8")
    library, megabytes = load_measuring_memory(folder)
    [problem] = library.errors
    assert problem.path.endswith(name) and problem.line >= 1
    assert "base-toes" in library.exercises, "the good file beside it still loads"
    assert megabytes < 50, megabytes  # typically 1 MB


@pytest.mark.parametrize("unit", ["  - id: x\n", "  - {}\n", "  - [a, b]\n"])
def test_a_1_mib_file_of_tiny_items_is_refused_in_little_memory(unit: str, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "many.yaml").write_bytes(FUZZER.under_limit(unit))
    (folder / "good.yaml").write_text(GOOD_EXERCISE, encoding="utf-8")
    library, megabytes = load_measuring_memory(folder)
    assert "base-toes" in library.exercises
    [problem] = [p for p in library.errors if p.path.endswith("many.yaml")]
    assert f"more than {MAX_NODES:,} values" in problem.message, problem.message
    assert megabytes < 50, megabytes  # typically 8 MB


def test_a_20_mb_settings_file_is_refused_and_the_defaults_used(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"weekly_goal: 3\n" + b"#" * (20 * 1024 * 1024))
    tracemalloc.start()
    try:
        settings, problems = load_settings(path)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    assert settings == Settings() and "limit" in problems[0].message and peak < 50


# --------------------------------------------------------------------------- settings files written by hand

WRONG_VALUES = ("{a: 1}", "[[1]]")
"""A mapping and a nested list are wrong for every setting there is, whatever its kind."""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("wrong", WRONG_VALUES)
@pytest.mark.parametrize("name", [spec.name for spec in SETTING_FIELDS])
def test_a_wrong_type_for_any_setting_names_file_line_and_key_and_keeps_the_others(
        tmp_path: Path, name: str, wrong: str) -> None:
    other, other_value, other_text = ("volume", 0.5, "0.5") if name == "weekly_goal" else ("weekly_goal", 3, "3")
    path = write(tmp_path / "config.yaml", f"# mine\n{name}: {wrong}\n{other}: {other_text}\n")
    settings, problems = load_settings(path)
    [problem] = problems
    assert (problem.path, problem.line, problem.severity) == (str(path), 2, "warning")
    if name == "mqtt" and wrong.startswith("{"):  # a section: a wrong key inside it is left out, not the section
        assert "unknown key 'a' in the 'mqtt' settings" in problem.message and problem.message.endswith("(ignored)")
    elif name == "reminders" and wrong.startswith("["):  # a list: a wrong entry is left out, not the list
        assert "reminder 1 must be a mapping" in problem.message and problem.message.endswith("(left out)")
    else:
        assert repr(name) in problem.message and "using the default" in problem.message
    assert getattr(settings, name) == getattr(Settings(), name)
    assert getattr(settings, other) == other_value


def test_unknown_keys_are_named_with_a_suggestion_and_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", "volumne: 0.3\nweekly_goal: 2\nfavourite_colour: blue\n")
    settings, problems = load_settings(path)
    assert [(p.line, p.col) for p in problems] == [(1, 1), (3, 1)]
    assert "did you mean 'volume'" in problems[0].message and problems[0].message.endswith("(ignored)")
    assert "favourite_colour" in problems[1].message
    assert settings == Settings(weekly_goal=2)


def test_kiosk_stats_with_a_broken_settings_file_says_where_and_carries_on(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", "weekly_goal: lots\nvoice: [on\n")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "stats"], out=out, err=err)
    assert code == 0 and "Daily streak" in out.getvalue()
    assert f"{config}:" in err.getvalue() and "using the default settings" in err.getvalue()
    assert "Traceback" not in err.getvalue()
