"""The console service's network for MQTT: the drop-in the installer writes when `mqtt:` is on.

The console unit has no network (PrivateNetwork=yes, IPAddressDeny=any). With a broker set
in its config.yaml, the installer adds a drop-in that gives the service the host's network
but lets IP packets through only to and from the broker's addresses (and, when the broker
is given by name, the DNS servers that name is looked up with). IPAddressDeny=any stays
from the unit, so every other address is refused.

The port is not enforced. systemd filters IP traffic by address only: IPAddressAllow= has
no port, SocketBindAllow=/SocketBindDeny= govern bind(2) (the local side), not the remote
port a connect(2) goes to, and IPEgressFilterPath= would need a BPF program of our own,
loaded and pinned before the service starts. So every port of an allowed address is
reachable. What the drop-in does add is SocketBindDeny=any: the app may not bind(2) any
IP port (so cannot listen on a chosen one; connecting needs no bind). That needs a systemd
built with its BPF framework (`systemctl --version` shows +BPF_FRAMEWORK); Debian
Bookworm's systemd 252 is built without it (-BPF_FRAMEWORK) and ignores the line: the
service still starts, systemd only logs at debug level that it could not install it.

Standard library only: the installer runs on the system's python3. `main` (run as
`python -m kiosk.pi.network_dropin CONFIG` with the installed venv's python, which has
PyYAML) reads the settings the way the app does and prints the broker as JSON.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from typing import Callable, Iterable, List, Optional, Sequence

FILE_NAME = "50-installer-mqtt.conf"
"""In /etc/systemd/system/home-exercise-kiosk.service.d/. Drop-ins apply in the order of
their names, so one of the owner's own (`systemctl edit` writes override.conf) comes later
and wins."""

LOOPBACK = ("127.0.0.1", "::1")
LOCALHOST_NAMES = ("localhost", "localhost.")


class UnknownAddress(Exception):
    """The broker's name could not be turned into an address; said in one line."""


def literal_address(host: str) -> Optional[str]:
    """The address `host` is, written as systemd takes it (no %zone, no brackets); None for a name."""
    candidate = host.strip().strip("[]").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def is_localhost(host: str) -> bool:
    return host.strip().lower() in LOCALHOST_NAMES


def needs_dns(host: str) -> bool:
    """A name other than localhost is looked up again by the app each time it connects."""
    return literal_address(host) is None and not is_localhost(host)


def ordered(addresses: Iterable[str]) -> List[str]:
    """Each address once, IPv4 before IPv6, in numeric order: the same drop-in every run."""
    unique = {ipaddress.ip_address(address) for address in addresses}
    return [str(address) for address in sorted(unique, key=lambda a: (a.version, a.packed))]


def resolve(host: str, port: int) -> List[str]:
    """The addresses this machine finds for `host` (TCP), as getaddrinfo gives them."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnknownAddress(f"{host} could not be looked up ({error})") from None
    addresses = [literal_address(str(entry[4][0])) for entry in found if entry[0] in (socket.AF_INET, socket.AF_INET6)]
    if not any(addresses):
        raise UnknownAddress(f"{host} has no IPv4 or IPv6 address")
    return [address for address in addresses if address]


def broker_addresses(host: str, port: int, resolver: Callable[[str, int], List[str]] = resolve) -> List[str]:
    """The addresses the app may reach the broker at: a literal address as it is, localhost
    as both loopback addresses, a name as `resolver` (getaddrinfo) finds it now."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    if is_localhost(host):
        return list(LOOPBACK)
    return ordered(resolver(host, port))


def dns_servers(resolv_conf: Optional[str]) -> List[str]:
    """The name servers /etc/resolv.conf lists (systemd-resolved's stub is 127.0.0.53),
    in its order; none listed (or no file) means glibc asks this machine: the loopback addresses."""
    servers: List[str] = []
    for line in (resolv_conf or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            address = literal_address(fields[1])
            if address is not None and address not in servers:
                servers.append(address)
    return servers or list(LOOPBACK)


def dropin_text(host: str, port: int, config: str, broker: Sequence[str], dns: Sequence[str] = ()) -> str:
    """The drop-in for a broker at `host`:`port` (from the settings file `config`), reachable at
    the addresses `broker`, its name looked up through the servers `dns` (empty for an address)."""
    if not broker:
        raise ValueError("a broker needs at least one address")
    extra_dns = [server for server in dns if server not in broker]
    looked_up = (["# The broker's name was looked up when the installer ran: if its address changes, run the",
                  "# installer again. (A fixed address for the broker, given as the mqtt host, needs no DNS.)"]
                 if needs_dns(host) else [])
    lines = [
        "# Written by the kiosk's installer (systemd/install.sh, kiosk/pi/network_dropin.py) from the",
        f"# mqtt: settings in {config}: host {host}, port {port}.",
        "# The installer rewrites or removes this file at every run: after changing the mqtt host or",
        "# port, run `sudo systemd/install.sh` again from the checkout. Changes of your own belong in",
        "# another drop-in (`sudo systemctl edit home-exercise-kiosk` writes override.conf).",
        "#",
        "# The unit has no network (PrivateNetwork=yes, IPAddressDeny=any). This gives it the host's",
        "# network, but IP packets pass only to and from the addresses below; IPAddressDeny=any from",
        "# the unit refuses every other one.",
        *looked_up,
        f"# The port ({port}) is NOT enforced: systemd filters by address, not by port, so every port",
        "# of these addresses is reachable. SocketBindDeny=any refuses bind(2) to any IP port (no",
        "# listening on a chosen port) where systemd was built with its BPF framework (`systemctl",
        "# --version` shows +BPF_FRAMEWORK); Debian Bookworm's systemd 252 was not, and ignores it.",
        "",
        "[Service]",
        "PrivateNetwork=no",
        "RestrictAddressFamilies=",
        "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
        f"# The MQTT broker, {host}",
        f"IPAddressAllow={' '.join(broker)}",
    ]
    if extra_dns:
        lines += ["# The DNS servers in /etc/resolv.conf, to look the broker's name up at run time",
                  f"IPAddressAllow={' '.join(extra_dns)}"]
    lines.append("SocketBindDeny=any")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the broker the settings file names, as the app reads it: {"host": ..., "port": ...}
    (host "" when MQTT is off). Needs the app's Python packages (PyYAML)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m kiosk.pi.network_dropin CONFIG.yaml", file=sys.stderr)
        return 2
    from pathlib import Path

    from kiosk.config import load_settings

    settings, _problems = load_settings(Path(args[0]))
    mqtt = settings.mqtt
    print(json.dumps({"host": mqtt.host if mqtt.enabled else "", "port": mqtt.port}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
