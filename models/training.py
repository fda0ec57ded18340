"""Training a registry model on arrays, with checkpoints, resume and the shipped files.

The core takes arrays plus what should be recorded about them (:class:`TrainingData`);
the ``train`` command adapts a preprocessed dataset folder to it. ``fit`` does the work:
Keras' progress output, ``CSVLogger`` for the history, and three small callbacks of ours
(:mod:`models.callbacks`: a NaN guard, a checkpoint after every good epoch
(:mod:`models.checkpoint`), the epoch's time).

At the end the files of ``trained/<name>/`` are written as one set (:mod:`models.shipping`);
a lock beside the folder (``.NAME.lock``) keeps a second run out while one trains.
"""

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from models import history
from models.callbacks import EpochCheckpoint, EpochTimer, NaNGuard
from models.card import CARD_FILE, read_card
from models.checkpoint import CHECKPOINT_DIR, checkpoint_path, read_checkpoint_state, restore_checkpoint, run_history_path
from models.distribution import training_strategy
from models.errors import ModelSettingsError, ModelUnavailableError, TrainingError
from models.history import HISTORY_FILE
from models.registry import get_spec
from models.shipping import RunFacts, export_trained, jsonable
from safeio import FolderLock, atomic_write_bytes, check_swappable, finish_interrupted_swaps, leftover_temporaries, removed_line


@dataclass
class TrainingData:
    """Audio to train on and what the model card records about it.

    Attributes
    ----------
    audio : np.ndarray, shape (N, length), float32
        Training and validation samples together.
    is_validation : np.ndarray, shape (N,), bool
        True for the held-out samples.
    sample_rate : int
    families, names, files : np.ndarray, shape (N,), str
        Per sample, for the latent map (codes.npz).
    folder : str
        Where the data came from.
    preprocessing : dict
        The preprocessing settings that made the data.
    validation_kits : list of str
    family_sources : dict
        For a conditioned model: how many training sounds took their family from their
        label, how many from the classifier, and how many were left out (the card keeps it).
    """

    audio: np.ndarray
    is_validation: np.ndarray
    sample_rate: int
    families: np.ndarray
    names: np.ndarray
    files: np.ndarray
    folder: str = ""
    preprocessing: dict = field(default_factory=dict)
    validation_kits: list = field(default_factory=list)
    family_sources: dict = field(default_factory=dict)

    @classmethod
    def from_arrays(cls, audio, sample_rate, *, is_validation=None, families=None, names=None, files=None, **kwargs):
        """Wrap bare arrays (tests, scripts): missing labels become ``unknown``/indices."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[0] == 0:
            raise ModelSettingsError(f"audio must be (samples, length), got shape {audio.shape}")
        n = audio.shape[0]
        return cls(
            audio=audio,
            is_validation=np.zeros(n, bool) if is_validation is None else np.asarray(is_validation, bool),
            sample_rate=int(sample_rate),
            families=np.asarray(["unknown"] * n if families is None else families, dtype=str),
            names=np.asarray([f"sample {i}" for i in range(n)] if names is None else names, dtype=str),
            files=np.asarray([""] * n if files is None else files, dtype=str),
            **kwargs,
        )

    @property
    def length(self):
        return int(self.audio.shape[1])

    @property
    def train_audio(self):
        return self.audio[~self.is_validation]

    @property
    def validation_audio(self):
        return self.audio[self.is_validation]


@dataclass
class TrainOptions:
    """How to train (recorded in the card).

    ``epochs`` is the total to reach, as Keras' ``fit(epochs=...)``: resuming a run that
    stopped after 3 with ``epochs=10`` trains epochs 4 to 10.
    """

    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    resume: bool = False
    float16: bool = False
    validation: bool = True
    patience: int | None = None
    min_delta: float = 0.0
    verbose: int | str = "auto"


@dataclass
class TrainResult:
    name: str
    folder: Path
    epochs: int
    seconds: float
    losses: dict
    stopped: str


def model_folder(out, name):
    return Path(out) / name


def seed_everything(seed):
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def train_model(name, data, out="trained", options=None, *, log=None, **overrides):
    """Train one registry model and write its files to ``out/name/``.

    Parameters
    ----------
    name : str
        A registry name.
    data : TrainingData
    out : path-like
        The zoo folder (``trained/`` by default).
    options : TrainOptions
    log : callable, optional
        ``log(line)`` is called with one line for each thing a killed run had left that
        this run cleared or finished (a stale lock, temporary files, an interrupted save).
    **overrides
        Settings to change from the registry's defaults (e.g. ``width=8``,
        ``kl_ramp=1000``). ``length`` is taken from the data.

    Returns
    -------
    TrainResult
        With ``options.resume``, a checkpoint that already has ``options.epochs`` epochs
        (or more) and whose model is saved returns at once: nothing more to train is not
        an error (``stopped`` says so).

    Raises
    ------
    UnknownModelError, ModelSettingsError, TrainingError
    """
    options = options or TrainOptions()
    log = log or (lambda line: None)
    spec = get_spec(name)
    folder = model_folder(out, name)
    # Before the lock and any training: a folder the save cannot be swapped into (a link, a
    # mount point) is refused now, not after the run (safeio.CannotSwap, one line).
    check_swappable(folder, "a model folder")
    # Refuses at once (safeio.FolderBusy, one line naming the lock file) while another run
    # trains this model folder; a lock left by a killed run is taken over.
    lock = FolderLock(folder, what="training run", beside=True)
    with lock:
        for line in lock.notes:
            log(line)
        for line in finish_interrupted_swaps(folder, "train", kind_file=CARD_FILE):
            log(line)
        # Under the lock no other run writes here (evaluate's cache takes the same lock),
        # so every temporary file in the folder is a killed run's, whatever its pid.
        for place in (folder, folder / CHECKPOINT_DIR):
            removed = [path for path in leftover_temporaries(place) if _remove_leftover(path)]
            if removed:
                log(removed_line(place, removed))
        return _train_locked(name, spec, data, out, options, overrides)


def _remove_leftover(path):
    """Remove a killed writer's temporary file or folder; False when it cannot be."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _shipped_epochs(folder):
    """The epochs of the model saved in ``folder`` (None when there is none that reads)."""
    try:
        return read_card(Path(folder) / CARD_FILE).epochs
    except ModelUnavailableError:
        return None


