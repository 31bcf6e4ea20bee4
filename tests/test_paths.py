from __future__ import annotations

from pathlib import Path

from kiosk import paths


def test_data_dir_follows_xdg_then_environment_then_option() -> None:
    env = {"HOME": "/home/ana", "XDG_DATA_HOME": "/xdg/data"}
    assert paths.data_dir(environ=env) == Path("/xdg/data/home-exercise-kiosk")
    assert paths.data_dir(environ={"HOME": "/home/ana"}) == Path("/home/ana/.local/share/home-exercise-kiosk")
    env["KIOSK_DATA_DIR"] = "/srv/kiosk"
    assert paths.data_dir(environ=env) == Path("/srv/kiosk")
    assert paths.data_dir("/mnt/usb", environ=env) == Path("/mnt/usb")


def test_relative_xdg_value_is_ignored_as_the_spec_says() -> None:
    env = {"HOME": "/home/ana", "XDG_DATA_HOME": "relative/path", "XDG_CONFIG_HOME": ""}
    assert paths.data_dir(environ=env) == Path("/home/ana/.local/share/home-exercise-kiosk")
    assert paths.config_path(environ=env) == Path("/home/ana/.config/home-exercise-kiosk/config.yaml")


def test_config_path_follows_xdg_then_environment_then_option() -> None:
    env = {"HOME": "/home/ana", "XDG_CONFIG_HOME": "/xdg/config"}
    assert paths.config_path(environ=env) == Path("/xdg/config/home-exercise-kiosk/config.yaml")
    env["KIOSK_CONFIG"] = "/etc/kiosk.yaml"
    assert paths.config_path(environ=env) == Path("/etc/kiosk.yaml")
    assert paths.config_path("~/my.yaml", environ=env) == Path("~/my.yaml").expanduser()


def test_shipped_folders_are_found_from_any_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert (paths.shipped_exercises_dir() / "routines.yaml").is_file()
    assert paths.shipped_media_dir().is_dir()
    assert paths.project_root() == paths.shipped_exercises_dir().parent
