"""Every exercise picture loads in Kivy, and a contact sheet shows them as the session screen does."""

from __future__ import annotations

from pathlib import Path

import pytest
from kivy_harness import SCREENSHOT_DIR, Kiosk  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image

from kiosk.ui import theme
from kiosk.ui.widgets import KLabel

REPO = Path(__file__).resolve().parent.parent


def test_every_exercise_picture_loads_in_kivy(shipped_library) -> None:
    for exercise in shipped_library.exercises.values():
        assert exercise.image, f"{exercise.id} has no picture"
        texture = CoreImage(exercise.image).texture
        assert texture is not None and min(texture.size) >= 512, exercise.id


def test_contact_sheet_of_the_pictures_as_the_session_screen_shows_them(shipped_library, tmp_path: Path) -> None:
    """One cell per exercise, each the size the picture has on the session screen at 800x480."""
    kiosk = Kiosk(shipped_library, tmp_path / "data", size=(800, 480))
    try:
        kiosk.tap(kiosk.widget("home", "start_button"))
        kiosk.advance(12)
        picture = kiosk.widget("session", "picture")
        shown = picture.norm_image_size
        assert min(shown) >= 120, "pictures must be large enough to read from a few metres"
        kiosk.controller.stop()
        kiosk.settle()
        cell_w, cell_h = int(shown[0]), int(shown[1] + 34)
        exercises = list(shipped_library.exercises.values())
        columns = 6
        rows = -(-len(exercises) // columns)
        sheet = GridLayout(cols=columns, size_hint=(None, None), spacing=8, padding=8,
                           size=(columns * (cell_w + 8) + 8, rows * (cell_h + 8) + 8))
        with sheet.canvas.before:
            Color(*theme.BACKGROUND)
            Rectangle(pos=(0, 0), size=sheet.size)
        for exercise in exercises:
            cell = BoxLayout(orientation="vertical", size_hint=(None, None), size=(cell_w, cell_h))
            cell.add_widget(Image(source=exercise.image, fit_mode="contain", size_hint_y=None, height=shown[1]))
            cell.add_widget(KLabel(text=exercise.name, font_size=14, size_hint_y=None, height=30))
            sheet.add_widget(cell)
        sheet.do_layout()
        for cell in sheet.children:
            cell.do_layout()
        kiosk.frames(2)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOT_DIR / "contact-sheet-800x480.png"
        sheet.export_to_png(str(target))
        assert target.stat().st_size > 20000
        committed = REPO / "docs" / "screenshots" / "contact-sheet-800x480.png"
        if not committed.exists():
            pytest.fail(f"commit the contact sheet: cp {target} {committed}")
        assert CoreImage(str(committed)).texture.size == CoreImage(str(target)).texture.size
    finally:
        kiosk.close()


def test_no_picture_is_left_without_an_exercise() -> None:
    pictures = {p.stem for p in (REPO / "media" / "pictures").glob("*.png")}
    referenced = {Path(line.split(":", 1)[1].strip()).stem
                  for path in (REPO / "exercises").glob("*.yaml")
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip().startswith("image:")}
    assert pictures == referenced
