"""The packages the window drives, behind one small object the workers call.

Every import of ``models``, ``audio`` and ``preprocessing`` happens inside a method, and
the methods are only called from worker threads, so nothing heavy loads on the GUI thread.
Models run on the NumPy engine (:mod:`models.engine`): the window never imports TensorFlow.
Tests may hand the workers another object with these methods.
"""

import importlib
from pathlib import Path

import numpy as np

from gui.state import ModelEntry, ModelInfo


def _user_errors():
    """The exception types whose message is a one-line reason for the user."""
    from audio.errors import AudioError
    from models.errors import ModelError
    from preprocessing.errors import PreprocessingError

    return (ModelError, PreprocessingError, AudioError, OSError)


def window_model_names(folder):
    """The models the window lists: the registry's listed ones, then each conditioned model
    that is not listed yet (``listed=False`` until its model ships) but whose folder is in
    ``folder``, so that a zoo holding ddsp_cvae shows it (the web app and ``app.py models``
    keep the registry's list)."""
    from models.registry import MODEL_NAMES, REGISTRY  # the registry never imports TensorFlow

    extra = tuple(
        name for name, spec in REGISTRY.items() if spec.conditioned and name not in MODEL_NAMES and (Path(folder) / name).is_dir()
    )
    return MODEL_NAMES + extra


def model_groups(name, spec):
    """The model list's group and subgroup of a registry entry.

    The registry's ``list_group`` (the dense autoencoders by size, their activations the
    rows; the VAEs together; the others by their group); one level keeps the list narrow.
    """
    return spec.list_group, ""


#: The model list's group of the imported models (``app.py import-model``).
IMPORTED_LIST_GROUP = "Imported"


def imported_folders(folder):
    """Where the window finds imported models: the models folder (``--models``), then the
    user's own zoo (where ``app.py import-model`` writes by default)."""
    from models.imported import user_models_folder

    return (Path(folder), user_models_folder())


def imported_folder(name, folder):
    """The first of :func:`imported_folders` that holds the imported model ``name``."""
    from models.imported import is_imported_folder

    return next((where for where in imported_folders(folder) if is_imported_folder(where, name)), Path(folder))


def imported_model_names(folder):
    """The imported models the window lists, in order (a name found twice: the first);
    read from the folders' cards' presence only, so the window lists them at once."""
    from models.imported import imported_names

    names = []
    for where in imported_folders(folder):
        names += [name for name in imported_names(where) if name not in names]
    return names


def imported_entries(folder):
    """The model list's entries of the imported models, with their state."""
    from models.zoo import imported_status

    entries = []
    for name in imported_model_names(folder):
        status = imported_status(name, imported_folder(name, folder))
        entries.append(ModelEntry(name=name, group=IMPORTED_LIST_GROUP, trained=status.trained, reason=status.reason or ""))
    return entries


def axes_of(model):
    """A wide model's axes for :class:`gui.state.ModelInfo`: each one's range and centre, an
    imported model's or a family frame's (ddsp_cvae's); a 2-D model's two are its pad's:
    none given."""
    from models.imported import ImportedModel

    frame = bool(model.family_frame)
    if not isinstance(model, ImportedModel) and not frame:
        return {}
    return {
        "family_frame": frame,
        "axis_ranges": tuple((float(low), float(high)) for low, high in zip(model.low, model.high)),
        "axis_centres": tuple(float(v) for v in model.middle),
    }


