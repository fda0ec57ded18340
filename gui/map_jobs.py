"""The maps the models thread draws over the pad: a heat-map of a sound feature, and the
made-here map (the family the classifier hears at each point).

A newer map asked for stops the one being made: each map decodes its grid a chunk at a time
and looks between chunks whether it is still the newest.
"""

import numpy as np

from gui import events, features
from gui.model_jobs import family_options
from gui.threads import JobGroup
from gui.wide import plane_vectors

HEATMAP_CHUNK = 32


class MapJobs(JobGroup):
    """The heat-map and made-here map jobs, on the models thread.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    cache : gui.model_jobs.ModelCache
    thread : gui.threads.JobWorker
        The models thread.
    models_dir : str
        Where the zoo's family classifier is read from.
    """

    def __init__(self, backend, post, cache, thread, models_dir):
        super().__init__(backend, post)
        self.cache = cache
        self.thread = thread
        self.models_dir = models_dir
        self._heatmap_generation = 0
        self._classifier = None  # (FamilyClassifier or None, reason), read by the models thread

    def heatmap(self, effect):
        self._heatmap_generation += 1
        generation = self._heatmap_generation
        name, feature = effect.name, effect.feature

        def job():
            model = self.cache.get(name)
            options = family_options(model, effect.family)  # the map of one family's pad

            def decode(points):  # a wide latent's: the pad's axes on its plane, the others as the sliders were
                return model.decode(points if effect.plane is None else plane_vectors(effect.plane, points), **options)

            if feature == features.MADE:
                grid = self._made_here(decode, effect, generation)
                if grid is None:
                    return
            elif feature == features.DISCONTINUITY:
                continuity_map = self.backend.discontinuity()
                _, _, grid = continuity_map(decode, effect.latent_range, features.GRID, effect.sample_rate)
            else:
                points = features.grid_points(effect.latent_range)
                values = []
                # a chunk at a time: one long NumPy call would hold the GIL and stall the window
                for start in range(0, len(points), HEATMAP_CHUNK):
                    if generation != self._heatmap_generation:
                        return  # a newer heat-map was asked for: stop wasting the cores
                    sounds = decode(points[start : start + HEATMAP_CHUNK])
                    values.append(features.PER_SOUND[feature](sounds, effect.sample_rate))
                grid = np.concatenate(values).reshape(features.GRID, features.GRID)
            self.post(events.HeatmapReady(name, feature, np.asarray(grid), family=effect.family, plane=effect.plane))

        self.thread.submit(self._guard("heat-map", job))

    def family_classifier(self):
        """The zoo's family classifier (``evaluation.families``, the kit export's), read once;
        (classifier or None, why not)."""
        if self._classifier is None:
            self._classifier = self.backend.family_classifier(self.models_dir)
        return self._classifier

    def _made_here(self, decode, effect, generation):
        """The family the classifier hears at each point of a coarse grid (``MADE_GRID``
        square, row 0 at the bottom), or None when a newer map was asked for meanwhile (or
        there is no classifier: then it says so)."""
        classifier, reason = self.family_classifier()
        if classifier is None:
            self.post(events.JobFailed("made-here map", f"no family classifier to listen with: {reason}"))
            return None
        n = features.MADE_GRID
        points = features.grid_points(effect.latent_range, n)
        heard = []
        for start in range(0, len(points), HEATMAP_CHUNK):  # a chunk at a time, as for a heat-map
            if generation != self._heatmap_generation:
                return None
            sounds = np.asarray(decode(points[start : start + HEATMAP_CHUNK]), dtype=np.float32)
            families = np.asarray(classifier.predict(sounds, effect.sample_rate), dtype=object)
            families[np.max(np.abs(sounds), axis=1) < features.SILENT_PEAK] = features.SILENT  # no family to hear
            heard.append(families)
        return np.concatenate(heard).astype(str).reshape(n, n)
