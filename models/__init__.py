"""The fourteen generative models: registry, architectures, training and inference.

Imports only Keras (TensorFlow) and NumPy; never touches sound devices or the GUI.
``models.registry`` and ``models.zoo`` load without TensorFlow; the rest imports it.
"""
import os

# Keras 3 picks its backend at import: this package is written for TensorFlow's.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
