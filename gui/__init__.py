"""The evaluation window: layout, state, event handlers and the worker threads.

The only package that imports PySimpleGUI. It drives ``models``, ``audio`` and
``preprocessing`` and never runs TensorFlow or file work on the GUI thread.
"""

#: The modules other packages use (the layering test holds them to this list).
__all__ = ["errors", "keys", "layout", "state", "window"]
