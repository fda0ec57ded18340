"""The io thread's jobs: the files and lists the window reads and writes (the model list,
the favourites and the sounds saved to them, the output devices, the beat and its lanes'
sounds, the settings file, the heat-map features there are).
"""

from pathlib import Path

import numpy as np

from gui import events, features
from gui.threads import BACKGROUND, JobGroup


class FileJobs(JobGroup):
    """The io thread's jobs (the kit export runs on it too, :mod:`gui.kit_export`).

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    thread : gui.threads.JobWorker
        The io thread.
    models_dir, favourites_dir : str
    settings : gui.settings.Settings or None
    """

    def __init__(self, backend, post, thread, models_dir, favourites_dir, settings=None):
        super().__init__(backend, post)
        self.thread = thread
        self.models_dir = models_dir
        self.favourites_dir = favourites_dir
        self.settings = settings

    def list_models(self):
        def job():
            entries = tuple(self.backend.list_models(self.models_dir))
            metrics = {}
            for entry in entries:
                record = self.backend.cached_metrics(entry.name, self.models_dir) if entry.trained else None
                if record is not None and isinstance(record.get("metrics"), dict):
                    metrics[entry.name] = record["metrics"]
            self.post(events.ZooListed(entries, metrics))

        self.thread.submit(self._guard("model list", job))

    def list_favourites(self, _effect=None):
        self.thread.submit(
            self._guard(
                "favourites", lambda: self.post(events.FavouritesListed(tuple(self.backend.favourites(self.favourites_dir).entries())))
            )
        )

    def list_devices(self):
        self.thread.submit(self._guard("devices", lambda: self.post(events.DevicesListed(tuple(self.backend.output_devices())))))

    def save(self, effect):
        def job():
            folder = self.backend.favourites(self.favourites_dir)
            paths = [
                folder.save(
                    np.asarray(sound, dtype=np.float32),
                    effect.sample_rate,
                    model=effect.model,
                    point=tuple(float(v) for v in point),
                    settings=effect.settings,
                    level=effect.level,
                )
                for point, sound in zip(effect.points, effect.sounds)
            ]
            self.post(events.Saved(tuple(paths)))

        self.thread.submit(self._guard("save", job))

    def read_pattern(self, _effect=None):
        def job():
            from audio.pattern import read_pattern

            self.post(events.PatternRead(*read_pattern(self.favourites_dir)))

        self.thread.submit(self._guard("beat", job))

    def save_pattern(self, effect):
        def job():
            from audio.errors import AudioError
            from audio.pattern import write_pattern

            try:
                write_pattern(self.favourites_dir, effect.pattern)
            except AudioError as error:  # a user's pattern.json, left as it was
                self.post(events.JobFailed("keeping the beat", str(error)))

        self.thread.submit(self._guard("keeping the beat", job))

    def read_lane_sound(self, effect):
        def job():
            import soundfile

            from safeio import NotARegularFile, open_regular

            try:
                # by the open file: a FIFO under a lane's sound would block this worker for good
                with open_regular(effect.path) as file:
                    audio, rate = soundfile.read(file, dtype="float32", always_2d=True)
            except NotARegularFile as error:
                self.post(events.LaneSoundRead(effect.lane, effect.path, reason=f"{Path(effect.path).name}: {error.strerror}"))
                return
            except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
                reason = getattr(error, "error_string", None) or getattr(error, "strerror", None) or error
                self.post(
                    events.LaneSoundRead(effect.lane, effect.path, reason=f"{Path(effect.path).name}: cannot be read ({reason})")
                )
                return
            self.post(events.LaneSoundRead(effect.lane, effect.path, audio.mean(axis=1), int(rate)))

        self.thread.submit(self._guard("beat", job))

    def store_settings(self, values):
        if self.settings is not None:
            self.thread.submit(self._guard("settings", lambda: self.settings.store(values)))

    def find_features(self):
        """Tell the window which heat-map features exist (the discontinuity needs evaluation)."""

        def job():
            names = list(features.PER_SOUND_NAMES)
            if self.backend.discontinuity() is not None:
                names.append(features.DISCONTINUITY)
            self.post(events.FeaturesFound(tuple(names)))

        self.thread.submit(self._guard("features", job), priority=BACKGROUND)
