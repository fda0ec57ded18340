"""The web app: an ASGI server (Starlette on uvicorn) and the one page it serves.

- ``catalogue``: the models a server process offers, loaded once through one loader,
  the default model (best by the evaluation report) and a plain-words line for each;
- ``sound``: one latent point to the bytes of a 16-bit WAV;
- ``server``: the HTTP API and the page (``create_app``);
- ``static/``: the page itself, plain HTML, CSS and JavaScript with no build step.

Imports the models' inference engine, audio's export and NumPy; never TensorFlow or
PySimpleGUI (DESIGN.md), so a server process starts in a fraction of a second per model.
"""

#: The modules other packages use (the layering test holds them to this list).
__all__ = ["catalogue", "decoding", "limits", "ops", "server"]
