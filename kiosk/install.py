"""Put the kiosk on a Raspberry Pi, or take it off again (behind systemd/install.sh).

Two set-ups: `console` (Pi OS Lite: a system service on tty1 as the user `kiosk`) and
`desktop` (Pi OS with desktop: a user service for one desktop user, started by an
autostart entry). Every step first looks whether it is already done, so running the
installer again changes nothing. The files it writes come from the checkout's systemd/
folder; what it did is kept in /opt/home-exercise-kiosk/installed.json, which
`--uninstall` reads.

`--root DIR` installs into a staging tree instead of `/`: files are written under DIR,
and the system commands (apt-get, systemd-sysusers, pip, systemctl) are only recorded,
with what they would establish, in DIR/staged-host.json, so tests (and the curious)
can check every file and every command without touching the machine.

Runs on the system's python3 before any virtual environment exists: standard library
only, nothing from the rest of the package.
"""

from __future__ import annotations

import argparse
import configparser
import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

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
WANTS_LINK = PurePosixPath("/etc/systemd/system/multi-user.target.wants") / UNIT

APT_PACKAGES = (
    "python3-venv",      # the virtual environment under /opt
    "espeak-ng",         # the voice
    "alsa-utils",        # aplay, for `kiosk play` and `kiosk say`; amixer for the volume
    "libmtdev1",         # Kivy's mtdev touch provider
    "libgl1", "libgl1-mesa-dri", "libegl1", "libgles2",  # OpenGL ES through Mesa
    "libgbm1", "libdrm2",  # what the SDL in Kivy's wheels loads to draw without a desktop
)

INPUT_PROVIDERS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    # On the console nothing sits between the touchscreen and the app, so Kivy reads the
    # panel itself, through exactly one provider: mtdev, which turns both kinds of kernel
    # multitouch reports into one stream (hidinput would read the same panel again, the
    # classic double tap). select_all=0: only devices that report touch positions, never
    # the keyboard. The mouse provider stays for a real mouse; the unit stops SDL from
    # turning touches into clicks (SDL_TOUCH_MOUSE_EVENTS=0).
    "console": (
        ("mouse", "mouse,disable_multitouch"),
        ("%(name)s", "probesysfs,provider=mtdev,select_all=0"),
    ),
    # In the desktop the compositor owns the touchscreen and hands touches to SDL, which
    # Kivy gets as mouse clicks; reading /dev/input as well (Kivy's default probesysfs
    # entry) would count every tap twice.
    "desktop": (
        ("mouse", "mouse,disable_multitouch"),
    ),
}


Facts = Sequence[Tuple[str, Any]]


class InstallError(Exception):
    """Something stops the installation; said in one line."""


# --------------------------------------------------------------------------- the host

class Host:
    """The machine's state and its commands: real, or staged for --root."""

    staged = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, target: PurePosixPath) -> Path:
        """Where a path of the installed system lives on this host (under --root, inside DIR)."""
        return self.root / target.relative_to("/")

    def missing_packages(self, names: Sequence[str]) -> List[str]:
        raise NotImplementedError

    def user_ready(self, user: str, groups: Sequence[str]) -> bool:
        raise NotImplementedError

    def user_exists(self, user: str) -> bool:
        raise NotImplementedError

    def venv_exists(self, venv: PurePosixPath) -> bool:
        raise NotImplementedError

    def unit_enabled(self, unit: str) -> bool:
        raise NotImplementedError

    def unit_active(self, unit: str) -> bool:
        raise NotImplementedError

    def systemd_running(self) -> bool:
        raise NotImplementedError

    def owned_by(self, path: Path, owner: str) -> bool:
        raise NotImplementedError

    def chown(self, path: Path, owner: str) -> None:
        raise NotImplementedError

    def run(self, argv: Sequence[str], why: str, facts: Facts = (), check: bool = True) -> None:
        """Run a command; `facts` is what it establishes, for the staged host's bookkeeping."""
        raise NotImplementedError