def _already_trained(name, folder, done, asked):
    """The result of a resume that finds nothing more to train: the saved model as it is."""
    try:
        losses = {k: v for k, v in read_card(Path(folder) / CARD_FILE).losses.items() if v is not None}
    except ModelUnavailableError:
        losses = {}
    more = "" if done == asked else f", more than the {asked} asked"
    stopped = f"nothing to train: the checkpoint has {done} epochs already{more}; ask for more with --epochs"
    return TrainResult(name, Path(folder), done, 0.0, losses, stopped)


@dataclass
class _Start:
    """Where a run starts: the settings it builds with, and what a checkpoint already did."""

    settings: dict
    initial_epoch: int = 0
    seconds_before: float = 0.0
    save_only: bool = False  # trained far enough, but the final save did not finish
    done: bool = False  # nothing more to train or save


def _train_locked(name, spec, data, out, options, overrides):
    folder = model_folder(out, name)
    ckpt = checkpoint_path(out, name)
    history_csv = run_history_path(out, name)
    overrides = _data_overrides(name, spec, data, overrides)
    start = _resume_point(name, ckpt, folder, options, overrides) if options.resume else _fresh_start(spec, ckpt, overrides)
    if start.done:
        return _already_trained(name, folder, start.initial_epoch, options.epochs)
    if data.train_audio.shape[0] == 0:
        raise TrainingError(f"{name}: no training samples (all {data.audio.shape[0]} are validation)")

    seed_everything(options.seed)
    strategy = training_strategy()
    with strategy.scope():
        nets = spec.build(**{k: v for k, v in start.settings.items() if k != "name"})
    if options.resume:
        restore_checkpoint(ckpt, nets)
    if nets.prepare is not None:
        labels = {"families": data.families[~data.is_validation]} if nets.needs_families else {}
        nets.prepare(data.train_audio, resumed=options.resume, **labels)
    _prepare_history(folder, history_csv, options, start.initial_epoch)
    guard = NaNGuard()
    run_state = {
        "name": name,
        "kind": spec.kind,
        "settings": jsonable(nets.settings),
        "batch_size": options.batch_size,
        "seed": options.seed,
    }
    checkpoint = EpochCheckpoint(ckpt, nets, run_state, guard, start.seconds_before)
    started = time.perf_counter()
    stopper = None
    if not start.save_only:
        stopper = _fit(
            nets,
            data,
            options,
            start.initial_epoch,
            [guard, *nets.callbacks, EpochTimer(), checkpoint, keras.callbacks.CSVLogger(str(history_csv), append=options.resume)],
        )
    seconds = time.perf_counter() - started
    _refuse_a_nan_run(name, guard, checkpoint, ckpt, start.initial_epoch if options.resume else None)
    epochs_done = checkpoint.last_saved_epoch or start.initial_epoch
    kept = _kept_epoch(stopper)
    stopped = "completed"
    if epochs_done < options.epochs:
        stopped = f"early stopping after epoch {epochs_done} (no {nets.monitor} improvement)"
    if stopper is not None and kept is not None and kept != epochs_done:
        stopped += f"; the weights are epoch {kept}'s, its best {stopper.monitor}"

    distribution = f"{type(strategy).__name__} x{strategy.num_replicas_in_sync}"
    export_trained(
        folder,
        nets,
        data,
        options,
        RunFacts(start.initial_epoch, epochs_done, start.seconds_before + seconds, stopped, distribution, kept),
        history_csv=history_csv,
    )
    losses = history.losses_of_epoch(history.read_history(history_csv), kept)
    return TrainResult(name, folder, epochs_done, seconds, losses, stopped)


