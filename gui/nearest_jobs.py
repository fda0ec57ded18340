"""The nearest-sounds thread: for the newest point asked for only, the training sounds
nearest to it, on the pad (the model's training codes) and by ear (the dataset's sound
features, read once per dataset folder and kept).
"""

import sys
import traceback
from dataclasses import replace

import numpy as np

from gui import events
from gui.threads import JobGroup, LatestWorker
from gui.wide import codes_on_axes


class NearestSounds(JobGroup):
    """The nearest thread, with one slot: a point asked for replaces the one still waiting.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    cache : gui.model_jobs.ModelCache
        Read only: a model not loaded yet has no nearest sounds.
    """

    def __init__(self, backend, post, cache):
        super().__init__(backend, post)
        self.cache = cache
        self._training = {}  # dataset folder -> (TrainingFeatures or None, reason); nearest thread
        self.thread = LatestWorker("nearest", self._nearest)

    def nearest(self, effect):
        self.thread.submit("point", effect)

    def _training_features(self, folder):
        if folder not in self._training:
            self._training[folder] = self.backend.training_features(folder)
        return self._training[folder]

    def _nearest(self, _slot, effect):
        try:
            model = self.cache.peek(effect.name)
            if model is None:
                return
            from evaluation.nearest import NEAREST_COUNT, nearest_in_features, nearest_in_plane

            codes = _codes_as_drawn(model, effect)
            training, features_reason = self._training_features(effect.data_folder)
            plane, plane_reason = (), ""
            if codes is None or len(np.asarray(codes.points)) == 0:
                plane_reason = model.no_codes_reason or f"{effect.name} has no training codes"
            else:
                kits = None if training is None else dict(zip(training.files, training.kits))
                # without the dataset's sound features, the codes fill the table alone
                count = NEAREST_COUNT if training is not None else 2 * NEAREST_COUNT
                plane = tuple(nearest_in_plane(codes, effect.point, count, kits_by_file=kits))
            features = ()
            if training is not None:
                where = effect.point if effect.vector is None else effect.vector
                options = {"family": effect.family} if effect.family is not None and model.takes_family else {}
                audio = model.decode(np.asarray([where], dtype=np.float32), **options)[0]
                features = tuple(nearest_in_features(training, audio, model.sample_rate))
            self.post(events.NearestFound(effect.name, tuple(effect.point), plane, features, plane_reason, features_reason or ""))
        except Exception as error:  # noqa: BLE001 - a bug must not kill the thread
            traceback.print_exc(file=sys.stderr)
            self.post(events.JobFailed("nearest sounds", f"internal error: {error!r}"))


def _codes_as_drawn(model, effect):
    """The training codes where the map draws them for ``effect``'s sound: with a family on
    a model with family pads, where that family's pad (or frame, on the axes the pad shows)
    puts them; a wide latent's on the pad's axes now (the "which axes" choice may have moved
    them); else as they are."""
    codes, pads = model.codes, model.family_pads
    if codes is None:
        return None
    if effect.family is not None and pads is not None:
        axes = effect.axes if model.family_frame and effect.axes is not None else (0, 1)
        return replace(codes, points=np.asarray(pads.places(codes, effect.family, axes=axes), dtype=np.float32))
    if effect.axes is None or model.family_frame:  # a frame's codes' columns are no frame's axes
        return codes
    return codes_on_axes(codes, effect.axes)