def _call(argv: Sequence[str], **options: Any) -> "subprocess.CompletedProcess[str]":
    try:
        return subprocess.run(list(argv), text=True, **options)
    except FileNotFoundError:
        raise InstallError(f"{argv[0]} is not installed here; this installer is for Debian and "
                           f"Raspberry Pi OS with systemd") from None


class RealHost(Host):
    def missing_packages(self, names: Sequence[str]) -> List[str]:
        missing = []
        for name in names:
            result = _call(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True)
            if "install ok installed" not in result.stdout:
                missing.append(name)
        return missing

    def user_exists(self, user: str) -> bool:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return False
        return True

    def user_ready(self, user: str, groups: Sequence[str]) -> bool:
        if not self.user_exists(user):
            return False
        for group in groups:
            try:
                if user not in grp.getgrnam(group).gr_mem:
                    return False
            except KeyError:
                return False
        return True

    def venv_exists(self, venv: PurePosixPath) -> bool:
        return os.access(self.path(venv / "bin" / "python"), os.X_OK)

    def unit_enabled(self, unit: str) -> bool:
        return _call(["systemctl", "is-enabled", "--quiet", unit]).returncode == 0

    def unit_active(self, unit: str) -> bool:
        return _call(["systemctl", "is-active", "--quiet", unit]).returncode == 0

    def systemd_running(self) -> bool:
        return os.path.isdir("/run/systemd/system")

    def owned_by(self, path: Path, owner: str) -> bool:
        user, group = owner.split(":")
        status = path.lstat()
        try:
            return (status.st_uid, status.st_gid) == (pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
        except KeyError:
            return False

    def chown(self, path: Path, owner: str) -> None:
        user, group = owner.split(":")
        shutil.chown(path, user, group)

    def run(self, argv: Sequence[str], why: str, facts: Facts = (), check: bool = True) -> None:
        print(f"  {why}: {' '.join(argv)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        result = _call(argv, env=env)
        if check and result.returncode != 0:
            raise InstallError(f"{' '.join(argv)} failed with status {result.returncode}")


class StagedHost(Host):
    """--root: nothing runs; commands and what they would establish go to DIR/staged-host.json.

    It starts as a bare Pi OS with systemd running: no packages, no `kiosk` user.
    """

    staged = True
    LEDGER = "staged-host.json"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.ledger_path = root / self.LEDGER
        if self.ledger_path.exists():
            self.ledger: Dict[str, Any] = json.loads(self.ledger_path.read_text(encoding="utf-8"))
        else:
            self.ledger = {"commands": [], "packages": [], "users": {}, "venvs": [], "enabled": [], "active": []}

    def missing_packages(self, names: Sequence[str]) -> List[str]:
        return [name for name in names if name not in self.ledger["packages"]]

    def user_exists(self, user: str) -> bool:
        return user in self.ledger["users"]

    def user_ready(self, user: str, groups: Sequence[str]) -> bool:
        return set(groups) <= set(self.ledger["users"].get(user, ()))

    def venv_exists(self, venv: PurePosixPath) -> bool:
        return str(venv) in self.ledger["venvs"]

    def unit_enabled(self, unit: str) -> bool:
        return unit in self.ledger["enabled"]

    def unit_active(self, unit: str) -> bool:
        return unit in self.ledger["active"]

    def systemd_running(self) -> bool:
        return True

    def owned_by(self, path: Path, owner: str) -> bool:
        """Owners are kept in installed.json only: the staged tree may belong to anyone."""
        return True

    def chown(self, path: Path, owner: str) -> None:
        pass

    def run(self, argv: Sequence[str], why: str, facts: Facts = (), check: bool = True) -> None:
        print(f"  (staged) {why}: {' '.join(argv)}", flush=True)
        self.ledger["commands"].append({"argv": list(argv), "why": why})
        for kind, value in facts:
            self._establish(kind, value)
        self._save()

    def _establish(self, kind: str, value: Any) -> None:
        ledger = self.ledger
        if kind == "packages":
            ledger["packages"] = sorted(set(ledger["packages"]) | set(value))
        elif kind == "user":
            user, groups = value
            ledger["users"][user] = sorted(groups)
        elif kind == "no-user":
            ledger["users"].pop(value, None)
        elif kind in ("venvs", "enabled", "active"):
            ledger[kind] = sorted(set(ledger[kind]) | {value})
        elif kind in ("no-venvs", "no-enabled", "no-active"):
            name = kind[3:]
            ledger[name] = [item for item in ledger[name] if item != value]

    def _save(self) -> None:
        _write_atomic(self.ledger_path, (json.dumps(self.ledger, indent=2, sort_keys=True) + "\n").encode(), 0o644)


# --------------------------------------------------------------------------- what is installed

@dataclass(frozen=True)
class Item:
    """One file, directory or symbolic link the installer owns on the target system."""

    path: PurePosixPath
    kind: str = "file"
    """file, dir or link."""
    content: bytes = b""
    mode: int = 0o644
    owner: str = "root:root"
    target: str = ""
    """For a link: what it points to."""
    kivy_input: Tuple[Tuple[str, str], ...] = ()
    """For the Kivy config: the [input] section to write. Once the file exists only the
    number of touch readers is enforced (Kivy rewrites the file when it upgrades it, and a
    panel may need its own provider line, say hidinput for a resistive one)."""
    enforce: bool = True
    """For a directory: fix its mode and owner if it exists. Off for folders in a user's
    home (~/.config ...), which are only made when missing."""

    def desired(self, current: Optional[bytes]) -> Optional[bytes]:
        """The bytes this file should hold given what it holds now; None means leave it."""
        if not self.kivy_input:
            return None if current == self.content else self.content
        if current is not None and touch_readers(_input_section(current)) == touch_readers(dict(self.kivy_input)):
            return None
        try:
            return with_input_section(current if current is not None else self.content, self.kivy_input)
        except UnicodeDecodeError:  # a mangled file: start again from the template
            return with_input_section(self.content, self.kivy_input)


@dataclass(frozen=True)
class Layout:
    """Everything one set-up puts on the machine, in the order it is made."""

    mode: str
    items: Tuple[Item, ...]
    desktop_user: Optional[str] = None
    data_dirs: Tuple[PurePosixPath, ...] = ()
    """Removed only by --purge: the log, the settings, Kivy's home."""
    cache_dirs: Tuple[PurePosixPath, ...] = ()
    """Removed by --uninstall: everything in them can be made again."""


@dataclass(frozen=True)
class DesktopUser:
    name: str
    home: PurePosixPath
    owner: str


def kept_dirs(mode: str, desktop: Optional[DesktopUser]) -> Tuple[Tuple[PurePosixPath, ...], Tuple[PurePosixPath, ...]]:
    """(data dirs, cache dirs) of a set-up: data goes only with --purge, caches with --uninstall."""
    if mode == "console" or desktop is None:
        return (STATE_DIR,), (CACHE_DIR,)
    home = desktop.home
    data = (home / ".local" / "state" / APP, home / ".local" / "share" / APP, home / ".config" / APP)
    return data, (home / ".cache" / APP,)


def source_file(source: Path, relative: str) -> bytes:
    path = source / relative
    if not path.is_file():
        raise InstallError(f"{path} is missing: run the installer from a checkout of home-exercise-kiosk")
    return path.read_bytes()


def layout_for(mode: str, source: Path, desktop: Optional[DesktopUser] = None) -> Layout:
    guide = Item(PREFIX / "doc" / "raspberry-pi.md", content=source_file(source, "docs/raspberry-pi.md"))
    kivy_template = source_file(source, "systemd/kivy/config.ini")
    prefix_dirs = (Item(PREFIX, "dir", mode=0o755), Item(PREFIX / "doc", "dir", mode=0o755))
    items: Tuple[Item, ...]
    if mode == "console":
        owner = f"{SERVICE_USER}:{SERVICE_USER}"
        items = (
            Item(SYSUSERS, content=source_file(source, "systemd/sysusers.d/home-exercise-kiosk.conf")),
            *prefix_dirs,
            guide,
            Item(STATE_DIR, "dir", mode=0o750, owner=owner),
            Item(STATE_DIR / "data", "dir", mode=0o750, owner=owner),
            Item(STATE_DIR / "kivy", "dir", mode=0o750, owner=owner),
            Item(STATE_DIR / "kivy" / "config.ini", content=kivy_template, mode=0o640, owner=owner,
                 kivy_input=INPUT_PROVIDERS["console"]),
            Item(CACHE_DIR, "dir", mode=0o750, owner=owner),
            Item(COMMAND, content=source_file(source, "systemd/bin/kiosk"), mode=0o755),
            Item(SYSTEM_UNIT, content=source_file(source, "systemd/system/home-exercise-kiosk.service")),
        )
        data, cache = kept_dirs(mode, None)
        return Layout(mode, items, data_dirs=data, cache_dirs=cache)
    assert desktop is not None
    home, owner = desktop.home, desktop.owner
    state = home / ".local" / "state" / APP
    items = (
        *prefix_dirs,
        guide,
        Item(home / ".config", "dir", mode=0o700, owner=owner, enforce=False),
        Item(home / ".config" / "autostart", "dir", mode=0o755, owner=owner, enforce=False),
        Item(home / ".local", "dir", mode=0o700, owner=owner, enforce=False),
        Item(home / ".local" / "state", "dir", mode=0o700, owner=owner, enforce=False),
        Item(state, "dir", mode=0o700, owner=owner),
        Item(state / "kivy", "dir", mode=0o700, owner=owner),
        Item(state / "kivy" / "config.ini", content=kivy_template, mode=0o644, owner=owner,
             kivy_input=INPUT_PROVIDERS["desktop"]),
        Item(home / ".config" / "autostart" / f"{APP}.desktop", mode=0o644, owner=owner,
             content=source_file(source, "systemd/autostart/home-exercise-kiosk.desktop")),
        Item(COMMAND, "link", target=str(VENV / "bin" / "kiosk")),
        Item(USER_UNIT, content=source_file(source, "systemd/user/home-exercise-kiosk.service")),
    )
    data, cache = kept_dirs(mode, desktop)
    return Layout(mode, items, desktop_user=desktop.name, data_dirs=data, cache_dirs=cache)


# --------------------------------------------------------------------------- Kivy's config

def _input_section(text: bytes) -> Optional[Dict[str, str]]:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        return None
    return dict(parser.items("input")) if parser.has_section("input") else None


def touch_readers(section: Optional[Mapping[str, str]]) -> Optional[int]:
    """How many [input] entries read touch devices themselves (all but Kivy's mouse provider).

    None for a missing section: Kivy would then add its default probesysfs entry beside
    the mouse, the double tap this set-up exists to prevent.
    """
    if section is None:
        return None
    return sum(1 for value in section.values() if value.split(",", 1)[0].strip() != "mouse")


def with_input_section(text: bytes, providers: Iterable[Tuple[str, str]]) -> bytes:
    """`text` with its [input] section replaced by exactly `providers`; the rest kept as it is."""
    kept: List[str] = []
    inside = False
    for line in text.decode("utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            inside = stripped == "[input]"
        if not inside:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    kept += ["", "[input]", "# One provider per touchscreen: two would count every tap twice.",
             *(f"{key} = {value}" for key, value in providers)]
    return ("\n".join(kept) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- the installer

@dataclass
class Installer:
    host: Host
    source: Path
    changes: List[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        self.changes.append(message)
        print(f"  {message}", flush=True)

    # ------------------------------------------------------------------ record
    def read_record(self) -> Optional[Dict[str, Any]]:
        path = self.host.path(RECORD)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InstallError(f"{path} is unreadable ({error}); remove it to start afresh") from None
        return data if isinstance(data, dict) else None

    def write_record(self, layout: Layout, digest: str) -> None:
        """installed.json: what --uninstall removes, and the fingerprint of the app last installed."""
        entries = []
        for item in layout.items:
            entry: Dict[str, Any] = {"path": str(item.path), "kind": item.kind}
            if item.kind == "link":
                entry["target"] = item.target
            else:
                entry.update(mode=f"{item.mode:04o}", owner=item.owner)
            if item.kind == "file":
                entry["sha256"] = None if item.kivy_input else hashlib.sha256(item.content).hexdigest()
            entries.append(entry)
        record = {"app": APP, "mode": layout.mode, "desktop_user": layout.desktop_user,
                  "source_sha256": digest, "packages": list(APT_PACKAGES),
                  "data_dirs": [str(d) for d in layout.data_dirs], "cache_dirs": [str(d) for d in layout.cache_dirs],
                  "paths": entries}
        self.write_if_changed(RECORD, (json.dumps(record, indent=2) + "\n").encode("utf-8"), 0o644)

    # ------------------------------------------------------------------ files
    def write_if_changed(self, target: PurePosixPath, content: bytes, mode: int) -> bool:
        path = self.host.path(target)
        current = path.read_bytes() if path.is_file() else None
        if current == content:
            return False
        self.ensure_parents(target)
        _write_atomic(path, content, mode)
        return True

    def ensure_parents(self, target: PurePosixPath) -> None:
        missing = []
        parent = self.host.path(target).parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o755)
            os.chmod(folder, 0o755)

    def check_not_foreign(self, layout: Layout, record: Optional[Dict[str, Any]]) -> None:
        """Refuse to overwrite a file that other software put where ours would go."""
        ours = {entry["path"] for entry in (record or {}).get("paths", [])}
        for item in layout.items:
            path = self.host.path(item.path)
            if str(item.path) in ours or item.kind == "dir" or item.kivy_input:
                continue
            if item.kind == "link":
                foreign = path.exists() or path.is_symlink()
                if path.is_symlink() and os.readlink(path) == item.target:
                    foreign = False
            else:
                foreign = path.exists() and (not path.is_file() or path.read_bytes() != item.content)
            if foreign:
                raise InstallError(f"{item.path} exists and was not put there by this installer; "
                                   f"move it away and run the installer again")

    def apply(self, item: Item) -> bool:
        """Make one item as it should be; True if anything changed."""
        path = self.host.path(item.path)
        if item.kind == "link":
            if path.is_symlink() and os.readlink(path) == item.target:
                return False
            self.ensure_parents(item.path)
            if path.is_symlink() or path.exists():
                path.unlink()
            path.symlink_to(item.target)
            self.note(f"linked {item.path} -> {item.target}")
            return True
        if item.kind == "dir":
            if not path.is_dir():
                self.ensure_parents(item.path)
                path.mkdir(mode=item.mode)
                os.chmod(path, item.mode)
                self.host.chown(path, item.owner)
                self.note(f"made {item.path}/")
                return True
            if not item.enforce:
                return False
        else:
            current = path.read_bytes() if path.is_file() else None
            content = item.desired(current)
            if content is not None:
                self.ensure_parents(item.path)
                _write_atomic(path, content, item.mode)
                self.host.chown(path, item.owner)
                self.note(f"{'wrote' if current is None else 'updated'} {item.path}")
                return True
        changed = False
        if (path.stat().st_mode & 0o7777) != item.mode:
            os.chmod(path, item.mode)
            self.note(f"set mode {item.mode:04o} on {item.path}")
            changed = True
        if not self.host.owned_by(path, item.owner):
            self.host.chown(path, item.owner)
            self.note(f"set owner {item.owner} on {item.path}")
            changed = True
        return changed

    # ------------------------------------------------------------------ install
    def install(self, mode: str, desktop: Optional[DesktopUser]) -> List[str]:
        record = self.read_record()
        if record is not None and (record.get("mode"), record.get("desktop_user")) != (
                mode, desktop.name if desktop else None):
            was = record.get("mode")
            who = f" for {record.get('desktop_user')}" if record.get("desktop_user") else ""
            raise InstallError(f"already installed as the {was} set-up{who}; run with --uninstall first")
        layout = layout_for(mode, self.source, desktop)
        self.check_not_foreign(layout, record)
        digest = source_digest(self.source)

        missing = self.host.missing_packages(APT_PACKAGES)
        if missing:
            self.note(f"installing packages: {' '.join(missing)}")
            self.host.run(["apt-get", "update", "-qq"], "refresh the package lists")
            self.host.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                          "install the system packages", facts=[("packages", missing)])
        if mode == "console" and not self.host.user_ready(SERVICE_USER, SERVICE_GROUPS):
            self.apply(next(item for item in layout.items if item.path == SYSUSERS))
            self.note(f"creating the user {SERVICE_USER} (groups {', '.join(SERVICE_GROUPS)})")
            self.host.run(["systemd-sysusers", str(SYSUSERS)], "create the service user",
                          facts=[("user", (SERVICE_USER, SERVICE_GROUPS))])

        unit_changed = False
        for item in layout.items:
            changed = self.apply(item)
            unit_changed |= changed and item.path in (SYSTEM_UNIT, USER_UNIT)

        app_changed = self.install_app(record, digest)
        self.write_record(layout, digest)
        if mode == "console":
            self.start_console_service(unit_changed, app_changed)
        else:
            self.reload_user_units(desktop, unit_changed)
        return self.changes

    def install_app(self, record: Optional[Dict[str, Any]], digest: str) -> bool:
        python = VENV / "bin" / "python"
        if not self.host.venv_exists(VENV):
            self.note(f"making the virtual environment {VENV}")
            self.host.run([_system_python(), "-m", "venv", str(VENV)], "make the virtual environment",
                          facts=[("venvs", str(VENV))])
        elif record is not None and record.get("source_sha256") == digest:
            return False
        self.note(f"installing the app from {self.source} into {VENV}")
        self.host.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                       str(self.source)], "install the app and its Python packages")
        return True

    def start_console_service(self, unit_changed: bool, app_changed: bool) -> None:
        if not self.host.systemd_running():
            if not self.host.unit_enabled(UNIT):
                self.host.run(["systemctl", "enable", UNIT], "start the kiosk at every boot", facts=[("enabled", UNIT)])
            print("  systemd is not running here: the kiosk starts at the next boot", flush=True)
            return
        if unit_changed:
            self.host.run(["systemctl", "daemon-reload"], "load the new unit")
        if not self.host.unit_enabled(UNIT):
            self.host.run(["systemctl", "enable", UNIT], "start the kiosk at every boot", facts=[("enabled", UNIT)])
        if unit_changed or app_changed or not self.host.unit_active(UNIT):
            self.host.run(["systemctl", "restart", UNIT], "start the kiosk now", facts=[("active", UNIT)])

    def reload_user_units(self, desktop: Optional[DesktopUser], unit_changed: bool) -> None:
        if unit_changed and desktop is not None and self.host.systemd_running():
            self.host.run(["systemctl", "--user", f"--machine={desktop.name}@.host", "daemon-reload"],
                          f"let {desktop.name}'s running session see the new unit", check=False)

    # ------------------------------------------------------------------ uninstall
    def uninstall(self, purge: bool, desktop: Optional[DesktopUser] = None) -> List[str]:
        """Take off what installed.json lists. Without it (removed already) --purge still
        removes the data of the set-up named on the command line."""
        record = self.read_record()
        if record is None:
            if purge:
                for folder in sum(kept_dirs("desktop" if desktop else "console", desktop), ()):
                    self.remove(folder)
                if desktop is None and self.host.user_exists(SERVICE_USER):
                    self.remove_service_user()
            return self.changes
        mode = record.get("mode")
        data_dirs = [PurePosixPath(p) for p in record.get("data_dirs", [])]
        if mode == "console":
            self.stop_console_service()
        elif self.host.systemd_running() and record.get("desktop_user"):
            self.host.run(["systemctl", "--user", f"--machine={record['desktop_user']}@.host", "stop", UNIT],
                          "stop the kiosk in the running desktop session", check=False)
        for entry in reversed(record.get("paths", [])):
            target = PurePosixPath(entry["path"])
            inside_data = any(target == folder or folder in target.parents for folder in data_dirs)
            if entry.get("kind") != "dir" and not inside_data:
                self.remove(target)
        for folder in [PurePosixPath(p) for p in record.get("cache_dirs", [])] + (data_dirs if purge else []):
            self.remove(folder)
        self.remove(PREFIX)
        if mode == "console" and self.host.systemd_running():
            self.host.run(["systemctl", "daemon-reload"], "forget the removed unit")
        if purge and mode == "console" and self.host.user_exists(SERVICE_USER):
            self.remove_service_user()
        kept = [str(folder) for folder in data_dirs if self.host.path(folder).exists()]
        if kept:
            print(f"  kept the session log and settings: {', '.join(kept)} (--purge removes them)", flush=True)
        return self.changes

    def stop_console_service(self) -> None:
        if self.host.systemd_running() and (self.host.unit_enabled(UNIT) or self.host.unit_active(UNIT)):
            self.host.run(["systemctl", "disable", "--now", UNIT], "stop the kiosk and no longer start it at boot",
                          facts=(("no-enabled", UNIT), ("no-active", UNIT)))
        elif self.host.unit_enabled(UNIT):
            self.host.run(["systemctl", "disable", UNIT], "no longer start the kiosk at boot",
                          facts=(("no-enabled", UNIT),))

    def remove_service_user(self) -> None:
        self.host.run(["userdel", SERVICE_USER], "remove the service user", facts=(("no-user", SERVICE_USER),))
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


def find_desktop_user(name: str, host: Host) -> DesktopUser:
    """The desktop user's home and owner; under --root an unknown user is assumed at /home/NAME."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if not host.staged:
            raise InstallError(f"there is no user {name!r} on this machine") from None
        return DesktopUser(name, PurePosixPath("/home") / name, f"{name}:{name}")
    try:
        group = grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        group = str(entry.pw_gid)
    return DesktopUser(name, PurePosixPath(entry.pw_dir), f"{name}:{group}")


# --------------------------------------------------------------------------- helpers

def source_digest(source: Path) -> str:
    """A fingerprint of what pip would install from the checkout, so an unchanged app is not reinstalled."""
    digest = hashlib.sha256()
    roots = ["pyproject.toml", "README.md", "docs/safety.md", "kiosk", "exercises", "media"]
    for name in roots:
        top = source / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _system_python() -> str:
    """The venv is made by the system's python3, even when the installer runs from another venv."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def _write_atomic(path: Path, content: bytes, mode: int) -> None:
    """Temp file beside it, fsync, rename: a power cut never leaves half a unit file."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


# --------------------------------------------------------------------------- command line

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="systemd/install.sh",
        description="Install home-exercise-kiosk as a service that starts at boot (run as root).")
    parser.add_argument("--desktop", metavar="USER",
                        help="the desktop set-up: start the app in USER's desktop session "
                             "(default: the console set-up, a system service on tty1)")
    parser.add_argument("--uninstall", action="store_true",
                        help="remove what the installer added; the session log and settings stay")
    parser.add_argument("--purge", action="store_true",
                        help="with --uninstall: remove the session log, the settings and the user kiosk too")
    parser.add_argument("--root", metavar="DIR", type=Path,
                        help="install into the staging tree DIR; system commands are only recorded "
                             "in DIR/staged-host.json")
    parser.add_argument("--source", metavar="DIR", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout to install from (default: this one)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.purge and not args.uninstall:
            raise InstallError("--purge goes with --uninstall")
        if args.root is not None:
            args.root.mkdir(parents=True, exist_ok=True)
            host: Host = StagedHost(args.root.resolve())
        else:
            if os.geteuid() != 0:
                raise InstallError("run it as root: sudo systemd/install.sh")
            host = RealHost(Path("/"))
        installer = Installer(host, args.source.resolve())
        desktop = find_desktop_user(args.desktop, host) if args.desktop else None
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
