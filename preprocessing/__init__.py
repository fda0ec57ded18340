"""Turning drum one-shots into a dataset: reading, aligning, labelling, loading.

Imports librosa, soundfile and NumPy; never TensorFlow, never the GUI.
"""

#: The modules other packages use (the layering test holds them to this list).
__all__ = ["dataset", "errors", "pipeline", "preview", "reader", "settings", "sources", "workers"]
