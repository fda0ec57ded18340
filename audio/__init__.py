"""Playback on a background PortAudio stream, and WAV export with recall data.

Imports sounddevice, soundfile and NumPy; never TensorFlow, never the GUI.
"""
