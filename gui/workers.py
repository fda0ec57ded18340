"""The window's worker threads: everything slow or touching files, models or devices.

Workers never touch an element. Each result is a record of :mod:`gui.events`, sent back to
the event loop through one ``post(record)`` callable, which the window binds to
``window.write_event_value(WORKER, record)``. The loop hands each effect that is a worker's
to the method :meth:`Workers.jobs` names for its type. The sound player lives in a room of
its own (:class:`SoundRoom`, one thread that makes every call on it); the window learns
whether there is sound from an ``events.PlayerOpened`` record.

Threads:

- ``decode``: one "latest requested point" slot, so dragging never builds a backlog;
- ``render``: one latest slot per panel, building matplotlib figures;
- ``models``: loading models, heat-maps, encoding a file, compare, morph (in priority order:
  what the user asked for before background preloading);
- ``io``: the model list, favourites, the settings file;
- ``sound``: the player (:class:`SoundRoom`).
"""
import dataclasses
import itertools
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from gui import effects as fx
from gui import events, features

USER, BACKGROUND = 0, 10  # job priorities
HEATMAP_CHUNK = 32
#: How often the sound room looks whether a loop came round to a waiting swap (a seam is
#: known to the window within this; a repetition lasts 50 ms or more).
SEAM_POLL_SECONDS = 0.005


def _decode_recorded_variation(model, point, record, family=None):
    """The samples of the variation a sidecar recorded (``Variation.to_dict``) of ``point``."""
    from models.variation import Variation, decode_variation

    return decode_variation(model, point, Variation.from_dict(record), family=family)


def _family(model, family):
    """The ``family`` keyword of a decode: for a model that takes one (a conditioned model,
    or one with family pads; :func:`gui.family.decode_family` chose it)."""
    return {"family": family} if family is not None and model.takes_family else {}


class LatestWorker:
    """A thread that runs only the newest job of each slot.

    ``submit(slot, job)`` replaces a job of that slot that has not started yet, so a burst
    of requests (a drag) costs one job per slot, not one per request.
    """

    def __init__(self, name, run):
        self._run = run
        self._pending = {}
        self._condition = threading.Condition()
        self._stopped = False
        self._running = False
        self._thread = threading.Thread(target=self._loop, name=f"gui-{name}", daemon=True)
        self._thread.start()

    def submit(self, slot, job):
        with self._condition:
            self._pending[slot] = job
            self._condition.notify()

    def stop(self, timeout=2.0):
        self.request_stop()
        self._thread.join(timeout)

    def request_stop(self):
        with self._condition:
            self._stopped = True
            self._condition.notify()

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def idle(self):
        """Nothing running and nothing waiting."""
        with self._condition:
            return not self._running and not self._pending

    def _loop(self):
        while True:
            with self._condition:
                while not self._pending and not self._stopped:
                    self._condition.wait()
                if self._stopped:
                    return
                slot = next(iter(self._pending))
                job = self._pending.pop(slot)
                self._running = True
            try:
                self._run(slot, job)
            finally:
                with self._condition:
                    self._running = False


class JobWorker:
    """A thread that runs submitted callables, lowest priority number first, then in order."""

    def __init__(self, name):
        self._queue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._loop, name=f"gui-{name}", daemon=True)
        self._thread.start()

    def submit(self, func, priority=USER):
        self._queue.put((priority, next(self._order), func))

    def stop(self, timeout=2.0):
        self.request_stop()
        self._thread.join(timeout)

    def request_stop(self):
        """Stop after the jobs the user asked for (background jobs are dropped)."""
        self._queue.put((BACKGROUND - 1, -1, None))

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def idle(self):
        """Nothing running and nothing waiting."""
        return self._queue.unfinished_tasks == 0

    def _loop(self):
        while True:
            _, _, func = self._queue.get()
            if func is None:
                return
            try:
                func()
            finally:
                self._queue.task_done()


def guarded(what, func, post, user_errors):
    """``func`` as a job whose failure becomes a ``JobFailed`` record, never a dead thread."""
    def job():
        try:
            func()
        except user_errors as error:
            post(events.JobFailed(what, str(error)))
        except Exception as error:  # noqa: BLE001 - a bug must not kill the worker thread
            traceback.print_exc(file=sys.stderr)
            post(events.JobFailed(what, f"internal error: {error!r}"))
    return job


