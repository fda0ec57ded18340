"""The audio package's error: ``str(error)`` is a one-line reason meant for the user."""


class AudioError(Exception):
    """Something the user asked of playback or export cannot be done; the message says why.

    A missing or failing sound device is *not* an error: the player reports it through
    ``Player.available`` and ``Player.reason`` instead, so that the rest of the app works on.
    """


class OutputExists(AudioError):
    """The file to write exists and the caller did not ask to replace it."""
