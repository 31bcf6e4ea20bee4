"""Put the kiosk on a Raspberry Pi, or take it off again (behind systemd/install.sh).

Two set-ups: `console` (Pi OS Lite: a system service on tty1 as the user `kiosk`) and
`desktop` (a user service for one desktop user, started by an autostart entry). Each step
looks first whether it is done, so a second run changes nothing. What was installed is
listed in /opt/home-exercise-kiosk/installed.json for `--uninstall`. The service's folders
are systemd's to make (StateDirectory=, CacheDirectory=); the installer makes one only to
put Kivy's config in it. With `mqtt:` on in the console service's settings, a drop-in lets
the service reach the broker (kiosk/pi/network_dropin.py). Runs on the system's python3
before any virtual environment exists: the standard library, kiosk.sessionlog.atomic,
kiosk.pi.kivy_config and kiosk.pi.network_dropin only.
"""

from __future__ import annotations

import argparse
import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from kiosk.pi import kivy_config, network_dropin
from kiosk.sessionlog.atomic import write_atomically

APP = "home-exercise-kiosk"
SERVICE_USER = "kiosk"
SERVICE_GROUPS = ("video", "render", "input", "audio")
UNIT = f"{APP}.service"
PREFIX = PurePosixPath("/opt") / APP
VENV = PREFIX / "venv"
RECORD = PREFIX / "installed.json"
STATE_DIR = PurePosixPath("/var/lib") / APP
CACHE_DIR = PurePosixPath("/var/cache") / APP
SYSTEM_UNIT = PurePosixPath("/etc/systemd/system") / UNIT
USER_UNIT = PurePosixPath("/etc/systemd/user") / UNIT
SYSUSERS = PurePosixPath("/etc/sysusers.d") / f"{APP}.conf"
COMMAND = PurePosixPath("/usr/local/bin/kiosk")
SETTINGS = STATE_DIR / "config.yaml"  # the unit's KIOSK_CONFIG
MQTT_DROPIN = PurePosixPath("/etc/systemd/system") / f"{UNIT}.d" / network_dropin.FILE_NAME
RESOLV_CONF = PurePosixPath("/etc/resolv.conf")

APT_PACKAGES = (
    "python3-venv",      # the virtual environment under /opt
    "espeak-ng",         # the voice
    "alsa-utils",        # aplay, for `kiosk play` and `kiosk say`; amixer for the volume
    "libmtdev1",         # Kivy's mtdev touch provider
    "libgl1", "libgl1-mesa-dri", "libegl1", "libgles2",  # OpenGL ES through Mesa
    "libgbm1", "libdrm2",  # what the SDL in Kivy's wheels loads to draw without a desktop
)


class InstallError(Exception):
    """Something stops the installation; said in one line."""


# --------------------------------------------------------------------------- the host

class Host(Protocol):
    """The machine installed on: the real one, a rehearsal under --root, or a test's double.

    `path`: where a path of the installed system is on it. `ask`: run a command that only
    reads the machine; its output if it succeeds, else None. `run`: run a command that
    changes it. `chown`: give a path the owner "user:group"; True if it had another.
    `resolve`: the addresses of a host name (TCP), or network_dropin.UnknownAddress.
    """

    def path(self, target: PurePosixPath) -> Path: ...

    def ask(self, argv: Sequence[str]) -> Optional[str]: ...

    def run(self, argv: Sequence[str], why: str, check: bool = True) -> None: ...

    def chown(self, path: Path, owner: str) -> bool: ...

    def resolve(self, name: str, port: int) -> List[str]: ...


