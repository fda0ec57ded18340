"""Playback on a background PortAudio stream, and WAV export with recall data.

Imports sounddevice, soundfile and NumPy; never TensorFlow, never the GUI.
"""

#: The modules other packages use (the layering test holds them to this list).
__all__ = ["errors", "export", "kit", "level", "mixer", "pattern", "player", "recall", "song"]
