"""Every exercise picture loads in Kivy, and a contact sheet shows them as the session screen does."""

from __future__ import annotations

from pathlib import Path

import pytest
from kivy_harness import SCREENSHOT_DIR, Kiosk, contact_sheet  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.core.image import Image as CoreImage


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
        cells = [(exercise.image, exercise.name) for exercise in shipped_library.exercises.values()]
        target = contact_sheet(kiosk, cells, (int(shown[0]), int(shown[1])), 6,
                               SCREENSHOT_DIR / "contact-sheet-800x480.png", label_size=14)
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
