"""The layers hold: the pure core loads no adapter (voice, audio, settings, log, Kivy, TinyDB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ("kiosk.voice", "kiosk.voice_worker", "kiosk.audio", "kiosk.config", "kiosk.store",
            "kivy", "pyttsx3", "tinydb")


@pytest.mark.parametrize("module", ["kiosk.runner", "kiosk.session", "kiosk.timeline", "kiosk.streaks",
                                    "kiosk.catalog", "kiosk.checkpoint", "kiosk.speaker"])
def test_a_core_module_loads_no_adapter(module: str) -> None:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=REPO_ROOT).stdout)
    found = [name for name in loaded if any(name == a or name.startswith(a + ".") for a in ADAPTERS)]
    assert found == [], f"importing {module} loaded {found}"
