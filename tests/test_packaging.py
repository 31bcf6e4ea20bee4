"""The installed package (a wheel, not the checkout) must still find exercises/ and media/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("home_exercise_kiosk-*.whl"))


def test_wheel_carries_the_library_and_the_media(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = [name for name in names if name.startswith("kiosk/_shipped/exercises/")]
    assert {Path(n).name for n in shipped} >= {p.name for p in (REPO / "exercises").glob("*.yaml")}
    assert "kiosk/_shipped/exercises/library.schema.json" in names
    assert any(name.startswith("kiosk/_shipped/media/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kiosk = kiosk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_runs_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q",
                    "--target", str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), KIOSK_DATA_DIR=str(tmp_path / "data"))
    where = subprocess.run([sys.executable, "-c", "import kiosk.paths as p; print(p.shipped_exercises_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == target / "kiosk" / "_shipped" / "exercises"
    listing = subprocess.run([sys.executable, "-m", "kiosk", "list", "--json"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stderr == ""
    data = json.loads(listing.stdout)
    assert any(routine["default"] for routine in data["routines"])
    for exercise in data["exercises"]:
        assert exercise["image"] is None or exercise["image"].startswith(str(target))
