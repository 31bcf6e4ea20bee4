"""ExerciseRoot: the whole kiosk as one widget, for `kiosk run` or a host app's ScreenManager."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Type

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.ui import widgets  # noqa: F401  (registers the kiosk's widgets with the kv language)
from kiosk.ui.controller import KioskController
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.exercise_files import ExerciseFilesScreen
from kiosk.ui.screens.home import HomeScreen
from kiosk.ui.screens.reminders import RemindersScreen
from kiosk.ui.screens.routines import RoutinesScreen
from kiosk.ui.screens.safety import SafetyScreen
from kiosk.ui.screens.session import SessionScreen
from kiosk.ui.screens.settings import SettingsScreen
from kiosk.ui.screens.streaks import StreaksScreen

Builder.load_file(str(Path(__file__).with_name("root.kv")))

SCREENS: Dict[str, Type[Any]] = {
    "home": HomeScreen,
    "session": SessionScreen,
    "done": DoneScreen,
    "streaks": StreaksScreen,
    "routines": RoutinesScreen,
    "settings": SettingsScreen,
    "exercise_files": ExerciseFilesScreen,
    "reminders": RemindersScreen,
    "safety": SafetyScreen,
}


class ExerciseRoot(FloatLayout):
    """All the screens, the notice banner, and the tap guard, driven by one controller.

    Home is built at once; every other screen the first time it is shown, so the first
    frame comes sooner.

    A host app mounts it like any widget: `Screen().add_widget(ExerciseRoot.from_settings())`.
    It starts the controller's clock and background work the first time it is put on a
    window's tree; the host calls `close()` when it stops, which saves a running session
    and releases the voice and the log.
    """

    controller = ObjectProperty(None, rebind=True)

    def __init__(self, controller: KioskController, **kwargs: Any) -> None:
        super().__init__(controller=controller, **kwargs)
        self.manager = ScreenManager(transition=NoTransition())
        self.add_widget(self.manager, index=len(self.children))  # under the notice banner
        self.screen(controller.screen)
        controller.bind(screen=self._show_screen)
        self.bind(size=self._rescale)
        self._started = False

    @classmethod
    def from_settings(cls, *, config_path: Optional[Path] = None, data_dir: Optional[Path] = None,
                      exercise_dirs: Sequence[Path] = ()) -> "ExerciseRoot":
        """The kiosk as `kiosk run` makes it, for a host app: the settings file, the data folder
        and extra exercise folders default to the same places as the command line's."""
        from kiosk import paths
        from kiosk.config import load_settings
        from kiosk.ui.app import AppOptions, build_controller

        config = Path(config_path) if config_path is not None else paths.config_path()
        settings, problems = load_settings(config)
        options = AppOptions(data_dir=Path(data_dir) if data_dir is not None else paths.data_dir(),
                             config_path=config, extra_exercise_dirs=tuple(Path(d) for d in exercise_dirs))
        return cls(build_controller(options, settings, problems))

    def close(self) -> None:
        """For the host app's stop: save a running session, release the voice and the log."""
        self.controller.shut_down()

    def screen(self, name: str) -> Any:
        """The screen called `name`, built now if it has not been shown before."""
        if not self.manager.has_screen(name):
            self.manager.add_widget(SCREENS[name](name=name, controller=self.controller))
        return self.manager.get_screen(name)

    def _show_screen(self, _controller: Any, name: str) -> None:
        self.screen(name)
        self.manager.current = name

    def _rescale(self, _root: Any, size: Any) -> None:
        width, height = size
        self.controller.scale = max(0.5, min(width, height) / 480.0)
        self.controller.portrait = height > width

    def on_parent(self, _root: Any, parent: Optional[Any]) -> None:
        if parent is not None and not self._started:
            self._started = True
            self.controller.start_up()

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        if not self.controller.touched():
            return True  # just after a screen change: a second tap of a double tap lands here
        return super().on_touch_down(touch)
