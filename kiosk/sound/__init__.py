"""The voice and the sound: the cue speaker, the pyttsx3 worker process, playback."""