class SoundRoom:
    """The sound output in a room of its own: one thread owns the player and calls it.

    The GUI thread only submits effects (``Play``, ``Swap``, ``Stop``, ``SetVolume``,
    ``MakePlayer``); they are carried out in order, so a Stop never overtakes the Play before
    it. A sound played once is reported back as ``events.PlayStarted`` with its duration. A
    tagged ``Swap`` (Vary's next repetition) is reported back as ``events.SwapSettled`` when the
    loop comes round to it, or when it never will: a watcher thread reads the player's
    ``began_serial`` and ``seen_serial`` while such a swap waits, so the window learns the real
    seam, not a timer's guess of it.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double
        Makes the player (``make_player``) and names its device (``device_name``).
    post : callable(record)
    """

    def __init__(self, backend, post):
        self.backend = backend
        self.post = post
        self.player = None  # only the room's thread sets it or calls it (tests may read it)
        self._worker = JobWorker("sound")
        self._awaited = {}  # request serial -> tag of the tagged swaps not yet settled
        self._awaited_player = None  # the player those serials belong to
        self._awaiting = threading.Condition()
        self._watcher = None
        self._calls = {fx.Play: self._play, fx.Swap: self._swap, fx.Stop: self._stop,
                       fx.SetVolume: self._set_volume, fx.MakePlayer: self._make_player,
                       fx.PlayPattern: self._play_pattern, fx.StopPattern: self._stop_pattern}

    def submit(self, effect):
        """Carry out a sound effect in the room (returns at once)."""
        call = self._calls[type(effect)]
        self._worker.submit(guarded("sound device", lambda: call(effect), self.post,
                                    self.backend.user_errors))

    def _working(self):
        player = self.player
        return player if player is not None and player.available else None

    def _play(self, effect):
        player = self._working()
        if player is None:
            return
        if effect.loop:
            player.loop(effect.audio)
            return
        player.play(effect.audio)
        self.post(events.PlayStarted(effect.token, len(effect.audio) / player.sample_rate))

    def _swap(self, effect):
        player = self._working()
        if player is None:
            return
        before = player.stats().requested_serial if effect.tag else 0
        player.swap(effect.audio, immediate=effect.immediate)
        if effect.tag:
            serial = player.stats().requested_serial
            if serial != before:  # else nothing was playing: the loop has ended, and so has Vary's chain
                self._await(player, serial, effect.tag)

    def _await(self, player, serial, tag):
        with self._awaiting:
            if self._awaited_player is not player:
                self._awaited, self._awaited_player = {}, player
            self._awaited[serial] = tag
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch_swaps, name="gui-sound-seams", daemon=True)
                self._watcher.start()
            self._awaiting.notify()

    def _watch_swaps(self):
        """Report each awaited swap once it began, or once a later request took its place."""
        while True:
            with self._awaiting:
                while not self._awaited:
                    if not self._awaiting.wait(timeout=5.0):
                        self._watcher = None  # idle a while: the next tagged swap starts another
                        return
                player, awaited = self._awaited_player, dict(self._awaited)
                if not player.available:  # closed: none of them will sound
                    self._awaited = {}
                    continue
            stats = player.stats()
            began, seen = stats.began_serial, stats.seen_serial
            settled = {serial: tag for serial, tag in awaited.items() if serial == began or serial < seen}
            if settled:
                with self._awaiting:
                    for serial in settled:
                        self._awaited.pop(serial, None)
                for serial, tag in sorted(settled.items()):
                    self.post(events.SwapSettled(tag, serial == began))
            time.sleep(SEAM_POLL_SECONDS)

    def _stop(self, _effect):
        player = self._working()
        if player is not None:
            player.stop()

    def _play_pattern(self, effect):
        player = self._working()
        if player is not None:
            player.play_pattern(effect.sounds, effect.steps, effect.tempo, restart=effect.restart)

    def _stop_pattern(self, effect):
        player = self._working()
        if player is not None:
            player.stop_pattern(cut=effect.cut)

    def _set_volume(self, effect):
        player = self._working()
        if player is not None:
            player.volume = effect.volume

    def _make_player(self, effect):
        with self._awaiting:  # the old player's swaps never sound: the window asks again
            self._awaited, self._awaited_player = {}, None
        old, self.player = self.player, None  # silent until the new one is open
        if old is not None:
            old.close()
        self.player = self.backend.make_player(effect.sample_rate, effect.device)
        self.post(events.PlayerOpened(bool(self.player.available), self.player.reason or "",
                                      self.backend.device_name(effect.device)))

    def _close(self):
        with self._awaiting:
            self._awaited, self._awaited_player = {}, None
        player, self.player = self.player, None
        if player is not None:
            player.close()

    def request_stop(self):
        """Close the player in the room, then end the room's thread; returns at once."""
        self._worker.submit(self._close)
        self._worker.request_stop()

    def close(self):
        """Close the player here if the room's thread has ended without closing it."""
        if not self._worker.alive:
            self._close()

    @property
    def alive(self):
        return self._worker.alive

    @property
    def idle(self):
        return self._worker.idle

    @property
    def _thread(self):
        return self._worker._thread


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
        self.models_dir = models_dir
        self.favourites_dir = favourites_dir
        self.settings = settings
        self.cache = ModelCache(backend, models_dir)
        self.sound_room = SoundRoom(backend, post)
        self._heatmap_generation = 0
        self._painter = None  # gui.figures.OutputPainter, made in the render thread
        self.decoder = LatestWorker("decode", self._decode)
        self.renderer = LatestWorker("render", self._render)
        self.nearby = LatestWorker("nearest", self._nearest)
        self._training = {}  # dataset folder -> (TrainingFeatures or None, reason); nearest thread
        self._classifier = None  # (FamilyClassifier or None, reason), read by the models thread
        self.models = JobWorker("models")
        self.io = JobWorker("io")

    @property
    def threads(self):
        return (self.decoder, self.renderer, self.nearby, self.models, self.io, self.sound_room)

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
        return {
            fx.Decode: self.decode, fx.LoadModel: self.load, fx.Heatmap: self.heatmap,
            fx.Audition: self.audition, fx.Encode: self.encode, fx.Compare: self.compare,
            fx.Morph: self.morph, fx.Save: self.save, fx.ListFavourites: self.list_favourites,
            fx.DecodeVariation: self.decode_variation, fx.SaveVariations: self.save_variations,
            fx.Nearest: self.nearest, fx.ReadOriginal: self.read_original,
            fx.ExportKit: self.export_kit,
            fx.ReadPattern: self.read_pattern, fx.SavePattern: self.save_pattern,
            fx.ReadLaneSound: self.read_lane_sound,
            **dict.fromkeys((*fx.SOUND_EFFECTS, fx.MakePlayer), self.sound_room.submit),
        }

    # -- the boundary: a job's failure becomes a "failed" event, never a dead thread

    def _guard(self, what, func):
        return guarded(what, func, self.post, self.backend.user_errors)

    # -- io thread

    def list_models(self):
        def job():
            entries = tuple(self.backend.list_models(self.models_dir))
            metrics = {}
            for entry in entries:
                record = self.backend.cached_metrics(entry.name, self.models_dir) \
                    if entry.trained else None
                if record is not None and isinstance(record.get("metrics"), dict):
                    metrics[entry.name] = record["metrics"]
            self.post(events.ZooListed(entries, metrics))
        self.io.submit(self._guard("model list", job))

    def list_favourites(self, _effect=None):
        self.io.submit(self._guard("favourites", lambda: self.post(events.FavouritesListed(
            tuple(self.backend.favourites(self.favourites_dir).entries())))))

    def list_devices(self):
        self.io.submit(self._guard("devices", lambda: self.post(events.DevicesListed(
            tuple(self.backend.output_devices())))))

    def save(self, effect):
        def job():
            folder = self.backend.favourites(self.favourites_dir)
            paths = [folder.save(np.asarray(sound, dtype=np.float32), effect.sample_rate,
                                 model=effect.model, point=tuple(float(v) for v in point),
                                 settings=effect.settings, level=effect.level)
                     for point, sound in zip(effect.points, effect.sounds)]
            self.post(events.Saved(tuple(paths)))
        self.io.submit(self._guard("save", job))

    def read_pattern(self, _effect=None):
        def job():
            from audio.pattern import read_pattern

            self.post(events.PatternRead(*read_pattern(self.favourites_dir)))
        self.io.submit(self._guard("beat", job))

    def save_pattern(self, effect):
        def job():
            from audio.errors import AudioError
            from audio.pattern import write_pattern

            try:
                write_pattern(self.favourites_dir, effect.pattern)
            except AudioError as error:  # a user's pattern.json, left as it was
                self.post(events.JobFailed("keeping the beat", str(error)))
        self.io.submit(self._guard("keeping the beat", job))

    def read_lane_sound(self, effect):
        def job():
            import soundfile

            from safeio import NotARegularFile, open_regular

            try:
                # by the open file: a FIFO under a lane's sound would block this worker for good
                with open_regular(effect.path) as file:
                    audio, rate = soundfile.read(file, dtype="float32", always_2d=True)
            except NotARegularFile as error:
                self.post(events.LaneSoundRead(effect.lane, effect.path,
                                               reason=f"{Path(effect.path).name}: {error.strerror}"))
                return
            except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
                reason = getattr(error, "error_string", None) or getattr(error, "strerror", None) or error
                self.post(events.LaneSoundRead(effect.lane, effect.path,
                                               reason=f"{Path(effect.path).name}: cannot be read ({reason})"))
                return
            self.post(events.LaneSoundRead(effect.lane, effect.path, audio.mean(axis=1), int(rate)))
        self.io.submit(self._guard("beat", job))

    def store_settings(self, values):
        if self.settings is not None:
            self.io.submit(self._guard("settings", lambda: self.settings.store(values)))

    def find_features(self):
        """Tell the window which heat-map features exist (the discontinuity needs evaluation)."""
        def job():
            names = list(features.PER_SOUND_NAMES)
            if self.backend.discontinuity() is not None:
                names.append(features.DISCONTINUITY)
            self.post(events.FeaturesFound(tuple(names)))
        self.io.submit(self._guard("features", job), priority=BACKGROUND)

    # -- models thread

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
                info = dataclasses.replace(info, metrics=record.get("metrics"),
                                           metrics_date=record.get("computed"))
                values = np.asarray((record.get("continuity") or {}).get("values", []))
                if values.ndim == 2 and values.size:  # the evaluation's map: no need to recompute
                    self.post(events.HeatmapReady(name, features.DISCONTINUITY, values))
            self.post(events.ModelReady(info))
        self.models.submit(self._guard(f"loading {name}", job),
                           priority=BACKGROUND if effect.background else USER)

    def heatmap(self, effect):
        self._heatmap_generation += 1
        generation = self._heatmap_generation
        name, feature = effect.name, effect.feature

        def job():
            model = self.cache.get(name)
            options = _family(model, effect.family)  # the map of one family's pad
            if feature == features.MADE:
                grid = self._made_here(model, options, effect, generation)
                if grid is None:
                    return
            elif feature == features.DISCONTINUITY:
                continuity_map = self.backend.discontinuity()
                _, _, grid = continuity_map(lambda points: model.decode(points, **options),
                                            effect.latent_range, features.GRID, effect.sample_rate)
            else:
                points = features.grid_points(effect.latent_range)
                values = []
                # a chunk at a time: one long NumPy call would hold the GIL and stall the window
                for start in range(0, len(points), HEATMAP_CHUNK):
                    if generation != self._heatmap_generation:
                        return  # a newer heat-map was asked for: stop wasting the cores
                    sounds = model.decode(points[start:start + HEATMAP_CHUNK], **options)
                    values.append(features.PER_SOUND[feature](sounds, effect.sample_rate))
                grid = np.concatenate(values).reshape(features.GRID, features.GRID)
            self.post(events.HeatmapReady(name, feature, np.asarray(grid), family=effect.family))
        self.models.submit(self._guard("heat-map", job))

    def family_classifier(self):
        """The zoo's family classifier (``evaluation.families``, the kit export's), read once;
        (classifier or None, why not)."""
        if self._classifier is None:
            self._classifier = self.backend.family_classifier(self.models_dir)
        return self._classifier

    def _made_here(self, model, options, effect, generation):
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
            sounds = np.asarray(model.decode(points[start:start + HEATMAP_CHUNK], **options), dtype=np.float32)
            families = np.asarray(classifier.predict(sounds, effect.sample_rate), dtype=object)
            families[np.max(np.abs(sounds), axis=1) < features.SILENT_PEAK] = features.SILENT  # no family to hear
            heard.append(families)
        return np.concatenate(heard).astype(str).reshape(n, n)

    def audition(self, effect):
        def job():
            model = self.cache.get(effect.name)
            decoded = model.decode(np.asarray([effect.point], dtype=np.float32), **_family(model, effect.family))[0]
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
        self.models.submit(self._guard("audition", job))

    def encode(self, effect):
        def job():
            model = self.cache.get(effect.name)
            audio = self.backend.prepare_file(effect.path, model)
            options = _family(model, effect.family)
            conditioned = model.conditioned
            point = np.asarray(model.encode(audio[None, :], **(options if conditioned else {})))[0]
            pads = model.family_pads
            if options and not conditioned and pads is not None:
                point = np.asarray(pads.to_pad(point[None, :], effect.family))[0]  # where this family's pad plays it
            reconstruction = model.decode(point[None, :].astype(np.float32), **options)[0]
            self.post(events.Encoded(effect.name, effect.path, (float(point[0]), float(point[1])),
                                     audio, reconstruction))
        self.models.submit(self._guard(Path(effect.path).name, job))

    def compare(self, effect):
        sample_rate = effect.sample_rate

        def job():
            results = []
            for name in effect.names:
                try:
                    model = self.cache.get(name)
                    # a model decodes only its own range: a point outside plays the nearest in it
                    xmin, xmax, ymin, ymax = (float(v) for v in model.latent_range())
                    x, y = (float(v) for v in effect.point)
                    played = (min(max(x, xmin), xmax), min(max(y, ymin), ymax))
                    audio = model.decode(np.asarray([played], dtype=np.float32))[0]
                    if model.sample_rate != sample_rate:
                        audio = self.backend.resample(audio, model.sample_rate, sample_rate)
                    results.append(events.CompareResult(name, audio, played=None if played == (x, y) else played))
                except self.backend.user_errors as error:
                    results.append(events.CompareResult(name, None, str(error)))
            self.post(events.Compared(tuple(results), tuple(effect.point), sample_rate))
        self.models.submit(self._guard("compare", job))

    def morph(self, effect):
        def job():
            model = self.cache.get(effect.name)
            t = np.linspace(0.0, 1.0, effect.steps, dtype=np.float32)[:, None]
            points = (1 - t) * np.asarray(effect.a, np.float32) + t * np.asarray(effect.b, np.float32)
            sounds = model.decode(points, **_family(model, effect.family))
            self.post(events.Morphed(effect.name, tuple(tuple(map(float, p)) for p in points),
                                     tuple(sounds), family=effect.family))
        self.models.submit(self._guard("morph", job))

    def decode_variation(self, effect):
        def job():
            from models.variation import decode_variation, plan_variations

            model = self.cache.get(effect.name)
            variation = plan_variations(model, effect.point, 1, effect.seed, first=effect.repetition,
                                        amount=effect.amount)[0]
            audio = decode_variation(model, effect.point, variation, family=effect.family)
            self.post(events.VariationDecoded(effect.name, tuple(effect.point), effect.repetition,
                                              audio, variation.to_dict(effect.point), family=effect.family))
        self.models.submit(self._guard("variation", job))

    def save_variations(self, effect):
        def job():
            from gui.vary import save_with_variations

            model = self.cache.get(effect.name)
            folder = self.backend.favourites(self.favourites_dir)
            paths = save_with_variations(folder, model, effect.name, tuple(effect.point),
                                         effect.count, effect.seed, settings=effect.settings,
                                         level=effect.level, family=effect.family)
            self.post(events.Saved(tuple(paths)))
        self.models.submit(self._guard("save with variations", job))

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
        self.models.submit(self._guard("original", job))

    def export_kit(self, effect):
        def job():
            from audio.kit import FamilyNamer, favourite_sounds, kit_files, write_h2drumkit
            from audio.song import song_path
            from evaluation.families import shipped_classifier
            from safeio import FileExistsRefused

            path = Path(effect.path)
            song = song_path(path) if effect.pattern is not None else None
            taken = [p.name for p in (path, song) if p is not None and p.exists()]
            if taken and not effect.overwrite:
                self.post(events.KitExists(str(path), effect.sources, tuple(taken)))
                return
            by_path = {str(e.path): e for e in self.backend.favourites(self.favourites_dir).entries()}
            entries = [by_path[source] for source in effect.sources if source in by_path]
            skipped = [f"{Path(s).name}: no longer in the favourites" for s in effect.sources
                       if s not in by_path]
            namer = FamilyNamer(*shipped_classifier(self.models_dir))
            sounds = favourite_sounds(
                entries, layers=1, extra_layers=lambda _favourite, _count: ([], None),
                family_of=namer.family, report=skipped.append,
                progress=lambda done, total: self.post(events.KitProgress(done, total)))
            if not sounds:
                self.post(events.JobFailed("kit", "none of the chosen favourites can go in a kit"))
                return
            kit = kit_files(path.stem, sounds, level=effect.level)
            try:
                write_h2drumkit(path, kit, overwrite=effect.overwrite)
                song_note = self._write_song(effect, kit, song)
            except FileExistsRefused:
                self.post(events.KitExists(str(path), effect.sources))
                return
            self.post(events.KitExported(str(path), len(sounds), tuple(skipped),
                                         None if song is None else str(song), song_note))
        self.io.submit(self._guard("kit", job))

    @staticmethod
    def _write_song(effect, kit, song):
        """The beat as a Hydrogen song beside the kit (``song``; None: no beat); what it
        leaves out."""
        if song is None:
            return ""
        from audio.song import song_for_kit, write_song

        made = song_for_kit(effect.pattern, kit)
        write_song(song, made, overwrite=effect.overwrite)
        return made.note

    # -- nearest thread: the latest point only

    def nearest(self, effect):
        self.nearby.submit("point", effect)

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

            codes = model.codes
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
                audio = model.decode(np.asarray([effect.point], dtype=np.float32))[0]
                features = tuple(nearest_in_features(training, audio, model.sample_rate))
            self.post(events.NearestFound(effect.name, tuple(effect.point), plane, features,
                                          plane_reason, features_reason or ""))
        except Exception as error:  # noqa: BLE001 - a bug must not kill the thread
            traceback.print_exc(file=sys.stderr)
            self.post(events.JobFailed("nearest sounds", f"internal error: {error!r}"))

    # -- decode thread

    def decode(self, effect):
        self.decoder.submit("point", (effect.name, tuple(effect.point), effect.variation, effect.family))

    def _decode(self, _slot, job):
        name, point, variation, family = job
        model = self.cache.peek(name)
        if model is None:
            return  # not loaded yet: its model-ready event asks for the decode again
        try:
            started = time.perf_counter()
            if variation is None:
                audio = model.decode(np.asarray([point], dtype=np.float32), **_family(model, family))[0]
            else:
                audio = _decode_recorded_variation(model, point, variation, family)
            ms = 1000 * (time.perf_counter() - started)
        except (*self.backend.user_errors, ValueError) as error:  # ValueError: a bad record
            self.post(events.JobFailed("decode", str(error)))
            return
        self.post(events.Decoded(name, point, audio, ms, variation, family))

    # -- render thread

    def render(self, effect, size_px):
        """Build ``effect``'s figure at ``size_px`` (the panel's size, read on the GUI thread)."""
        self.renderer.submit(effect.panel, (effect.request, size_px))

    def prepare_figures(self):
        """Import matplotlib in the render thread now, ahead of the first picture."""
        self.renderer.submit(None, None)

    def _figures(self):
        """:mod:`gui.figures`, imported in the render thread (with the Tk backend that
        :mod:`gui.canvas` shows its pictures with): matplotlib takes half a second to
        import, which must hold up neither the GUI thread nor the first sound."""
        from gui import canvas, figures

        canvas.import_backend()
        if self._painter is None:
            self._painter = figures.OutputPainter()
        return figures

    def _render(self, panel, job):
        try:
            figures = self._figures()
            if panel is None:
                return  # prepare_figures: the import was the job
            request, size_px = job
            if panel == "output":
                result = self._painter.paint(request.audio, request.sample_rate, size_px,
                                             title=request.title, original=request.original)
            elif panel == "map":
                result = figures.map_figure(size_px, request)
                result.key = request.key
            else:
                result = figures.sequence_figure(panel, size_px, request.sounds, request.labels,
                                                 request.sample_rate, title=request.title)
        except Exception as error:  # noqa: BLE001 - a drawing bug must not kill the thread
            traceback.print_exc(file=sys.stderr)
            self.post(events.JobFailed(f"drawing the {panel}", f"internal error: {error!r}"))
            return
        self.post(events.FigureReady(result))
