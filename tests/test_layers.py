"""The layers hold: a core module loads nothing outside the core, and no adapter (Kivy, pyttsx3, TinyDB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORE = sorted(path.stem for path in (REPO_ROOT / "kiosk" / "core").glob("*.py") if path.stem != "__init__")
ADAPTER_LIBRARIES = ("kivy", "pyttsx3", "tinydb")


@pytest.mark.parametrize("module", CORE)
def test_a_core_module_loads_nothing_outside_the_core(module: str) -> None:
    code = f"import sys, json, kiosk.core.{module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=REPO_ROOT).stdout)
    outside = [name for name in loaded if name.startswith("kiosk.") and not name.startswith("kiosk.core")]
    adapters = [name for name in loaded if name.split(".")[0] in ADAPTER_LIBRARIES]
    assert outside == [] and adapters == [], f"importing kiosk.core.{module} loaded {outside + adapters}"


def test_the_core_is_every_module_the_runner_needs() -> None:
    """The session runner, shared by the app and `kiosk play`, is core: no voice, audio, settings or log."""
    assert {"runner", "session", "timeline", "speaker", "clockcheck", "model"} <= set(CORE)
