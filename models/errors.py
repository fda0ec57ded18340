"""The models package's errors: each carries a one-line reason meant for the user."""


class ModelError(Exception):
    """Base of the models package's errors; ``str(error)`` is a one-line reason."""


class UnknownModelError(ModelError, KeyError):
    """A name that is not in the registry; the message lists the valid names."""

    def __str__(self):
        # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else "unknown model"


class ModelSettingsError(ModelError, ValueError):
    """Settings a model cannot be built with (e.g. a length its strides cannot divide)."""


class ModelUnavailableError(ModelError):
    """A trained model's file is missing or damaged; the message names the file."""


class NoEncoderError(ModelError):
    """The model has no encoder (the GAN)."""


class TrainingError(ModelError):
    """Training could not go on (e.g. the loss became NaN); the reason says what to do."""


class ModelInputError(ModelError, ValueError):
    """Points or audio of the wrong shape or with non-finite values."""
