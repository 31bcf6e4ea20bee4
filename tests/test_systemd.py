"""The units in systemd/: systemd's own checks (verify, security) and what they promise."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional

import pytest
from staged_host import StagedHost

from kiosk.pi import install, network_dropin

REPO = Path(__file__).resolve().parent.parent
SYSTEM_UNIT = REPO / "systemd/system/home-exercise-kiosk.service"
USER_UNIT = REPO / "systemd/user/home-exercise-kiosk.service"
AUTOSTART = REPO / "systemd/autostart/home-exercise-kiosk.desktop"
EXPOSURE_LIMIT = 2.5


@pytest.fixture
def systemd_analyze() -> str:
    """The tool's path; without it these tests fail saying how to get it, since a skip would pass unseen."""
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd (bash .ci/setup test does)")
    return found


def directives(unit: Path) -> Dict[str, Dict[str, List[str]]]:
    """section -> key -> every value, in order (a unit may repeat a key)."""
    sections: Dict[str, Dict[str, List[str]]] = {}
    current: Dict[str, List[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def environment(unit: Path) -> Dict[str, str]:
    return dict(value.split("=", 1) for value in directives(unit)["Service"].get("Environment", []))


def host_unit_dir() -> Path:
    """The machine's own units (sysinit.target and friends), which verify needs beside ours."""
    for candidate in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (candidate / "sysinit.target").exists():
            return candidate.resolve()
    raise AssertionError("the systemd package is installed but its units are not in /usr/lib/systemd/system")


def run(argv: List[str], env: Optional[Dict[str, str]] = None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def exposure(result: "subprocess.CompletedProcess[str]") -> float:
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


# The broker three ways: by address, by name (its addresses and the DNS servers), on this machine.
MQTT_BROKERS = {
    "address": ("192.168.1.20", {}),
    "name": ("broker.lan", {"broker.lan": ["192.168.1.20", "fd00::20"]}),
    "localhost": ("localhost", {}),
}


def add_host_units_and_app(root: Path) -> None:
    """What `systemd-analyze verify --root` needs beside the installed unit: the machine's own
    units, and a stand-in for the app the unit starts."""
    shutil.copytree(host_unit_dir(), root / "usr/lib/systemd/system", symlinks=True)
    app = root / "opt/home-exercise-kiosk/venv/bin/kiosk"
    app.parent.mkdir(parents=True)
    app.write_text("#!/bin/sh\n")
    app.chmod(0o755)


def staged_console_with_mqtt(root: Path, broker: str) -> Path:
    """The console set-up installed into `root` (StagedHost) with MQTT on: its network drop-in."""
    host, names = MQTT_BROKERS[broker]
    settings = root / install.SETTINGS.relative_to("/")
    settings.parent.mkdir(parents=True)
    settings.write_text(f"mqtt:\n  host: {host}\n")
    (root / "etc").mkdir()
    (root / "etc/resolv.conf").write_text("nameserver 192.168.1.1\nnameserver fe80::1%wlan0\n")
    assert install.main(["--root", str(root), "--source", str(REPO)], host=StagedHost(root, names=names)) == 0
    dropin = root / install.MQTT_DROPIN.relative_to("/")
    assert "IPAddressAllow=" in dropin.read_text(encoding="utf-8")
    return dropin


# --------------------------------------------------------------------------- systemd's checks

def test_system_unit_passes_systemd_analyze_verify(systemd_analyze: str, tmp_path: Path) -> None:
    """Verified as installed: the installer's staging tree, the host's units, a stand-in for the app."""
    root = tmp_path / "pi"
    assert install.main(["--root", str(root), "--source", str(REPO)]) == 0
    add_host_units_and_app(root)
    result = run([systemd_analyze, "verify", f"--root={root}", "--man=no", install.UNIT])
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("broker", sorted(MQTT_BROKERS))
def test_system_unit_with_the_mqtt_dropin_passes_systemd_analyze_verify(systemd_analyze: str, tmp_path: Path,
                                                                         broker: str) -> None:
    root = tmp_path / "pi"
    dropin = staged_console_with_mqtt(root, broker)
    add_host_units_and_app(root)
    result = run([systemd_analyze, "verify", f"--root={root}", "--man=no", install.UNIT])
    assert (result.returncode, result.stderr) == (0, "")
    # verify reads the drop-in too: a key it does not know there is reported.
    dropin.write_text(dropin.read_text() + "KioskTestNoSuchKey=1\n")
    result = run([systemd_analyze, "verify", f"--root={root}", "--man=no", install.UNIT])
    assert f"{dropin}:" in result.stderr and "KioskTestNoSuchKey" in result.stderr, result.stderr


@pytest.mark.parametrize("broker", sorted(MQTT_BROKERS))
def test_system_unit_exposure_with_the_mqtt_dropin_is_at_most_2_5(systemd_analyze: str, tmp_path: Path,
                                                                  broker: str) -> None:
    """The unit as systemd loads it from the installed tree (--root), the drop-in applied."""
    root = tmp_path / "pi"
    staged_console_with_mqtt(root, broker)
    result = run([systemd_analyze, "security", "--offline=yes", f"--root={root}",
                  f"--threshold={int(EXPOSURE_LIMIT * 10)}", install.UNIT])
    score = exposure(result)
    opened = [line for line in result.stdout.splitlines() if line.startswith("✗ PrivateNetwork=")]
    assert opened, "the drop-in was not applied: " + result.stdout
    assert score <= EXPOSURE_LIMIT, f"exposure {score} with the MQTT drop-in ({broker}):\n{result.stdout}"
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"systemd-analyze security with the MQTT drop-in ({broker}): {score}")


def test_user_unit_passes_systemd_analyze_verify(systemd_analyze: str, tmp_path: Path) -> None:
    """The user manager has no --root: the unit is verified from XDG_CONFIG_HOME, with
    ExecStart pointed at a stand-in for the app (the only line changed)."""
    app = tmp_path / "kiosk"
    app.write_text("#!/bin/sh\n")
    app.chmod(0o755)
    text = USER_UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/opt/home-exercise-kiosk/venv/bin/kiosk run\n" in text
    units = tmp_path / "config/systemd/user"
    units.mkdir(parents=True)
    (units / install.UNIT).write_text(text.replace("ExecStart=/opt/home-exercise-kiosk/venv/bin/kiosk",
                                                   f"ExecStart={app}"))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_RUNTIME_DIR": str(runtime)}
    result = run([systemd_analyze, "--user", "verify", "--man=no", install.UNIT], env=env)
    assert (result.returncode, result.stderr) == (0, "")


def test_system_unit_exposure_is_at_most_2_5(systemd_analyze: str) -> None:
    result = run([systemd_analyze, "security", "--offline=yes", f"--threshold={int(EXPOSURE_LIMIT * 10)}",
                  str(SYSTEM_UNIT)])
    assert exposure(result) <= EXPOSURE_LIMIT, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_weakened_unit_would_fail_the_exposure_check(systemd_analyze: str, tmp_path: Path) -> None:
    """The check has teeth: the same app without its sandbox scores far above the limit."""
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/opt/home-exercise-kiosk/venv/bin/kiosk run\nUser=kiosk\n")
    result = run([systemd_analyze, "security", "--offline=yes", f"--threshold={int(EXPOSURE_LIMIT * 10)}",
                  str(bare)])
    assert result.returncode != 0


# --------------------------------------------------------------------------- what the system unit promises

def test_the_system_unit_restarts_a_frozen_or_crashed_app() -> None:
    unit = directives(SYSTEM_UNIT)
    service = unit["Service"]
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["WatchdogSec"] == ["30"]
    assert service["Restart"] == ["on-failure"]
    assert unit["Unit"]["StartLimitIntervalSec"] and unit["Unit"]["StartLimitBurst"]
    assert service["ExecStart"] == ["/opt/home-exercise-kiosk/venv/bin/kiosk run"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_system_unit_owns_tty1_as_the_kiosk_user() -> None:
    unit = directives(SYSTEM_UNIT)
    assert unit["Unit"]["Conflicts"] == ["getty@tty1.service"]
    assert "getty@tty1.service" in unit["Unit"]["After"][0].split()
    service = unit["Service"]
    assert service["User"] == [install.SERVICE_USER]
    assert service["SupplementaryGroups"][0].split() == list(install.SERVICE_GROUPS)
    assert service["TTYPath"] == ["/dev/tty1"]
    assert environment(SYSTEM_UNIT)["SDL_VIDEODRIVER"] == "kmsdrm"


def test_the_system_unit_is_sandboxed_but_reaches_screen_touch_and_sound() -> None:
    service = directives(SYSTEM_UNIT)["Service"]
    expected = {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
                "CapabilityBoundingSet": "", "DevicePolicy": "closed", "PrivateNetwork": "yes"}
    for key, value in expected.items():
        assert service[key] == [value], key
    assert "PrivateDevices" not in service, "it would hide /dev/dri, /dev/input and /dev/snd"
    assert {value.split()[0] for value in service["DeviceAllow"]} >= {"char-drm", "char-input", "char-alsa"}
    families = service["RestrictAddressFamilies"][0].split()
    assert "AF_UNIX" in families and not {"AF_INET", "AF_INET6", "AF_PACKET"} & set(families)
    assert service["SystemCallFilter"][0] == "@system-service"


def test_the_system_unit_keeps_data_in_its_state_directory() -> None:
    service = directives(SYSTEM_UNIT)["Service"]
    state = service["StateDirectory"][0].split()
    assert state[0] == install.APP
    env = environment(SYSTEM_UNIT)
    assert env["KIVY_NO_ARGS"] == "1"
    for variable, folder in (("KIOSK_DATA_DIR", "data"), ("KIVY_HOME", "kivy")):
        assert env[variable] == f"%S/{install.APP}/{folder}"
        assert f"{install.APP}/{folder}" in state, variable
    assert env["KIOSK_CONFIG"] == f"%S/{install.APP}/config.yaml"
    assert service["CacheDirectory"] == [install.APP]


@pytest.mark.parametrize("unit, mode", [(SYSTEM_UNIT, "console"), (USER_UNIT, "desktop")])
def test_systemd_and_the_installer_agree_on_the_folders_modes(unit: Path, mode: str) -> None:
    """systemd resets a StateDirectory='s mode at each start: were the installer to disagree,
    each would undo the other and no second install would ever be a no-op."""
    service = directives(unit)["Service"]
    desktop = install.DesktopUser("someone", PurePosixPath("/home/someone"), "someone:someone")
    layout = install.layout_for(mode, REPO, desktop if mode == "desktop" else None)
    modes = {str(item.path): item.mode for item in layout.items if item.kind == "dir"}
    roots = {"StateDirectory": "/var/lib", "CacheDirectory": "/var/cache"} if mode == "console" else \
        {"StateDirectory": "/home/someone/.local/state"}
    for key, root in roots.items():
        wanted = int(service[f"{key}Mode"][0], 8)
        for name in service[key][0].split():
            assert modes[f"{root}/{name}"] == wanted, (key, name)


def test_the_admin_command_uses_the_same_folders_as_the_service() -> None:
    """systemd/bin/kiosk repeats the unit's paths (a shell script cannot read a unit): keep them equal."""
    script = (REPO / "systemd/bin/kiosk").read_text(encoding="utf-8")
    env = environment(SYSTEM_UNIT)
    state = str(install.STATE_DIR)
    assert f"state={state}\n" in script
    for variable, relative in (("KIOSK_DATA_DIR", "data"), ("KIOSK_CONFIG", "config.yaml"), ("KIVY_HOME", "kivy")):
        assert env[variable] == f"%S/{install.APP}/{relative}"
        assert f'{variable}="$state/{relative}"' in script, variable
    assert env["XDG_CACHE_HOME"] == "%C" and "XDG_CACHE_HOME=/var/cache " in script
    assert f"{install.VENV}/bin/kiosk" in script


def test_the_service_user_is_made_with_the_groups_the_unit_names() -> None:
    lines = [line.split() for line in (REPO / "systemd/sysusers.d/home-exercise-kiosk.conf").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[0][:2] == ["u", install.SERVICE_USER]
    assert str(install.STATE_DIR) in lines[0]
    assert [line[2] for line in lines[1:] if line[0] == "m"] == list(install.SERVICE_GROUPS)


# --------------------------------------------------------------------------- the desktop set-up

def test_the_user_unit_is_watched_too() -> None:
    unit = directives(USER_UNIT)
    service = unit["Service"]
    assert (service["Type"], service["NotifyAccess"], service["Restart"]) == (["notify"], ["main"], ["on-failure"])
    assert service["WatchdogSec"] == ["30"]
    assert environment(USER_UNIT)["KIVY_HOME"] == f"%S/{install.APP}/kivy"
    assert "User" not in service, "a user service runs as the desktop user"


def test_the_autostart_entry_hands_over_the_display_and_starts_the_user_unit() -> None:
    entry = {key: value for key, _, value in
             (line.partition("=") for line in AUTOSTART.read_text().splitlines() if "=" in line)}
    assert entry["Type"] == "Application"
    assert "systemctl --user import-environment DISPLAY WAYLAND_DISPLAY" in entry["Exec"]
    assert entry["Exec"].endswith(f'exec systemctl --user start {install.UNIT}"')
    assert "'" not in entry["Exec"], "desktop entries quote with double quotes only"


def test_the_user_unit_lets_the_app_reach_an_mqtt_broker() -> None:
    """A user service cannot filter IP addresses (that needs the system manager) nor, without a
    user namespace, have a network of its own: the desktop set-up needs no drop-in for MQTT,
    only the Internet socket families."""
    service = directives(USER_UNIT)["Service"]
    families = service["RestrictAddressFamilies"][0].split()
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= set(families)
    assert "AF_PACKET" not in families
    assert not {"PrivateNetwork", "IPAddressDeny", "IPAddressAllow"} & set(service)


def test_the_system_unit_names_the_installers_network_dropin() -> None:
    assert network_dropin.FILE_NAME in SYSTEM_UNIT.read_text(encoding="utf-8")
    assert install.MQTT_DROPIN.parent.name == f"{install.UNIT}.d"
