"""The generative models: registry, architectures, training and inference.

Imports only Keras (TensorFlow) and NumPy; never touches sound devices or the GUI.
``models.registry``, ``models.zoo``, ``models.trained_folder`` and the inference engine
(``models.engine``, ``models.numpy_layers``: NumPy and h5py) load without TensorFlow;
training, evaluation and ``models.keras_loader`` (the Keras reference) import it.
"""

import os

#: The modules other packages use (the layering test holds them to this list).
__all__ = [
    "card",
    "engine",
    "errors",
    "families",
    "family_pads",
    "imported",
    "imported_formats",
    "importing",
    "interface",
    "keras_loader",
    "numpy_network",
    "registry",
    "saving",
    "stft_distance",
    "synth_fit",
    "trained_folder",
    "training",
    "variation",
    "zoo",
]

# Keras 3 picks its backend at import: this package is written for TensorFlow's.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from models import tensorflow_logs

# TensorFlow 2.21 logs at start-up past TF_CPP_MIN_LOG_LEVEL: its first import goes quiet
tensorflow_logs.install()
