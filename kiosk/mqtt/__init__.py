"""The network side of Home Assistant and the household log: optional (`pip install
'home-exercise-kiosk[mqtt]'`); the kiosk works the same without it."""
