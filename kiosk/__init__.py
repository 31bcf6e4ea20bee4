"""home-exercise-kiosk: voice-guided foot and hip mobility sessions on a touchscreen."""

__version__ = "0.1.0"
