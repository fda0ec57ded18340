"""The error types of preprocessing. Each message is one line meant for the user."""


class PreprocessingError(Exception):
    """Base of every error preprocessing raises on purpose; ``str(e)`` is a one-line reason."""


#: The kind of a file with more channels than are mixed down (the window words its advice apart).
TOO_MANY_CHANNELS = "too many channels"


class AudioInputError(PreprocessingError):
    """A source file cannot become a training sample.

    Parameters
    ----------
    reason : str
        One line for the user, e.g. ``"silent (peak -inf dBFS)"``.
    kind : str
        A short, fixed name for the kind of problem (``"silent"``, ``"too long"``...),
        used to count failures by reason in the batch summary.
    """

    def __init__(self, reason: str, kind: str = "unreadable"):
        super().__init__(reason)
        self.kind = kind
        self.info = None  # the reader attaches the file's header facts when it knows them


class SettingsError(PreprocessingError, ValueError):
    """A preprocessing setting that can never mean anything (a negative length...)."""


class DatasetError(PreprocessingError):
    """A folder that is not a usable preprocessed dataset."""
