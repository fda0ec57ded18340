"""Objective measures of the models: reconstruction, realism, coverage, continuity, artefacts.

Imports models, preprocessing, librosa and NumPy; never the GUI or sound devices.
"""
