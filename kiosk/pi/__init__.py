"""The Raspberry Pi: the installer behind systemd/install.sh, the systemd watchdog, Kivy's input config."""
