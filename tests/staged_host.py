"""StagedHost: the installer's host in tests, a Raspberry Pi that remembers what its commands did.

Like a rehearsal (--root) it writes the files under a folder and lists the commands in
ROOT/staged-host.json; it also keeps there what each command would have done (packages,
users, the venv, the unit's state) and answers the installer's questions from that, so a
second run can be shown to change nothing. It starts as a fresh Pi OS with systemd running.
The installed app's answers (the MQTT broker in the settings) come from this checkout's app,
run by the test's own Python; host names resolve from the table `names`, never the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Dict, List, Mapping, Optional, Sequence

from kiosk.pi.install import RehearsalHost
from kiosk.pi.network_dropin import UnknownAddress

CHECKOUT = Path(__file__).resolve().parent.parent


class StagedHost(RehearsalHost):
    def __init__(self, root: Path, names: Optional[Mapping[str, Sequence[str]]] = None,
                 app_fails: bool = False) -> None:
        super().__init__(root)
        self.names = dict(names or {})
        self.app_fails = app_fails  # the installed app cannot run (a broken venv, say)
        ledger = root / self.LEDGER
        self.ledger = json.loads(ledger.read_text(encoding="utf-8")) if ledger.exists() else {
            "commands": [], "packages": [], "users": {}, "venvs": [], "enabled": [], "active": []}

    def ask(self, argv: Sequence[str]) -> Optional[str]:
        argv = list(argv)
        users: Dict[str, List[str]] = self.ledger["users"]
        if argv[0] == "dpkg-query":
            return "install ok installed" if argv[-1] in self.ledger["packages"] else None
        if argv[:2] == ["id", "-nG"]:
            return " ".join([argv[2], *users[argv[2]]]) if argv[2] in users else None
        if argv[1:] == ["--version"]:  # the venv's python
            return "Python 3" if str(PurePosixPath(argv[0]).parent.parent) in self.ledger["venvs"] else None
        if argv[1:4] == ["-I", "-m", "kiosk.pi.network_dropin"]:  # the installed app reads its settings
            if self.app_fails or str(PurePosixPath(argv[0]).parent.parent) not in self.ledger["venvs"]:
                return None
            result = subprocess.run([sys.executable, "-m", "kiosk.pi.network_dropin", *argv[4:]], capture_output=True,
                                    text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(CHECKOUT)))
            assert result.returncode == 0, result.stderr
            return result.stdout
        if argv[0] == "systemctl" and argv[1] in ("is-enabled", "is-active"):
            return "" if argv[-1] in self.ledger[argv[1][3:]] else None
        if argv == ["systemd-notify", "--booted"]:
            return ""
        raise AssertionError(f"the staged host does not know the question {argv}")

    def resolve(self, name: str, port: int) -> List[str]:
        if name not in self.names:
            raise UnknownAddress(f"{name} could not be looked up (the staged host knows no such name)")
        return list(self.names[name])

    def run(self, argv: Sequence[str], why: str, check: bool = True) -> None:
        self.establish(list(argv))
        super().run(argv, why, check)

    def establish(self, argv: List[str]) -> None:
        """What the command would have done to the machine."""
        state, users = self.ledger, self.ledger["users"]
        if argv[:2] == ["apt-get", "install"]:
            state["packages"] = sorted({*state["packages"], *(name for name in argv[2:] if not name.startswith("-"))})
        elif argv[0] == "systemd-sysusers":
            for line in self.path(PurePosixPath(argv[1])).read_text(encoding="utf-8").splitlines():
                fields = line.split()
                if fields[:1] == ["u"]:
                    users.setdefault(fields[1], [])
                elif fields[:1] == ["m"]:
                    users[fields[1]] = sorted({*users[fields[1]], fields[2]})
        elif argv[1:3] == ["-m", "venv"]:
            state["venvs"] = sorted({*state["venvs"], argv[3]})
        elif argv[0] == "userdel":
            users.pop(argv[1], None)
        elif argv[0] == "systemctl" and argv[1] in ("enable", "restart"):
            kind = "enabled" if argv[1] == "enable" else "active"
            state[kind] = sorted({*state[kind], argv[-1]})
        elif argv[0] == "systemctl" and argv[1] == "disable":
            for kind in ("enabled", "active") if "--now" in argv else ("enabled",):
                state[kind] = [unit for unit in state[kind] if unit != argv[-1]]