def _data_overrides(name, spec, data, overrides):
    """The settings given, plus those the data decides (length, rate, attack)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "length" in overrides and overrides["length"] != data.length:
        raise ModelSettingsError(f"{name}: length {overrides['length']} but the data has {data.length}")
    overrides["length"] = data.length
    if "sample_rate" in spec.defaults:
        overrides["sample_rate"] = int(data.sample_rate)
    if "attack_seconds" in spec.defaults and data.preprocessing.get("attack_seconds"):
        overrides["attack_seconds"] = float(data.preprocessing["attack_seconds"])
    return overrides


def _fresh_start(spec, ckpt, overrides):
    """A run from scratch: the registry's settings with ``overrides``; an old checkpoint goes."""
    settings = spec.settings(**overrides)
    if ckpt.parent.exists():
        shutil.rmtree(ckpt.parent)
    return _Start(settings)


def _resume_point(name, ckpt, folder, options, overrides):
    """Where the checkpoint left the run; refuses settings that differ from the checkpoint's."""
    state = read_checkpoint_state(ckpt)
    settings = state["settings"]
    clash = {k: v for k, v in overrides.items() if k in settings and _differs(settings[k], v)}
    if clash:
        said = ", ".join(f"{k}={v} (checkpoint: {settings[k]})" for k, v in clash.items())
        raise TrainingError(f"{name}: cannot resume with {said}; drop them or train afresh")
    start = _Start(settings, int(state["epoch"]), float(state.get("seconds", 0.0)))
    if start.initial_epoch >= options.epochs and _shipped_epochs(folder) != start.initial_epoch:
        # The run trained this far but its final save did not finish: save it now.
        start.save_only = True
    elif start.initial_epoch >= options.epochs:
        start.done = True
    return start


def _prepare_history(folder, history_csv, options, initial_epoch):
    """Make the folders; on resume, keep the run's history up to where the checkpoint is."""
    folder.mkdir(parents=True, exist_ok=True)
    history_csv.parent.mkdir(parents=True, exist_ok=True)
    if options.resume:
        shipped_history = folder / HISTORY_FILE
        if not history_csv.is_file() and shipped_history.is_file():  # a folder of an older version
            atomic_write_bytes(history_csv, shipped_history.read_bytes())
        history.keep_epochs_before(history_csv, initial_epoch)


def _fit(nets, data, options, initial_epoch, callbacks):
    """Keras' ``fit`` over the training audio, validating and stopping early as asked.

    Returns the early stopping callback (None without ``--patience``). It puts back the
    weights of the epoch with the best monitored loss when training ends, so those are the
    weights shipped; the checkpoint keeps the last epoch's, which a resume goes on from.
    """
    validation = data.validation_audio if options.validation else data.validation_audio[:0]
    has_validation = validation.shape[0] > 0
    stopper = None
    if options.patience is not None and nets.monitor is not None:
        monitor = ("val_" if has_validation else "") + nets.monitor
        stopper = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=options.patience, min_delta=options.min_delta, mode="min", restore_best_weights=True
        )
        callbacks.append(stopper)
    train_x = train_y = data.train_audio
    validation_data: tuple | None = (validation, validation) if has_validation else None
    if nets.inputs is not None:  # what the model trains on, made from the sounds once
        train_x, train_y = nets.inputs(data.train_audio)
        if has_validation:
            x, y = nets.inputs(validation)
            validation_data = (x,) if y is None else (x, y)
    nets.trainer.fit(
        train_x,
        train_y,
        batch_size=options.batch_size,
        epochs=options.epochs,
        initial_epoch=initial_epoch,
        validation_data=validation_data,
        callbacks=callbacks,
        shuffle=True,
        verbose=options.verbose,
    )
    return stopper


def _kept_epoch(stopper):
    """The epoch (from 1) whose weights early stopping put back, or None (no early stopping,
    or no epoch was measured): the best of the epochs this run trained."""
    if stopper is None or stopper.best_weights is None:
        return None
    return int(stopper.best_epoch) + 1


def _refuse_a_nan_run(name, guard, checkpoint, ckpt, resumed_from):
    """Raise TrainingError saying where a loss became NaN and which checkpoint is kept."""
    if guard.tripped_at is None:
        return
    epoch, batch, key = guard.tripped_at
    kept = checkpoint.last_saved_epoch or resumed_from
    where = f"the checkpoint of epoch {kept} is kept in {ckpt.parent}" if kept else "no epoch finished, so there is no checkpoint"
    raise TrainingError(f"{name}: {key} became NaN/infinite in epoch {epoch + 1}, batch {batch + 1}; training stopped and {where}")


def _differs(a, b):
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a) != list(b)
    return a != b
