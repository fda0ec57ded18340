"""The loaded models and the models thread's jobs on them: loading a model, and the sounds
made from one point or file (audition, encode, compare, morph, a variation, saving
variations, a dataset's original).

:class:`ModelCache` holds the models by name: only the models thread loads, the other
threads only read what it has loaded. :func:`family_options` is the ``family`` keyword of
every decode.
"""

import dataclasses
import os
import threading
from pathlib import Path

import numpy as np

from gui import events, features
from gui.threads import BACKGROUND, USER, JobGroup


def family_options(model, family):
    """The ``family`` keyword of a decode: for a model that takes one (a conditioned model,
    or one with family pads; :func:`gui.family.decode_family` chose it)."""
    return {"family": family} if family is not None and model.takes_family else {}


class ModelCache:
    """Loaded models by name; only the models thread loads, any worker may read."""

    def __init__(self, backend, folder):
        self._backend = backend
        self._folder = folder
        self._models = {}
        self._lock = threading.Lock()

    def peek(self, name):
        with self._lock:
            return self._models.get(name)

    def get(self, name):
        """The model, loading it on first use (raises the backend's unavailable error)."""
        model = self.peek(name)
        if model is None:
            model = self._backend.load(name, self._folder)
            with self._lock:
                self._models[name] = model
        return model


def compared_sound(model, name, effect):
    """One model's sound in a comparison: (audio, the point played where the asked one is
    outside its range or None, what a wide latent's axes were or "").

    The current model plays what its pad plays: its family where it has one chosen, and,
    with a wide latent, its whole vector (the pad and the sliders); another wide model plays
    the pad point on its own pad axes, its other axes at their centres.
    """
    options = {"family": effect.family[1]} if effect.family is not None and effect.family[0] == name else {}
    current = {entry[0]: entry[1:] for entry in effect.vectors}.get(name)
    if current is not None:
        vector, (a, b) = current
        audio = model.decode(np.asarray([vector], dtype=np.float32), **options)[0]
        return audio, None, f"x, y are axes {a}, {b}; the rest at the sliders"
    # a model decodes only its own range: a point outside plays the nearest in it (the current
    # model's point on its family's pad is on that pad, as it is heard)
    xmin, xmax, ymin, ymax = (float(v) for v in model.latent_range())
    x, y = (float(v) for v in effect.point)
    played = (x, y) if options else (min(max(x, xmin), xmax), min(max(y, ymin), ymax))
    audio = model.decode(np.asarray([played], dtype=np.float32), **options)[0]
    axes = ""
    if model.latent_dim > 2:
        a, b = model.pad_axes
        axes = f"x, y are axes {a}, {b}; the rest at their centres"
    return audio, None if played == (x, y) else played, axes