class PackageBackend:
    """The real packages: models, audio and preprocessing."""

    def __init__(self):
        self._user_errors = None

    @property
    def user_errors(self):
        if self._user_errors is None:
            self._user_errors = _user_errors()
        return self._user_errors

    # -- models

    def list_models(self, folder):
        """The registry names with their state in ``folder``, in display order."""
        from models.registry import REGISTRY
        from models.zoo import list_models, model_status

        statuses = {status.name: status for status in list_models(folder)}
        entries = []
        for name in window_model_names(folder):
            group, subgroup = model_groups(name, REGISTRY[name])
            status = statuses.get(name) or model_status(name, folder)  # an unlisted conditioned one
            entries.append(
                ModelEntry(
                    name=name,
                    group=group,
                    subgroup=subgroup,
                    trained=bool(status is not None and status.trained),
                    reason=(status.reason if status is not None else "") or "",
                )
            )
        return entries + imported_entries(folder)

    def load(self, name, folder):
        """The trained model, on the NumPy engine (read in the models thread); an imported
        one (not a registry name) on its own decoder, from ``folder`` or the user's zoo."""
        from models.engine import load_runtime
        from models.registry import REGISTRY

        if name not in REGISTRY:
            from models.imported import load_imported

            return load_imported(name, imported_folder(name, folder))
        return load_runtime(name, folder)  # decodes once at load, so the first decode is fast

    def describe(self, model, name=None):
        """Plain data about a loaded model for the GUI thread."""
        card = model.card  # validated when the model was made (a card that fails makes it unavailable)
        return ModelInfo(
            name=model.name,
            kind=model.kind,
            sample_rate=int(model.sample_rate),
            sample_length=int(model.sample_length),
            has_encoder=bool(model.has_encoder),
            card=card,
            latent_range=tuple(float(v) for v in model.latent_range()),
            center=tuple(float(v) for v in model.center),
            codes=model.codes,
            data_folder=card.data_folder,
            conditioned=model.conditioned,
            takes_family=model.takes_family,
            families=tuple(model.families),
            no_family_reason=model.no_family_reason,
            family_pads=model.family_pads,
            no_encoder_reason=model.no_encoder_reason,
            no_codes_reason=model.no_codes_reason,
            has_noise_source=model.has_noise_source,
            latent_dim=int(model.latent_dim),
            pad_axes=tuple(int(axis) for axis in model.pad_axes),
            **axes_of(model),
        )

    def discontinuity(self):
        """The evaluation package's discontinuity map, if it has one.

        Returns
        -------
        callable or None
            ``continuity_map(decode, latent_range, resolution, sample_rate)
            -> (grid_x, grid_y, values (resolution, resolution))``.
        """
        try:
            module = importlib.import_module("evaluation.continuity")
        except ImportError:
            return None
        return getattr(module, "continuity_map", None)

    def family_classifier(self, folder):
        """The zoo's family classifier (``folder/families.json``, the one the kit export names
        its instruments with), or None and why not.

        Returns
        -------
        (evaluation.families.FamilyClassifier or None, str or None)
        """
        from evaluation.families import shipped_classifier

        return shipped_classifier(folder)

    def cached_metrics(self, name, folder):
        """The evaluation's cached record of ``folder/name`` (metrics, continuity), or None."""
        try:
            from evaluation.cache import load_cached_metrics
        except ImportError:
            return None
        return load_cached_metrics(Path(folder) / name)

    def training_features(self, folder):
        """The dataset's sound features for the nearest panel, or None and why not.

        Returns
        -------
        (evaluation.nearest.TrainingFeatures or None, str)
        """
        if not folder:
            return None, "the model card names no dataset"
        if not Path(folder).is_dir():
            return None, f"the dataset {folder} is not on this machine"
        from evaluation.nearest import TrainingFeatures
        from preprocessing.dataset import load_dataset
        from preprocessing.errors import PreprocessingError

        try:
            return TrainingFeatures.of_dataset(load_dataset(folder)), ""
        except (PreprocessingError, OSError) as error:
            return None, f"the dataset cannot be read: {error}"

    # -- preprocessing

    def prepare_file(self, path, model):
        """A sound file made ready for ``model`` (its rate and length, peak aligned)."""
        from preprocessing.errors import TOO_MANY_CHANNELS, AudioInputError
        from preprocessing.reader import prepare_file
        from preprocessing.settings import PreprocessSettings

        card_settings = model.card.preprocessing
        settings = PreprocessSettings.from_dict(card_settings) if card_settings else PreprocessSettings()
        if settings.sample_rate != model.sample_rate or settings.length != model.sample_length:
            settings = PreprocessSettings.from_dict(
                {**settings.to_dict(), "sample_rate": int(model.sample_rate), "length": int(model.sample_length)}
            )
        try:
            return prepare_file(path, settings)
        except AudioInputError as error:
            if error.kind != TOO_MANY_CHANNELS:
                raise
            # the reader's advice is the command line's (--channel): the window has no such option
            channels = str(error).split(":", 1)[0]
            raise AudioInputError(
                f"{channels}: the window opens mono and stereo files only; save one channel as a mono WAV and open that",
                kind=error.kind,
            ) from None

    def resample(self, audio, rate_in, rate_out):
        import soxr

        return soxr.resample(np.asarray(audio, dtype=np.float32), rate_in, rate_out).astype(np.float32)

    # -- audio

    def make_player(self, sample_rate, device):
        from audio.player import Player

        return Player(sample_rate=sample_rate, device=_device_arg(device))

    def output_devices(self):
        from audio.player import list_output_devices

        return list_output_devices()

    def device_name(self, device):
        if device is None:
            return "default output"
        for index, name in self.output_devices():
            if str(index) == str(device) or name == device:
                return f"{index}: {name}"
        return str(device)

    def favourites(self, root):
        from audio.export import FavouritesFolder

        Path(root).mkdir(parents=True, exist_ok=True)
        return FavouritesFolder(root)


def _device_arg(device):
    """A device index when the setting is a number, else the name (or None for the default)."""
    if device is None or device == "":
        return None
    try:
        return int(device)
    except (TypeError, ValueError):
        return device
