"""The touchscreen app (Kivy). `ExerciseRoot` is the whole kiosk as one widget.

Importing this package does not import Kivy; `ExerciseRoot` and `KioskController`
load it when first used, so `kiosk.ui.theme` stays importable anywhere.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "ExerciseRoot":
        from kiosk.ui.root import ExerciseRoot

        return ExerciseRoot
    if name == "KioskController":
        from kiosk.ui.controller import KioskController

        return KioskController
    raise AttributeError(name)
