"""The pure core: typed records, the library, timelines, sessions, streaks, clock rules. No Kivy, pyttsx3, TinyDB or file writes; the time is passed in."""