class RealHost:
    """This machine: the commands really run."""

    def path(self, target: PurePosixPath) -> Path:
        return Path(target)

    def ask(self, argv: Sequence[str]) -> Optional[str]:
        try:
            result = subprocess.run(list(argv), capture_output=True, text=True)
        except FileNotFoundError:
            return None
        return result.stdout if result.returncode == 0 else None

    def run(self, argv: Sequence[str], why: str, check: bool = True) -> None:
        print(f"  {why}: {' '.join(argv)}", flush=True)
        try:
            result = subprocess.run(list(argv), text=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        except FileNotFoundError:
            raise InstallError(f"{argv[0]} is not installed here; this installer is for Debian and "
                               f"Raspberry Pi OS with systemd") from None
        if check and result.returncode != 0:
            raise InstallError(f"{' '.join(argv)} failed with status {result.returncode}")

    def chown(self, path: Path, owner: str) -> bool:
        user, group = owner.split(":")
        status = path.lstat()
        if (status.st_uid, status.st_gid) == (pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid):
            return False
        shutil.chown(path, user, group)
        return True

    def resolve(self, name: str, port: int) -> List[str]:
        return network_dropin.resolve(name, port)


class RehearsalHost:
    """--root DIR: files go under DIR; the commands are listed in DIR/staged-host.json, not run."""

    LEDGER = "staged-host.json"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ledger: Dict[str, Any] = {"commands": []}

    def path(self, target: PurePosixPath) -> Path:
        return self.root / target.relative_to("/")

    def ask(self, argv: Sequence[str]) -> Optional[str]:
        """As a fresh Raspberry Pi OS would answer: booted with systemd, nothing installed yet."""
        return "" if list(argv) == ["systemd-notify", "--booted"] else None

    def run(self, argv: Sequence[str], why: str, check: bool = True) -> None:
        print(f"  (rehearsal) {why}: {' '.join(argv)}", flush=True)
        self.ledger["commands"].append({"argv": list(argv), "why": why})
        write_atomically(self.root / self.LEDGER, (json.dumps(self.ledger, indent=2, sort_keys=True) + "\n").encode())
        os.chmod(self.root / self.LEDGER, 0o644)

    def chown(self, path: Path, owner: str) -> bool:
        """Owners are kept in installed.json only: the rehearsal tree may belong to anyone."""
        return False

    def resolve(self, name: str, port: int) -> List[str]:
        """This machine's answer: looking a name up changes nothing."""
        return network_dropin.resolve(name, port)


# --------------------------------------------------------------------------- what is installed

@dataclass(frozen=True)
class Item:
    """One file, link or folder of the installed system. A folder ("dir") is one the unit
    has systemd make; the installer makes it only to put a file of its own inside."""

    path: PurePosixPath
    kind: str = "file"  # file, link or dir
    content: bytes = b""
    mode: int = 0o644
    owner: str = "root:root"
    target: str = ""  # what a link points to
    kivy_setup: str = ""  # Kivy's config.ini: the set-up whose [input] section it must have


@dataclass(frozen=True)
class DesktopUser:
    name: str
    home: PurePosixPath
    owner: str


@dataclass(frozen=True)
class Layout:
    """Everything one set-up puts on the machine, in the order it is made."""

    mode: str
    items: Tuple[Item, ...]
    desktop: Optional[DesktopUser] = None


def kept_dirs(mode: str, desktop: Optional[DesktopUser]) -> Tuple[Tuple[PurePosixPath, ...], Tuple[PurePosixPath, ...]]:
    """(data dirs, cache dirs) of a set-up: data goes only with --purge, caches with --uninstall."""
    if mode == "console" or desktop is None:
        return (STATE_DIR,), (CACHE_DIR,)
    home = desktop.home
    return (home / ".local/state" / APP, home / ".local/share" / APP, home / ".config" / APP), (home / ".cache" / APP,)


def source_file(source: Path, relative: str) -> bytes:
    if not (source / relative).is_file():
        raise InstallError(f"{source / relative} is missing: run the installer from a checkout of {APP}")
    return (source / relative).read_bytes()


def unit_folders(unit: bytes, roots: Mapping[str, PurePosixPath], owner: str) -> Tuple[Item, ...]:
    """The folders a unit has systemd make (StateDirectory=, CacheDirectory=), with the unit's modes."""
    settings = dict(line.split("=", 1) for line in unit.decode("utf-8").splitlines()
                    if "=" in line and not line.startswith(("#", ";")))
    return tuple(Item(roots[key] / name, "dir", mode=int(settings.get(f"{key}Mode", "0755"), 8), owner=owner)
                 for key in roots for name in settings.get(key, "").split())


def layout_for(mode: str, source: Path, desktop: Optional[DesktopUser] = None) -> Layout:
    guide = Item(PREFIX / "doc" / "raspberry-pi.md", content=source_file(source, "docs/raspberry-pi.md"))
    kivy_template = source_file(source, "systemd/kivy/config.ini")
    if mode == "console":
        owner = f"{SERVICE_USER}:{SERVICE_USER}"
        unit = source_file(source, f"systemd/system/{UNIT}")
        return Layout(mode, (
            Item(SYSUSERS, content=source_file(source, f"systemd/sysusers.d/{APP}.conf")),
            guide,
            *unit_folders(unit, {"StateDirectory": STATE_DIR.parent, "CacheDirectory": CACHE_DIR.parent}, owner),
            Item(STATE_DIR / "kivy/config.ini", content=kivy_template, mode=0o640, owner=owner, kivy_setup=mode),
            Item(COMMAND, content=source_file(source, "systemd/bin/kiosk"), mode=0o755),
            Item(SYSTEM_UNIT, content=unit),
        ))
    assert desktop is not None
    home, owner = desktop.home, desktop.owner
    unit = source_file(source, f"systemd/user/{UNIT}")
    return Layout(mode, (
        guide,
        *unit_folders(unit, {"StateDirectory": home / ".local/state"}, owner),
        Item(home / ".local/state" / APP / "kivy/config.ini", content=kivy_template, owner=owner, kivy_setup=mode),
        Item(home / ".config/autostart" / f"{APP}.desktop", owner=owner,
             content=source_file(source, f"systemd/autostart/{APP}.desktop")),
        Item(COMMAND, "link", target=str(VENV / "bin" / "kiosk")),
        Item(USER_UNIT, content=unit),
    ), desktop)


# --------------------------------------------------------------------------- the installer

@dataclass
class Installer:
    host: Host
    source: Path
    changes: List[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        self.changes.append(message)
        print(f"  {message}", flush=True)

    def missing_packages(self, names: Sequence[str]) -> List[str]:
        return [name for name in names
                if "install ok installed" not in (self.host.ask(["dpkg-query", "-W", "-f=${Status}", name]) or "")]

    def has_user(self, user: str, groups: Sequence[str] = ()) -> bool:
        found = self.host.ask(["id", "-nG", user])
        return found is not None and set(groups) <= set(found.split())

    def unit_is(self, state: str) -> bool:
        """`state`: enabled or active."""
        return self.host.ask(["systemctl", f"is-{state}", "--quiet", UNIT]) is not None

    def systemd_running(self) -> bool:
        return self.host.ask(["systemd-notify", "--booted"]) is not None

    def read_record(self) -> Optional[Dict[str, Any]]:
        path = self.host.path(RECORD)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        except (OSError, ValueError) as error:
            raise InstallError(f"{path} is unreadable ({error}); remove it to start afresh") from None
        return data if isinstance(data, dict) else None

    def write_record(self, layout: Layout, digest: str) -> None:
        """installed.json: what --uninstall removes, and the fingerprint of the app last installed."""
        data_dirs, cache_dirs = kept_dirs(layout.mode, layout.desktop)
        paths = [{"path": str(item.path), "kind": "link", "target": item.target} if item.kind == "link" else
                 {"path": str(item.path), "kind": "file", "mode": f"{item.mode:04o}", "owner": item.owner,
                  "sha256": None if item.kivy_setup else hashlib.sha256(item.content).hexdigest()}
                 for item in layout.items if item.kind != "dir"]
        record = {"app": APP, "mode": layout.mode, "desktop_user": layout.desktop.name if layout.desktop else None,
                  "source_sha256": digest, "packages": list(APT_PACKAGES), "data_dirs": [str(d) for d in data_dirs],
                  "cache_dirs": [str(d) for d in cache_dirs], "paths": paths}
        self.apply(Item(RECORD, content=(json.dumps(record, indent=2) + "\n").encode("utf-8")), layout)

    def make_parents(self, target: PurePosixPath, layout: Layout) -> None:
        """Make the folders missing above `target`: the unit's as systemd would, in a home as its user's."""
        for folder in reversed([parent for parent in target.parents if not self.host.path(parent).exists()]):
            mode, owner = 0o755, "root:root"
            if layout.desktop is not None and layout.desktop.home in (folder, *folder.parents):
                mode, owner = 0o700, layout.desktop.owner
            for item in layout.items:
                if item.kind == "dir" and item.path == folder:
                    mode, owner = item.mode, item.owner
            self.host.path(folder).mkdir()
            os.chmod(self.host.path(folder), mode)
            self.host.chown(self.host.path(folder), owner)

    def in_place(self, item: Item) -> bool:
        path = self.host.path(item.path)
        if item.kind == "link":
            return path.is_symlink() and os.readlink(path) == item.target
        return path.is_file() and not path.is_symlink() and path.read_bytes() == item.content

    def check_not_foreign(self, layout: Layout, record: Optional[Dict[str, Any]]) -> None:
        """Refuse to overwrite a file that other software put where ours would go."""
        ours = {entry["path"] for entry in (record or {}).get("paths", [])}
        # The MQTT drop-in's content is known only once the app is installed: any file there
        # that installed.json does not list is someone else's.
        dropin = (Item(MQTT_DROPIN, content=b"not yet known"),) if layout.mode == "console" else ()
        for item in layout.items + dropin:
            path = self.host.path(item.path)
            if item.kind == "dir" or item.kivy_setup or str(item.path) in ours or self.in_place(item):
                continue
            if path.exists() or path.is_symlink():
                raise InstallError(f"{item.path} exists and was not put there by this installer; "
                                   f"move it away and run the installer again")

    def apply(self, item: Item, layout: Layout) -> bool:
        """Make one file or link as it should be; True if anything changed."""
        path, noted = self.host.path(item.path), len(self.changes)
        if item.kind == "link":
            if not self.in_place(item):
                self.make_parents(item.path, layout)
                path.unlink(missing_ok=True)
                path.symlink_to(item.target)
                self.note(f"linked {item.path} -> {item.target}")
            return len(self.changes) > noted
        current = path.read_bytes() if path.is_file() else None
        if item.kivy_setup:
            content = kivy_config.config_ini(current, item.content, item.kivy_setup)
        else:
            content = None if current == item.content else item.content
        if content is not None:
            self.make_parents(item.path, layout)
            write_atomically(path, content)
            self.note(f"{'wrote' if current is None else 'updated'} {item.path}")
        drifted = (path.stat().st_mode & 0o7777) != item.mode
        os.chmod(path, item.mode)
        drifted = self.host.chown(path, item.owner) or drifted
        if drifted and content is None:
            self.note(f"set mode {item.mode:04o} and owner {item.owner} on {item.path}")
        return len(self.changes) > noted

    def install(self, mode: str, desktop: Optional[DesktopUser]) -> List[str]:
        record = self.read_record()
        if record is not None and (record.get("mode"), record.get("desktop_user")) != (
                mode, desktop.name if desktop else None):
            who = f" for {record.get('desktop_user')}" if record.get("desktop_user") else ""
            raise InstallError(f"already installed as the {record.get('mode')} set-up{who}; "
                               f"run with --uninstall first")
        layout = layout_for(mode, self.source, desktop)
        self.check_not_foreign(layout, record)
        missing = self.missing_packages(APT_PACKAGES)
        if missing:
            self.note(f"installing packages: {' '.join(missing)}")
            self.host.run(["apt-get", "update", "-qq"], "refresh the package lists")
            self.host.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                          "install the system packages")
        if mode == "console" and not self.has_user(SERVICE_USER, SERVICE_GROUPS):
            self.apply(layout.items[0], layout)  # the sysusers.d file
            self.note(f"creating the user {SERVICE_USER} (groups {', '.join(SERVICE_GROUPS)})")
            self.host.run(["systemd-sysusers", str(SYSUSERS)], "create the service user")
        unit_changed = False
        for item in layout.items:
            if item.kind != "dir":
                unit_changed |= self.apply(item, layout) and item.path in (SYSTEM_UNIT, USER_UNIT)
        digest = source_digest(self.source)
        app_changed = record is None or record.get("source_sha256") != digest
        if self.host.ask([str(VENV / "bin" / "python"), "--version"]) is None:
            self.note(f"making the virtual environment {VENV}")
            self.host.run([_system_python(), "-m", "venv", str(VENV)], "make the virtual environment")
            app_changed = True
        if app_changed:
            self.note(f"installing the app from {self.source} into {VENV}")
            # With the `mqtt` extra (paho-mqtt, pure Python, about 100 kB): adding `mqtt:` to the
            # settings is then all Home Assistant needs, with no second install on the Pi.
            self.host.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                           "--no-input", f"{self.source}[mqtt]"], "install the app and its Python packages")
        if mode == "console":
            dropin, changed = self.mqtt_network(layout)
            layout, unit_changed = replace(layout, items=layout.items + dropin), unit_changed or changed
        self.write_record(layout, digest)
        running = self.systemd_running()
        if desktop is not None:
            if unit_changed and running:
                self.host.run(["systemctl", "--user", f"--machine={desktop.name}@.host", "daemon-reload"],
                              f"let {desktop.name}'s running session see the new unit", check=False)
            return self.changes
        if unit_changed and running:
            self.host.run(["systemctl", "daemon-reload"], "load the new unit")
        if not self.unit_is("enabled"):
            self.host.run(["systemctl", "enable", UNIT], "start the kiosk at every boot")
        if not running:
            print("  systemd is not running here: the kiosk starts at the next boot", flush=True)
        elif unit_changed or app_changed or not self.unit_is("active"):
            self.host.run(["systemctl", "restart", UNIT], "start the kiosk now")
        return self.changes

    def mqtt_network(self, layout: Layout) -> Tuple[Tuple[Item, ...], bool]:
        """Write, update or remove the drop-in that lets the console service reach the MQTT
        broker its settings name, as the installed app reads them. Gives the drop-in as an
        item for installed.json (or none) and whether it changed. What cannot be found out
        (the settings, the broker's address) leaves the drop-in as it is, with a warning."""
        path = self.host.path(MQTT_DROPIN)
        present = (Item(MQTT_DROPIN, content=path.read_bytes()),) if path.is_file() else ()
        broker = self.mqtt_broker()
        if broker is None:
            return present, False
        host, port = broker
        if not host:  # MQTT is off: no network
            if present:
                self.remove(MQTT_DROPIN)
                self.remove_if_empty(MQTT_DROPIN.parent)
            return (), bool(present)
        try:
            addresses = network_dropin.broker_addresses(host, port, self.host.resolve)
        except network_dropin.UnknownAddress as error:
            kept = "its network drop-in stays as it was" if present else "it has no network"
            print(f"  warning: the MQTT broker {error}: {kept}; run the installer again once the "
                  f"name is known (or give the broker by its address)", flush=True)
            return present, False
        dns: List[str] = []
        if network_dropin.needs_dns(host):
            resolv_conf = self.host.path(RESOLV_CONF)
            dns = network_dropin.dns_servers(resolv_conf.read_text(encoding="utf-8", errors="replace")
                                             if resolv_conf.is_file() else None)
        text = network_dropin.dropin_text(host, port, str(SETTINGS), addresses, dns)
        item = Item(MQTT_DROPIN, content=text.encode("utf-8"))
        return (item,), self.apply(item, layout)

    def mqtt_broker(self) -> Optional[Tuple[str, int]]:
        """(host, port) of the service's settings; host "" when MQTT is off or there are no
        settings; None (after a warning) when the installed app could not read them."""
        settings = self.host.path(SETTINGS)
        if not settings.is_file():
            return "", 0
        python = VENV / "bin" / "python"
        answer = self.host.ask([str(python), "-I", "-m", "kiosk.pi.network_dropin", str(settings)])
        try:
            broker = json.loads(answer or "")
            return str(broker["host"]), int(broker["port"])
        except (ValueError, TypeError, KeyError):
            print(f"  warning: the installed app could not read {SETTINGS}, so the service's network for "
                  f"MQTT stays as it was (`sudo {python} -I -m kiosk.pi.network_dropin {SETTINGS}` says why)",
                  flush=True)
            return None

    def remove_if_empty(self, folder: PurePosixPath) -> None:
        """A drop-in folder goes with our drop-in, unless the owner keeps drop-ins of their own there."""
        path = self.host.path(folder)
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()

    def uninstall(self, purge: bool, desktop: Optional[DesktopUser] = None) -> List[str]:
        """Take off what installed.json lists. Without it (removed already) --purge still
        removes the data of the set-up named on the command line."""
        record = self.read_record()
        if record is None:
            for folder in sum(kept_dirs("desktop" if desktop else "console", desktop), ()) if purge else ():
                self.remove(folder)
            if purge and desktop is None:
                self.remove_service_user()
            return self.changes
        console, running = record.get("mode") == "console", self.systemd_running()
        data_dirs = [PurePosixPath(p) for p in record.get("data_dirs", [])]
        if console and running and (self.unit_is("enabled") or self.unit_is("active")):
            self.host.run(["systemctl", "disable", "--now", UNIT], "stop the kiosk and no longer start it at boot")
        elif console and self.unit_is("enabled"):
            self.host.run(["systemctl", "disable", UNIT], "no longer start the kiosk at boot")
        elif not console and running and record.get("desktop_user"):
            self.host.run(["systemctl", "--user", f"--machine={record['desktop_user']}@.host", "stop", UNIT],
                          "stop the kiosk in the running desktop session", check=False)
        for entry in reversed(record.get("paths", [])):
            target = PurePosixPath(entry["path"])
            inside_data = any(target == folder or folder in target.parents for folder in data_dirs)
            if entry.get("kind") != "dir" and not inside_data:  # older installers listed folders too
                self.remove(target)
                if target == MQTT_DROPIN:
                    self.remove_if_empty(target.parent)
        for folder in [PurePosixPath(p) for p in record.get("cache_dirs", [])] + (data_dirs if purge else []):
            self.remove(folder)
        self.remove(PREFIX)
        if console and running:
            self.host.run(["systemctl", "daemon-reload"], "forget the removed unit")
        if console and purge:
            self.remove_service_user()
        kept = [str(folder) for folder in data_dirs if self.host.path(folder).exists()]
        if kept:
            print(f"  kept the session log and settings: {', '.join(kept)} (--purge removes them)", flush=True)
        return self.changes

    def remove_service_user(self) -> None:
        if self.has_user(SERVICE_USER):
            self.host.run(["userdel", SERVICE_USER], "remove the service user")
            self.note(f"removed the user {SERVICE_USER}")

    def remove(self, target: PurePosixPath) -> None:
        """Remove a file, link or whole folder of ours; quietly nothing if it is gone already."""
        path = self.host.path(target)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            if target.name != APP:  # every folder we remove whole is named after the app
                raise InstallError(f"refusing to remove the folder {target}: it is not one of ours")
            shutil.rmtree(path)
        else:
            return
        self.note(f"removed {target}")


