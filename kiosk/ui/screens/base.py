"""What every screen shares: the controller it binds to, and loading its own .kv file."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen


def load_kv(module_file: str) -> None:
    """Load the .kv beside a screen module, once, found relative to the package."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


class KioskScreen(Screen):
    controller = ObjectProperty(None, rebind=True)
    """The KioskController; every binding in the screen's .kv goes through it."""
