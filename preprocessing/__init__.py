"""Turning drum one-shots into a dataset: reading, aligning, labelling, loading.

Imports librosa, soundfile and NumPy; never TensorFlow, never the GUI.
"""
