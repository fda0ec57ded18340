"""The window's workers: the threads that do everything slow or touching files, models or
devices, and which job each effect is.

Workers never touch an element. Each result is a record of :mod:`gui.events`, sent back to
the event loop through one ``post(record)`` callable, which the window binds to
``window.write_event_value(WORKER, record)``. The loop hands each effect that is a worker's
to the method :meth:`Workers.jobs` names for its type. The jobs live by subject in modules of
their own; this one makes the threads and the groups of jobs, and stops them.

Threads (their kinds, and the guard that turns a job's failure into a record:
:mod:`gui.threads`):

- ``decode``: one "latest requested point" slot, so dragging never builds a backlog
  (:mod:`gui.decode_slot`);
- ``render``: one latest slot per panel, building matplotlib figures (:mod:`gui.render_jobs`);
- ``nearest``: the training sounds nearest the newest point (:mod:`gui.nearest_jobs`);
- ``models``: loading models, encoding a file, compare, morph, variations
  (:mod:`gui.model_jobs`) and heat-maps (:mod:`gui.map_jobs`), in priority order: what the
  user asked for before background preloading;
- ``io``: the model list, favourites, the beat, the settings file (:mod:`gui.file_jobs`) and
  the kit export (:mod:`gui.kit_export`);
- ``sound``: the player, in a room of its own (:class:`gui.sound_room.SoundRoom`, one thread
  that makes every call on it); the window learns whether there is sound from an
  ``events.PlayerOpened`` record.
"""

from gui import effects as fx
from gui.decode_slot import DecodeSlot
from gui.file_jobs import FileJobs
from gui.kit_export import KitExport
from gui.map_jobs import MapJobs
from gui.model_jobs import ModelCache, ModelJobs
from gui.nearest_jobs import NearestSounds
from gui.render_jobs import FigureRenderer
from gui.sound_room import SoundRoom
from gui.threads import JobWorker


class Workers:
    """The worker threads and the jobs they run for the window.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    models_dir, favourites_dir : str
    settings : gui.settings.Settings or None
    """

    def __init__(self, backend, post, models_dir, favourites_dir, settings=None):
        self.backend = backend
        self.post = post
        self.cache = ModelCache(backend, models_dir)
        self.sound_room = SoundRoom(backend, post)
        self.decoder = DecodeSlot(backend, post, self.cache)
        self.renderer = FigureRenderer(backend, post)
        self.nearby = NearestSounds(backend, post, self.cache)
        self.models = JobWorker("models")
        self.io = JobWorker("io")
        self.model_jobs = ModelJobs(backend, post, self.cache, self.models, models_dir, favourites_dir)
        self.maps = MapJobs(backend, post, self.cache, self.models, models_dir)
        self.files = FileJobs(backend, post, self.io, models_dir, favourites_dir, settings)
        self.kits = KitExport(backend, post, self.io, models_dir, favourites_dir)

    @property
    def threads(self):
        return (self.decoder.thread, self.renderer.thread, self.nearby.thread, self.models, self.io, self.sound_room)

    def request_stop(self):
        """Ask every thread to end after its current job; returns at once."""
        for worker in self.threads:
            worker.request_stop()

    @property
    def alive(self):
        return any(worker.alive for worker in self.threads)

    @property
    def idle(self):
        """Whether every thread has finished its jobs (benchmarks wait for this)."""
        return all(worker.idle for worker in self.threads)

    def stop(self, timeout=2.0):
        """Stop the threads (waiting up to ``timeout``) and close the player.

        A thread posting an event needs the GUI thread's Tk loop, so the window's ``close``
        uses ``request_stop`` and keeps Tk running while it waits instead.
        """
        self.request_stop()
        for worker in self.threads:
            worker._thread.join(timeout)
        self.close_player()

    @property
    def player(self):
        """The sound output's player, or None (tests read it; only its room calls it)."""
        return self.sound_room.player

    def close_player(self):
        self.sound_room.close()

    def jobs(self):
        """What carries out each effect that is a worker's: effect type -> a method taking it."""
        models, files = self.model_jobs, self.files
        return {
            fx.Decode: self.decoder.decode,
            fx.LoadModel: models.load,
            fx.Heatmap: self.maps.heatmap,
            fx.Audition: models.audition,
            fx.Encode: models.encode,
            fx.Compare: models.compare,
            fx.Morph: models.morph,
            fx.Save: files.save,
            fx.ListFavourites: files.list_favourites,
            fx.DecodeVariation: models.decode_variation,
            fx.SaveVariations: models.save_variations,
            fx.Nearest: self.nearby.nearest,
            fx.ReadOriginal: models.read_original,
            fx.ExportKit: self.kits.export,
            fx.ReadPattern: files.read_pattern,
            fx.SavePattern: files.save_pattern,
            fx.ReadLaneSound: files.read_lane_sound,
            **dict.fromkeys((*fx.SOUND_EFFECTS, fx.MakePlayer), self.sound_room.submit),
        }

    # -- what the window asks for itself, not as an effect

    def list_models(self):
        self.files.list_models()

    def list_favourites(self):
        self.files.list_favourites()

    def list_devices(self):
        self.files.list_devices()

    def store_settings(self, values):
        self.files.store_settings(values)

    def find_features(self):
        """Tell the window which heat-map features exist (the discontinuity needs evaluation)."""
        self.files.find_features()

    def render(self, effect, size_px):
        """Build ``effect``'s figure at ``size_px`` (the panel's size, read on the GUI thread)."""
        self.renderer.render(effect, size_px)

    def prepare_figures(self):
        """Import matplotlib in the render thread now, ahead of the first picture."""
        self.renderer.prepare_figures()
