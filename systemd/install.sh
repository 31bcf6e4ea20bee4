#!/bin/sh
# Install home-exercise-kiosk on a Raspberry Pi so it starts at every boot, or remove it.
#   sudo systemd/install.sh                      console set-up (Pi OS Lite): a service on tty1
#   sudo systemd/install.sh --desktop pi         desktop set-up: starts in pi's desktop session
#   sudo systemd/install.sh --uninstall [--purge]
#   systemd/install.sh --root DIR                rehearse into DIR; commands only recorded
# Running it again changes nothing; after `git pull` it updates what changed. The work is
# done by kiosk/pi/install.py on the system's python3 (standard library only); the guide is
# docs/raspberry-pi.md.
set -eu
checkout=$(cd "$(dirname "$0")/.." && pwd)
# Run as root from the owner's checkout: leave no root-owned __pycache__ behind in it.
PYTHONPATH="$checkout${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    exec python3 -m kiosk.pi.install --source "$checkout" "$@"