class ModelJobs(JobGroup):
    """The models thread's jobs on one model, which each loads on first use (``cache``).

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    cache : ModelCache
    thread : gui.threads.JobWorker
        The models thread (the heat-maps run on it too).
    models_dir, favourites_dir : str
    """

    def __init__(self, backend, post, cache, thread, models_dir, favourites_dir):
        super().__init__(backend, post)
        self.cache = cache
        self.thread = thread
        self.models_dir = models_dir
        self.favourites_dir = favourites_dir

    def load(self, effect):
        name = effect.name

        def job():
            try:
                model = self.cache.get(name)
                info = self.backend.describe(model, name)
            except self.backend.user_errors as error:
                self.post(events.ModelFailed(name, str(error)))
                return
            record = self.backend.cached_metrics(name, self.models_dir)
            if record is not None:
                info = dataclasses.replace(info, metrics=record.get("metrics"), metrics_date=record.get("computed"))
                values = np.asarray((record.get("continuity") or {}).get("values", []))
                if values.ndim == 2 and values.size:  # the evaluation's map: no need to recompute
                    self.post(events.HeatmapReady(name, features.DISCONTINUITY, values))
            self.post(events.ModelReady(info))

        self.thread.submit(self._guard(f"loading {name}", job), priority=BACKGROUND if effect.background else USER)

    def audition(self, effect):
        def job():
            model = self.cache.get(effect.name)
            decoded = model.decode(np.asarray([effect.point], dtype=np.float32), **family_options(model, effect.family))[0]
            original, reason = None, ""
            if effect.original_path is None:
                reason = "the model card names no dataset folder"
            elif not os.path.exists(effect.original_path):
                reason = f"{effect.original_path} is not on this machine"
            else:
                try:
                    original = self.backend.prepare_file(effect.original_path, model)
                except self.backend.user_errors as error:
                    reason = str(error)
            self.post(events.Auditioned(decoded, original, reason))

        self.thread.submit(self._guard("audition", job))

    def encode(self, effect):
        def job():
            model = self.cache.get(effect.name)
            audio = self.backend.prepare_file(effect.path, model)
            options = family_options(model, effect.family)
            conditioned = model.conditioned
            point = np.asarray(model.encode(audio[None, :], **(options if conditioned else {})))[0]
            pads = model.family_pads
            if options and not conditioned and pads is not None:
                point = np.asarray(pads.to_pad(point[None, :], effect.family))[0]  # where this family's pad plays it
            family = None
            if options and model.family_frame:  # its whole code, in the frame of the family it is likeliest under
                code = model.encode_code(audio[None, :])
                family = pads.likeliest(code)[0]  # so its own code plays, not one clamped in another family's
                options = family_options(model, family)
                point = np.clip(pads.to_frame(code, family)[0], model.low, model.high)
            reconstruction = model.decode(point[None, :].astype(np.float32), **options)[0]
            point = tuple(float(v) for v in point)
            self.post(events.Encoded(effect.name, effect.path, point, audio, reconstruction, family=family))

        self.thread.submit(self._guard(Path(effect.path).name, job))

    def compare(self, effect):
        sample_rate = effect.sample_rate

        def job():
            results = []
            for name in effect.names:
                try:
                    model = self.cache.get(name)
                    audio, played, axes = compared_sound(model, name, effect)
                    if model.sample_rate != sample_rate:
                        audio = self.backend.resample(audio, model.sample_rate, sample_rate)
                    results.append(events.CompareResult(name, audio, played=played, axes=axes))
                except self.backend.user_errors as error:
                    results.append(events.CompareResult(name, None, str(error)))
            self.post(events.Compared(tuple(results), tuple(effect.point), sample_rate))

        self.thread.submit(self._guard("compare", job))

    def morph(self, effect):
        def job():
            model = self.cache.get(effect.name)
            t = np.linspace(0.0, 1.0, effect.steps, dtype=np.float32)[:, None]
            points = (1 - t) * np.asarray(effect.a, np.float32) + t * np.asarray(effect.b, np.float32)
            sounds = model.decode(points, **family_options(model, effect.family))
            self.post(events.Morphed(effect.name, tuple(tuple(map(float, p)) for p in points), tuple(sounds), family=effect.family))

        self.thread.submit(self._guard("morph", job))

    def decode_variation(self, effect):
        def job():
            from models.variation import decode_variation, plan_variations

            model = self.cache.get(effect.name)
            variation = plan_variations(model, effect.point, 1, effect.seed, first=effect.repetition, amount=effect.amount)[0]
            audio = decode_variation(model, effect.point, variation, family=effect.family)
            self.post(
                events.VariationDecoded(
                    effect.name, tuple(effect.point), effect.repetition, audio, variation.to_dict(effect.point), family=effect.family
                )
            )

        self.thread.submit(self._guard("variation", job))

    def save_variations(self, effect):
        def job():
            from gui.vary import save_with_variations

            model = self.cache.get(effect.name)
            folder = self.backend.favourites(self.favourites_dir)
            paths = save_with_variations(
                folder,
                model,
                effect.name,
                tuple(effect.point),
                effect.count,
                effect.seed,
                settings=effect.settings,
                level=effect.level,
                family=effect.family,
            )
            self.post(events.Saved(tuple(paths)))

        self.thread.submit(self._guard("save with variations", job))

    def read_original(self, effect):
        def job():
            from evaluation.nearest import NearSound, original_sound

            near = NearSound("", "", "", effect.file, 0.0)
            path, reason = original_sound(near, effect.data_folder)
            audio = None
            model = self.cache.get(effect.name)
            if path is not None:
                try:
                    audio = self.backend.prepare_file(str(path), model)
                except self.backend.user_errors as error:
                    reason = str(error)
            if audio is None and effect.code is not None:  # the model's version of it, from its code
                audio = model.decode(np.asarray([effect.code], dtype=np.float32))[0]
                self.post(events.OriginalRead(effect.file, audio, reason or "", decoded=True))
                return
            self.post(events.OriginalRead(effect.file, audio, reason or ""))

        self.thread.submit(self._guard("original", job))