def find_desktop_user(name: str, rehearsal: bool) -> DesktopUser:
    """The desktop user's home and owner; in a rehearsal an unknown user is assumed at /home/NAME."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if not rehearsal:
            raise InstallError(f"there is no user {name!r} on this machine") from None
        return DesktopUser(name, PurePosixPath("/home") / name, f"{name}:{name}")
    return DesktopUser(name, PurePosixPath(entry.pw_dir), f"{name}:{grp.getgrgid(entry.pw_gid).gr_name}")


def source_digest(source: Path) -> str:
    """A fingerprint of what pip would install from the checkout, so an unchanged app is not reinstalled."""
    digest = hashlib.sha256()
    for name in ["pyproject.toml", "README.md", "docs/safety.md", "kiosk", "exercises", "media"]:
        top = source / name
        for path in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
            if "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _system_python() -> str:
    """The venv is made by the system's python3, even when the installer runs from another venv."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


# --------------------------------------------------------------------------- command line

def main(argv: Optional[Sequence[str]] = None, host: Optional[Host] = None) -> int:
    """The command line; `host` stands in for the one --root or the real machine would give (tests)."""
    parser = argparse.ArgumentParser(prog="systemd/install.sh", description=f"Install {APP} as a service "
                                     "that starts at boot (run as root).")
    parser.add_argument("--desktop", metavar="USER", help="the desktop set-up: start the app in USER's desktop "
                        "session (default: the console set-up, a system service on tty1)")
    parser.add_argument("--uninstall", action="store_true",
                        help="remove what the installer added; the session log and settings stay")
    parser.add_argument("--purge", action="store_true",
                        help="with --uninstall: remove the session log, the settings and the user kiosk too")
    parser.add_argument("--root", metavar="DIR", type=Path, help="rehearse into the folder DIR: the files are "
                        "written there, the system commands only listed in DIR/staged-host.json")
    parser.add_argument("--source", metavar="DIR", type=Path, default=Path(__file__).resolve().parents[2],
                        help="the checkout to install from (default: this one)")
    args = parser.parse_args(argv)
    try:
        if args.purge and not args.uninstall:
            raise InstallError("--purge goes with --uninstall")
        if args.root is not None:
            args.root.mkdir(parents=True, exist_ok=True)
            host = host or RehearsalHost(args.root.resolve())
        elif host is None:
            if os.geteuid() != 0:
                raise InstallError("run it as root: sudo systemd/install.sh")
            host = RealHost()
        installer = Installer(host, args.source.resolve())
        desktop = find_desktop_user(args.desktop, rehearsal=args.root is not None) if args.desktop else None
        if args.uninstall:
            print("Uninstalling home-exercise-kiosk", flush=True)
            changes = installer.uninstall(args.purge, desktop)
        else:
            mode = "desktop" if args.desktop else "console"
            print(f"Installing home-exercise-kiosk ({mode} set-up)", flush=True)
            changes = installer.install(mode, desktop)
            if args.desktop and changes:
                print(f"  it starts the next time {args.desktop} logs in to the desktop", flush=True)
        if not changes:
            print("  nothing to change", flush=True)
    except InstallError as error:
        print(f"install: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
