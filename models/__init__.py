"""The fourteen generative models: registry, architectures, training and inference.

Imports only Keras (TensorFlow) and NumPy; never touches sound devices or the GUI.
"""
