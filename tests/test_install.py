"""The Raspberry Pi installer on a StagedHost (--root): file by file, twice, then off again."""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from staged_host import StagedHost

from kiosk.pi import install, network_dropin
from kiosk.pi.kivy_config import INPUT_PROVIDERS

REPO = Path(__file__).resolve().parent.parent
STATE = "var/lib/home-exercise-kiosk"


def run_installer(root: Path, *options: str, capsys: pytest.CaptureFixture[str]) -> Tuple[int, str]:
    status = install.main(["--root", str(root), "--source", str(REPO), *options], host=StagedHost(root))
    return status, capsys.readouterr().out


def snapshot(root: Path) -> Dict[str, Tuple[str, str, str]]:
    """Every path under root: its kind, its content's sha256 (or link target), its mode."""
    tree: Dict[str, Tuple[str, str, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = str(path.relative_to(root))
            if path.is_symlink():
                tree[relative] = ("link", os.readlink(path), "")
            elif path.is_dir():
                tree[relative] = ("dir", "", oct(path.stat().st_mode & 0o7777))
            else:
                tree[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                                  oct(path.stat().st_mode & 0o7777))
    return tree


def files(root: Path) -> List[str]:
    return sorted(path for path, (kind, _, _) in snapshot(root).items() if kind != "dir")


def commands(root: Path) -> List[List[str]]:
    ledger = json.loads((root / "staged-host.json").read_text(encoding="utf-8"))
    return [entry["argv"] for entry in ledger["commands"]]


def record(root: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((root / "opt/home-exercise-kiosk/installed.json").read_text(encoding="utf-8"))
    return data


def input_section(path: Path) -> Dict[str, str]:
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    return dict(parser.items("input"))


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o7777


CONSOLE_FILES = {
    # installed path: (file in the checkout, mode)
    "etc/systemd/system/home-exercise-kiosk.service": ("systemd/system/home-exercise-kiosk.service", 0o644),
    "etc/sysusers.d/home-exercise-kiosk.conf": ("systemd/sysusers.d/home-exercise-kiosk.conf", 0o644),
    "usr/local/bin/kiosk": ("systemd/bin/kiosk", 0o755),
    "opt/home-exercise-kiosk/doc/raspberry-pi.md": ("docs/raspberry-pi.md", 0o644),
}


# --------------------------------------------------------------------------- console set-up

def test_console_install_puts_each_file_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, _ = run_installer(root, capsys=capsys)
    assert status == 0
    for installed, (shipped, mode) in CONSOLE_FILES.items():
        assert (root / installed).read_bytes() == (REPO / shipped).read_bytes(), installed
        assert mode_of(root / installed) == mode, installed
    kivy_config = root / STATE / "kivy/config.ini"
    assert mode_of(kivy_config) == 0o640
    assert input_section(kivy_config) == dict(INPUT_PROVIDERS["console"])
    template = configparser.RawConfigParser()
    template.read(REPO / "systemd/kivy/config.ini", encoding="utf-8")
    written = configparser.RawConfigParser()
    written.read(kivy_config, encoding="utf-8")
    for section in template.sections():
        assert dict(written.items(section)) == dict(template.items(section)), section
    # Kivy's folder is made for its config as the unit's StateDirectory= would make it; the
    # rest of the service's folders are systemd's to make when the service starts.
    for folder in ("", "/kivy"):
        assert mode_of(root / (STATE + folder)) == 0o750
    assert not (root / STATE / "data").exists() and not (root / "var/cache/home-exercise-kiosk").exists()
    assert files(root) == sorted([*CONSOLE_FILES, f"{STATE}/kivy/config.ini",
                                  "opt/home-exercise-kiosk/installed.json", "staged-host.json"])


def test_console_install_runs_these_commands_in_this_order(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    venv_python = "/opt/home-exercise-kiosk/venv/bin/python"
    assert commands(root) == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "--no-install-recommends", *install.APT_PACKAGES],
        ["systemd-sysusers", "/etc/sysusers.d/home-exercise-kiosk.conf"],
        [install._system_python(), "-m", "venv", "/opt/home-exercise-kiosk/venv"],
        [venv_python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", f"{REPO}[mqtt]"],
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "home-exercise-kiosk.service"],
        ["systemctl", "restart", "home-exercise-kiosk.service"],
    ]


def test_the_record_names_every_owner(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    owners = {entry["path"]: entry.get("owner") for entry in record(root)["paths"]}
    assert owners["/etc/systemd/system/home-exercise-kiosk.service"] == "root:root"
    assert owners["/usr/local/bin/kiosk"] == "root:root"
    assert owners["/var/lib/home-exercise-kiosk/kivy/config.ini"] == "kiosk:kiosk"
    assert not any(path.startswith("/var/cache") or path.endswith("/data") for path in owners), \
        "the service's folders are systemd's, not the installer's to record"
    assert record(root)["mode"] == "console"


def test_a_second_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    before = snapshot(root)
    status, output = run_installer(root, capsys=capsys)
    assert status == 0
    assert "nothing to change" in output
    assert snapshot(root) == before  # the command ledger is in the tree, so no command ran either


def test_a_changed_app_is_reinstalled_and_restarted(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    done = len(commands(root))
    monkeypatch.setattr(install, "source_digest", lambda _source: "a newer checkout")
    run_installer(root, capsys=capsys)
    new = commands(root)[done:]
    assert [argv[1:4] for argv in new[:1]] == [["-m", "pip", "install"]]
    assert new[1:] == [["systemctl", "restart", "home-exercise-kiosk.service"]]


def test_a_changed_unit_is_reloaded_and_restarted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    done = len(commands(root))
    unit = root / "etc/systemd/system/home-exercise-kiosk.service"
    unit.write_text(unit.read_text() + "# edited by hand\n")
    status, output = run_installer(root, capsys=capsys)
    assert status == 0
    assert unit.read_bytes() == (REPO / "systemd/system/home-exercise-kiosk.service").read_bytes()
    assert commands(root)[done:] == [["systemctl", "daemon-reload"],
                                     ["systemctl", "restart", "home-exercise-kiosk.service"]]


def test_a_changed_mode_is_mended_without_rewriting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    command = root / "usr/local/bin/kiosk"
    command.chmod(0o600)
    status, output = run_installer(root, capsys=capsys)
    assert (status, mode_of(command)) == (0, 0o755)
    assert "set mode 0755 and owner root:root on /usr/local/bin/kiosk" in output
    assert "nothing to change" not in output


def test_uninstall_keeps_the_data_then_purge_removes_it(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    log = root / STATE / "data/sessions.json"
    log.parent.mkdir()  # by systemd, at the service's start (StateDirectory=)
    log.write_text('{"sessions": {}}')
    done = len(commands(root))

    status, output = run_installer(root, "--uninstall", capsys=capsys)
    assert status == 0
    assert files(root) == sorted([f"{STATE}/data/sessions.json", f"{STATE}/kivy/config.ini", "staged-host.json"])
    assert commands(root)[done:] == [["systemctl", "disable", "--now", "home-exercise-kiosk.service"],
                                     ["systemctl", "daemon-reload"]]
    assert "kept the session log and settings" in output

    before = snapshot(root)
    status, output = run_installer(root, "--uninstall", capsys=capsys)
    assert (status, snapshot(root)) == (0, before)
    assert "nothing to change" in output

    status, _ = run_installer(root, "--uninstall", "--purge", capsys=capsys)
    assert status == 0
    assert files(root) == ["staged-host.json"]
    assert commands(root)[-1] == ["userdel", "kiosk"]


def test_purge_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    status, _ = run_installer(root, "--uninstall", "--purge", capsys=capsys)
    assert status == 0
    assert files(root) == ["staged-host.json"]
    ledger = json.loads((root / "staged-host.json").read_text())
    assert (ledger["users"], ledger["enabled"], ledger["active"]) == ({}, [], [])


# --------------------------------------------------------------------------- the Kivy touch set-up

@pytest.mark.parametrize("mode", sorted(INPUT_PROVIDERS))
def test_exactly_one_way_for_a_touch_to_reach_kivy(mode: str) -> None:
    providers = dict(INPUT_PROVIDERS[mode])
    readers_of_dev_input = [value for value in providers.values() if not value.startswith("mouse")]
    assert providers["mouse"].startswith("mouse"), "kept for a real mouse"
    if mode == "console":
        # Kivy reads the panel itself; the unit stops SDL from also making clicks of it.
        assert readers_of_dev_input == ["probesysfs,provider=mtdev,select_all=0"]
        unit = (REPO / "systemd/system/home-exercise-kiosk.service").read_text()
        assert "Environment=SDL_TOUCH_MOUSE_EVENTS=0" in unit.splitlines()
    else:
        # The compositor hands touches to SDL as clicks; nothing else may read the panel.
        assert readers_of_dev_input == []


def test_an_existing_kivy_config_keeps_its_settings_but_gets_one_touch_provider(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    config = root / STATE / "kivy/config.ini"
    config.parent.mkdir(parents=True)
    config.write_text("[graphics]\nmaxfps = 30\n\n[input]\nmouse = mouse\n"
                      "mtdev_%(name)s = probesysfs,provider=mtdev\nhid_%(name)s = probesysfs,provider=hidinput\n"
                      "\n[postproc]\ndouble_tap_time = 250\n")
    run_installer(root, capsys=capsys)
    assert input_section(config) == dict(INPUT_PROVIDERS["console"])
    parser = configparser.RawConfigParser()
    parser.read(config)
    assert parser.get("graphics", "maxfps") == "30"
    assert parser.get("postproc", "double_tap_time") == "250"

    # Kivy rewrites the file when it upgrades it (comments gone, keys reordered): that is
    # not a reason for the installer to touch it again.
    rewritten = configparser.RawConfigParser()
    rewritten.read(config)
    with open(config, "w", encoding="utf-8") as stream:
        rewritten.write(stream)
    before = snapshot(root)
    status, output = run_installer(root, capsys=capsys)
    assert (status, snapshot(root)) == (0, before)


def test_a_panel_specific_provider_line_is_respected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A resistive panel needs hidinput: one reader is one reader, the installer leaves it."""
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    config = root / STATE / "kivy/config.ini"
    custom = config.read_text().replace("probesysfs,provider=mtdev,select_all=0",
                                        "probesysfs,provider=hidinput,select_all=1,match=ADS7846")
    config.write_text(custom)
    run_installer(root, capsys=capsys)
    assert config.read_text() == custom
    config.write_text(custom + "hid_%(name)s = probesysfs,provider=hidinput\n")
    run_installer(root, capsys=capsys)
    assert input_section(config) == dict(INPUT_PROVIDERS["console"]), "a second reader is mended"


# --------------------------------------------------------------------------- desktop set-up

def test_desktop_install_second_run_and_uninstall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    home = "home/kiosk-test-desktop-user"
    status, output = run_installer(root, "--desktop", "kiosk-test-desktop-user", capsys=capsys)
    assert status == 0, output
    expected = {
        "etc/systemd/user/home-exercise-kiosk.service": "systemd/user/home-exercise-kiosk.service",
        f"{home}/.config/autostart/home-exercise-kiosk.desktop": "systemd/autostart/home-exercise-kiosk.desktop",
        "opt/home-exercise-kiosk/doc/raspberry-pi.md": "docs/raspberry-pi.md",
    }
    for installed, shipped in expected.items():
        assert (root / installed).read_bytes() == (REPO / shipped).read_bytes(), installed
    kivy_config = root / home / ".local/state/home-exercise-kiosk/kivy/config.ini"
    assert input_section(kivy_config) == dict(INPUT_PROVIDERS["desktop"])
    assert os.readlink(root / "usr/local/bin/kiosk") == "/opt/home-exercise-kiosk/venv/bin/kiosk"
    assert files(root) == sorted([*expected, str(kivy_config.relative_to(root)), "usr/local/bin/kiosk",
                                  "opt/home-exercise-kiosk/installed.json", "staged-host.json"])
    owners = {entry["path"]: entry.get("owner") for entry in record(root)["paths"]}
    assert owners[f"/{home}/.config/autostart/home-exercise-kiosk.desktop"] == \
        "kiosk-test-desktop-user:kiosk-test-desktop-user"
    ran = commands(root)
    assert not any(argv[0] in ("systemd-sysusers", "userdel") for argv in ran), "no service user on a desktop"
    assert ["systemctl", "enable", "home-exercise-kiosk.service"] not in ran, "the autostart entry starts it"

    before = snapshot(root)
    status, output = run_installer(root, "--desktop", "kiosk-test-desktop-user", capsys=capsys)
    assert (status, snapshot(root)) == (0, before)

    status, _ = run_installer(root, "--uninstall", capsys=capsys)
    assert status == 0
    assert files(root) == sorted([str(kivy_config.relative_to(root)), "staged-host.json"])


# --------------------------------------------------------------------------- refusals

def test_a_file_someone_else_put_there_is_not_overwritten(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    theirs = root / "usr/local/bin/kiosk"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("#!/bin/sh\necho another kiosk\n")
    status = install.main(["--root", str(root), "--source", str(REPO)])
    captured = capsys.readouterr()
    assert status == 1
    assert "/usr/local/bin/kiosk exists and was not put there by this installer" in captured.err
    assert files(root) == ["usr/local/bin/kiosk"]


def test_switching_set_ups_needs_an_uninstall_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_installer(root, capsys=capsys)
    status = install.main(["--root", str(root), "--source", str(REPO), "--desktop", "someone"])
    assert status == 1
    assert "run with --uninstall first" in capsys.readouterr().err


def test_without_root_it_refuses_to_touch_the_machine(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert install.main(["--source", str(REPO)]) == 1
    assert "run it as root" in capsys.readouterr().err


def test_purge_only_with_uninstall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert install.main(["--root", str(tmp_path), "--purge"]) == 1
    assert "--purge goes with --uninstall" in capsys.readouterr().err


def test_the_real_host_only_reads_the_machine_when_asked() -> None:
    """The questions the real installer asks before acting (the answers here are this machine's)."""
    host = install.RealHost()
    installer = install.Installer(host, REPO)
    assert installer.has_user("root") and not installer.has_user("kiosk-test-nobody")
    assert not installer.has_user("root", ["kiosk-test-no-such-group"])
    assert host.chown(Path("/"), "root:root") is False, "already root's: nothing to change"
    assert host.ask(["kiosk-test-no-such-command"]) is None
    if shutil.which("dpkg-query"):
        assert installer.missing_packages(["dpkg", "kiosk-test-no-such-package"]) == ["kiosk-test-no-such-package"]
    assert host.path(install.SYSTEM_UNIT) == Path("/etc/systemd/system/home-exercise-kiosk.service")


def test_the_shell_entry_point_rehearses_into_a_folder(tmp_path: Path) -> None:
    """--root without a test's host: the files are written, the commands of a fresh Pi only listed."""
    root = tmp_path / "pi"
    result = subprocess.run(["sh", str(REPO / "systemd/install.sh"), "--root", str(root)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Installing home-exercise-kiosk (console set-up)" in result.stdout
    assert (root / "etc/systemd/system/home-exercise-kiosk.service").is_file()
    listed = commands(root)
    assert listed[:3] == [["apt-get", "update", "-qq"],
                          ["apt-get", "install", "-y", "--no-install-recommends", *install.APT_PACKAGES],
                          ["systemd-sysusers", "/etc/sysusers.d/home-exercise-kiosk.conf"]]
    assert listed[-1] == ["systemctl", "restart", "home-exercise-kiosk.service"]


# --------------------------------------------------------------------------- MQTT: the console service's network

DROPIN = "etc/systemd/system/home-exercise-kiosk.service.d/50-installer-mqtt.conf"
SETTINGS = f"{STATE}/config.yaml"


def run_with_settings(root: Path, settings: Optional[str], capsys: pytest.CaptureFixture[str],
                      names: Optional[Dict[str, List[str]]] = None, app_fails: bool = False) -> Tuple[int, str]:
    """The console installer, with the service's config.yaml as given (None: no file)."""
    path = root / SETTINGS
    if settings is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(settings, encoding="utf-8")
    host = StagedHost(root, names=names, app_fails=app_fails)
    status = install.main(["--root", str(root), "--source", str(REPO)], host=host)
    return status, capsys.readouterr().out


def service_lines(text: str) -> List[str]:
    """The drop-in's settings, without comments and blank lines."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def allowed(text: str) -> List[List[str]]:
    return [line.split("=", 1)[1].split() for line in service_lines(text) if line.startswith("IPAddressAllow=")]


def test_mqtt_by_address_opens_the_network_to_that_address_only(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, output = run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    assert status == 0, output
    text = (root / DROPIN).read_text(encoding="utf-8")
    assert service_lines(text) == [
        "[Service]",
        "PrivateNetwork=no",
        "RestrictAddressFamilies=",
        "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
        "IPAddressAllow=192.168.1.20",
        "SocketBindDeny=any",
    ]  # no IPAddressDeny=: the unit's IPAddressDeny=any stays
    # The header says who wrote it, from what, and how to redo it.
    assert "/var/lib/home-exercise-kiosk/config.yaml: host 192.168.1.20, port 1883" in text
    assert "run `sudo systemd/install.sh` again" in text
    assert "NOT enforced" in text
    assert mode_of(root / DROPIN) == 0o644
    entry = [entry for entry in record(root)["paths"] if entry["path"] == "/" + DROPIN]
    assert entry and entry[0]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert f"wrote /{DROPIN}" in output


def test_mqtt_by_name_allows_its_addresses_and_the_dns_servers(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    resolv = root / "etc/resolv.conf"
    resolv.parent.mkdir(parents=True)
    resolv.write_text("# Generated by NetworkManager\nsearch lan\nnameserver 192.168.1.1\n"
                      "nameserver fe80::1%wlan0\noptions edns0\n")
    names = {"broker.lan": ["fd00::20", "192.168.1.20", "192.168.1.20"]}
    status, output = run_with_settings(root, "mqtt:\n  host: broker.lan\n  port: 8883\n", capsys, names)
    assert status == 0, output
    text = (root / DROPIN).read_text(encoding="utf-8")
    assert allowed(text) == [["192.168.1.20", "fd00::20"], ["192.168.1.1", "fe80::1"]]
    assert "host broker.lan, port 8883" in text


def test_mqtt_by_name_behind_systemd_resolved_allows_its_stub(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    (root / "etc").mkdir(parents=True)
    (root / "etc/resolv.conf").write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n")
    status, output = run_with_settings(root, "mqtt:\n  host: homeassistant.local\n", capsys,
                                       {"homeassistant.local": ["192.168.1.30"]})
    assert status == 0, output
    assert allowed((root / DROPIN).read_text()) == [["192.168.1.30"], ["127.0.0.53"]]


def test_mqtt_on_this_machine_allows_the_loopback_addresses_only(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, output = run_with_settings(root, "mqtt:\n  host: localhost\n  port: 1884\n", capsys)
    assert status == 0, output
    assert allowed((root / DROPIN).read_text()) == [["127.0.0.1", "::1"]], "no DNS for localhost"


def test_the_mqtt_dropin_is_kept_updated_and_removed_with_the_settings(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    before = snapshot(root)
    status, output = run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    assert (status, snapshot(root)) == (0, before), "a second run changes nothing"
    assert "nothing to change" in output

    done = len(commands(root))
    status, output = run_with_settings(root, "mqtt:\n  host: 192.168.1.21\n", capsys)
    assert status == 0
    assert allowed((root / DROPIN).read_text()) == [["192.168.1.21"]]
    assert f"updated /{DROPIN}" in output
    assert commands(root)[done:] == [["systemctl", "daemon-reload"],
                                     ["systemctl", "restart", "home-exercise-kiosk.service"]]

    done = len(commands(root))
    status, output = run_with_settings(root, "rotation: 180\n", capsys)  # MQTT off
    assert status == 0
    assert not (root / DROPIN).exists() and not (root / DROPIN).parent.exists()
    assert f"removed /{DROPIN}" in output
    assert "/" + DROPIN not in [entry["path"] for entry in record(root)["paths"]]
    assert commands(root)[done:] == [["systemctl", "daemon-reload"],
                                     ["systemctl", "restart", "home-exercise-kiosk.service"]]
    before = snapshot(root)
    status, output = run_with_settings(root, "rotation: 180\n", capsys)
    assert (status, snapshot(root)) == (0, before)

    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    assert (root / DROPIN).is_file()
    status, output = run_with_settings(root, None, capsys)  # the settings file is gone: MQTT off
    assert status == 0 and not (root / DROPIN).exists()


def test_without_mqtt_there_is_no_dropin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, output = run_with_settings(root, "mqtt:\n  port: 1883\n", capsys)  # no host: off
    assert status == 0, output
    assert not (root / DROPIN).parent.exists()
    assert "warning" not in output


def test_uninstall_removes_the_dropin_but_not_the_owners_own(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    status, _ = run_installer(root, "--uninstall", capsys=capsys)
    assert status == 0
    assert not (root / DROPIN).parent.exists()

    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    own = (root / DROPIN).parent / "override.conf"  # `systemctl edit` writes this
    own.write_text("[Service]\nNice=5\n")
    run_with_settings(root, "", capsys)  # MQTT off: our drop-in goes, theirs stays
    assert not (root / DROPIN).exists() and own.is_file()
    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    status, _ = run_installer(root, "--uninstall", capsys=capsys)
    assert status == 0
    assert not (root / DROPIN).exists() and own.is_file()


def test_settings_the_app_cannot_read_leave_the_dropin_as_it_is(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, output = run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys, app_fails=True)
    assert status == 0
    assert "warning: the installed app could not read /var/lib/home-exercise-kiosk/config.yaml" in output
    assert "Traceback" not in output
    assert not (root / DROPIN).exists()

    run_with_settings(root, "mqtt:\n  host: 192.168.1.20\n", capsys)
    before = (root / DROPIN).read_bytes()
    status, output = run_with_settings(root, "", capsys, app_fails=True)
    assert status == 0 and "warning: the installed app could not read" in output
    assert (root / DROPIN).read_bytes() == before, "kept: the installer could not tell whether MQTT is on"
    assert "/" + DROPIN in [entry["path"] for entry in record(root)["paths"]], "still ours to remove"


def test_a_broker_name_that_does_not_resolve_is_said_and_skipped(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    status, output = run_with_settings(root, "mqtt:\n  host: no-such-broker.lan\n", capsys, names={})
    assert status == 0
    assert "warning: the MQTT broker no-such-broker.lan could not be looked up" in output
    assert "it has no network" in output
    assert not (root / DROPIN).exists()


def test_a_dropin_someone_else_put_there_is_not_overwritten(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pi"
    theirs = root / DROPIN
    theirs.parent.mkdir(parents=True)
    theirs.write_text("[Service]\nPrivateNetwork=no\n")
    status = install.main(["--root", str(root), "--source", str(REPO)], host=StagedHost(root))
    assert status == 1
    assert f"/{DROPIN} exists and was not put there by this installer" in capsys.readouterr().err
    assert theirs.read_text() == "[Service]\nPrivateNetwork=no\n"


def test_the_desktop_set_up_writes_no_network_dropin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The user unit has no IP filtering to open (see test_systemd); the console's settings are not its own."""
    root = tmp_path / "pi"
    settings = root / SETTINGS
    settings.parent.mkdir(parents=True)
    settings.write_text("mqtt:\n  host: 192.168.1.20\n")
    status, output = run_installer(root, "--desktop", "kiosk-test-desktop-user", capsys=capsys)
    assert status == 0, output
    assert not (root / "etc/systemd/system").exists()


# --------------------------------------------------------------------------- the drop-in's pure parts

@pytest.mark.parametrize("host, expected", [
    ("192.168.1.20", "192.168.1.20"), (" 10.0.0.5 ", "10.0.0.5"), ("fd00::20", "fd00::20"),
    ("[fd00:0::20]", "fd00::20"), ("fe80::1%wlan0", "fe80::1"), ("broker.lan", None), ("localhost", None),
    ("999.1.1.1", None),
])
def test_literal_addresses(host: str, expected: Optional[str]) -> None:
    assert network_dropin.literal_address(host) == expected


def test_broker_addresses_resolve_only_names() -> None:
    def resolver(host: str, port: int) -> List[str]:
        assert (host, port) == ("broker.lan", 8883)
        return ["fd00::20", "192.168.1.20", "10.0.0.9", "192.168.1.20"]

    def no_lookups(host: str, port: int) -> List[str]:
        raise AssertionError("an address or localhost is not looked up")

    assert network_dropin.broker_addresses("broker.lan", 8883, resolver) == ["10.0.0.9", "192.168.1.20", "fd00::20"]
    assert network_dropin.broker_addresses("192.168.1.20", 1883, no_lookups) == ["192.168.1.20"]
    assert network_dropin.broker_addresses("LocalHost", 1883, no_lookups) == ["127.0.0.1", "::1"]
    assert not network_dropin.needs_dns("192.168.1.20") and not network_dropin.needs_dns("localhost")
    assert network_dropin.needs_dns("broker.lan")


def test_localhost_resolves_to_loopback_without_the_network() -> None:
    found = network_dropin.resolve("localhost", 1883)
    assert found and set(found) <= {"127.0.0.1", "::1"}
    with pytest.raises(network_dropin.UnknownAddress):
        network_dropin.resolve("kiosk-test-no-such-name.invalid", 1883)


def test_dns_servers_from_resolv_conf() -> None:
    text = ("# comment\nnameserver 192.168.1.1\n  nameserver\nnameserver fe80::1%eth0\nnameserver 192.168.1.1\n"
            "nameserver not-an-address\n; nameserver 10.9.9.9\nsearch lan\n")
    assert network_dropin.dns_servers(text) == ["192.168.1.1", "fe80::1"]
    assert network_dropin.dns_servers("nameserver 127.0.0.53\n") == ["127.0.0.53"]
    assert network_dropin.dns_servers(None) == ["127.0.0.1", "::1"], "glibc's default: this machine"
    assert network_dropin.dns_servers("search lan\n") == ["127.0.0.1", "::1"]


def test_dropin_text_names_the_dns_servers_the_broker_is_not() -> None:
    text = network_dropin.dropin_text("pi.lan", 1883, "/x/config.yaml", ["127.0.1.1"], ["127.0.1.1", "10.0.0.1"])
    assert allowed(text) == [["127.0.1.1"], ["10.0.0.1"]]
    assert allowed(network_dropin.dropin_text("pi.lan", 1883, "/x", ["10.0.0.1"], ["10.0.0.1"])) == [["10.0.0.1"]]
    with pytest.raises(ValueError):
        network_dropin.dropin_text("pi.lan", 1883, "/x", [], [])


def test_the_settings_reader_prints_the_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "config.yaml"
    settings.write_text("mqtt:\n  host: broker.lan\n  port: 8883\n")
    assert network_dropin.main([str(settings)]) == 0
    assert json.loads(capsys.readouterr().out) == {"host": "broker.lan", "port": 8883}
    assert network_dropin.main([str(tmp_path / "missing.yaml")]) == 0
    assert json.loads(capsys.readouterr().out) == {"host": "", "port": 1883}
    assert network_dropin.main([]) == 2
