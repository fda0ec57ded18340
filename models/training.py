"""Training a registry model on arrays, with checkpoints, resume and the shipped files.

The core takes arrays plus what should be recorded about them (:class:`TrainingData`);
the ``train`` command adapts a preprocessed dataset folder to it. ``fit`` does the work:
Keras' progress output, ``CSVLogger`` for the history, and three small callbacks of ours:

- :class:`NaNGuard` stops at the first batch whose losses are not finite (Keras'
  ``TerminateOnNaN`` for every loss, not only ``loss``: the GAN has ``d_loss``/``g_loss``);
- :class:`EpochCheckpoint` writes ``OUT/NAME/checkpoint/checkpoint.npz`` after every epoch
  whose losses are finite: every variable of the training model and of its optimizers, plus
  the state (epoch, settings, time). A NaN epoch is never saved over the last good one.
- :class:`EpochTimer` adds the epoch's wall time to the logs (``epoch_seconds``).

At the end the files of ``trained/<name>/`` are written as one set: decoder.keras,
encoder.keras (not for the GAN), codes.npz, card.json, history.csv, loss.png go into a
staging folder beside it, which is swapped in whole (:func:`safeio.swap_in`), so a crash
leaves the old model or the new one, never a mix; ``checkpoint/`` (with the run's
history.csv) is carried into the new set, so a resumable checkpoint is never lost. A lock
beside the folder (``.NAME.lock``) keeps a second run out while one trains.
ddsp_vae also writes synth.npz, its decoder for the NumPy synthesiser (:mod:`models.drumsynth`).
"""
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from models import history
from models.card import CARD_FILE, CARD_VERSION, read_card, write_card
from models.distribution import training_strategy
from models.errors import ModelSettingsError, ModelUnavailableError, TrainingError
from models.registry import get_spec
from models.saving import npz_json, save_model_file
from safeio import (
    FolderLock,
    atomic_write,
    atomic_write_bytes,
    check_swappable,
    finish_interrupted_swaps,
    leftover_temporaries,
    removed_line,
    staging_folder,
    swap_in,
)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "checkpoint.npz"
#: 2: variables keyed by their path; 1 (still read): numbered in order.
CHECKPOINT_VERSION = 2
HISTORY_FILE = "history.csv"
#: ddsp_vae's decoder for NumPy (:func:`models.drumsynth.read_weights`), beside the .keras.
SYNTH_FILE = "synth.npz"
#: The shipped set: replaced together; anything else in the folder is carried over.
SHIPPED_FILES = ("decoder.keras", "encoder.keras", "codes.npz", SYNTH_FILE, CARD_FILE, HISTORY_FILE, "loss.png")


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
    def from_arrays(cls, audio, sample_rate, *, is_validation=None, families=None, names=None,
                    files=None, **kwargs):
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


def checkpoint_path(out, name):
    return model_folder(out, name) / CHECKPOINT_DIR / CHECKPOINT_FILE


def run_history_path(out, name):
    """The running history of a training run (beside its checkpoint; shipped at the end)."""
    return model_folder(out, name) / CHECKPOINT_DIR / HISTORY_FILE


def seed_everything(seed):
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


# --------------------------------------------------------------------------- checkpoints

def _variable_groups(nets):
    """``(prefix, variables)`` of every checkpointed variable: the training model's, then
    each optimizer's."""
    return [("model", nets.trainer.weights)] + [(f"opt/{n}", o.variables) for n, o in nets.optimizers.items()]


def _variable_key(prefix, variable):
    """A variable's name in a checkpoint: its path, under its group's prefix.

    An optimizer's variables are named after the optimizer (``adam_3/iteration``), which
    Keras numbers by how many were made before in the process; the key drops that part,
    so a resumed run finds them whatever was built before it.
    """
    path = variable.path
    if prefix != "model":
        path = path.split("/", 1)[-1]
    return f"{prefix}/{path}"


def save_checkpoint(path, nets, state):
    """Write every variable of the training model and its optimizers, each under its path,
    plus ``state`` (a JSON-able dict), to one .npz, atomically."""
    arrays = {}
    for prefix, variables in _variable_groups(nets):
        for v in variables:
            arrays[_variable_key(prefix, v)] = np.asarray(v.numpy())
    arrays["state"] = np.array(json.dumps({**state, "version": CHECKPOINT_VERSION}))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: np.savez(file, **arrays))


def read_checkpoint_state(path):
    """The state dict of a checkpoint (epoch, settings, seconds, ...).

    Raises
    ------
    TrainingError
        No checkpoint, or one that cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"{path}: no checkpoint to resume from; train without --resume")
    try:
        with np.load(path, allow_pickle=False) as archive:
            state = npz_json(archive, "state", path)  # bounded: size, depth
    except ModelUnavailableError as error:
        reason = str(error).removeprefix(f"{path}: damaged (").removesuffix(")")
        raise TrainingError(f"{path}: damaged checkpoint ({reason}); train without --resume") from None
    except (OSError, ValueError, KeyError) as error:
        raise TrainingError(f"{path}: damaged checkpoint ({error}); train without --resume") from None
    if not isinstance(state, dict):
        raise TrainingError(f"{path}: damaged checkpoint (its state is not a JSON object); "
                            "train without --resume")
    return state


def restore_checkpoint(path, nets):
    """Load a checkpoint's variables into freshly built networks (same settings).

    Each variable is found by its path (version 2); a variable the checkpoint lacks, or one
    it holds that the model does not (a renamed layer), is refused by name. Checkpoints of
    version 1 list the variables in order, and are restored by position.
    """
    state = read_checkpoint_state(path)
    with np.load(path, allow_pickle=False) as archive:
        for prefix, variables in _variable_groups(nets):
            if int(state.get("version", 1)) < 2:
                pairs = _by_position(path, archive, prefix, variables)
            else:
                pairs = _by_path(path, archive, prefix, variables)
            for key, variable in pairs:
                value = archive[key]
                if tuple(value.shape) != tuple(variable.shape):
                    raise TrainingError(
                        f"{path}: {prefix} variable {variable.path} has shape {value.shape}, "
                        f"the model expects {tuple(variable.shape)}; train without --resume"
                    )
                variable.assign(value)


def _by_position(path, archive, prefix, variables):
    """``(key, variable)`` pairs of a version-1 checkpoint, whose keys number the variables."""
    keys = sorted(k for k in archive.files if k.startswith(prefix + "/"))
    if len(keys) != len(variables):
        raise TrainingError(
            f"{path}: holds {len(keys)} {prefix} variables, the model has "
            f"{len(variables)}; train without --resume"
        )
    return list(zip(keys, variables))


def _by_path(path, archive, prefix, variables):
    """``(key, variable)`` pairs matched by the variables' paths; refuses names that differ."""
    wanted = {_variable_key(prefix, v): v for v in variables}
    held = {k for k in archive.files if k.startswith(prefix + "/")}
    missing = [k for k in wanted if k not in held]
    if missing:
        extra = sorted(held - set(wanted))
        instead = f" (it holds {_names(extra, prefix)} instead)" if extra else ""
        raise TrainingError(f"{path}: has no {prefix} variable {_names(missing, prefix)}{instead}; "
                            "train without --resume")
    extra = sorted(held - set(wanted))
    if extra:
        raise TrainingError(f"{path}: holds {prefix} variable {_names(extra, prefix)}, which the model "
                            "does not have; train without --resume")
    return [(key, wanted[key]) for key in wanted]


def _names(keys, prefix, shown=3):
    """Up to ``shown`` variable names, without their group's prefix."""
    names = [key.removeprefix(prefix + "/") for key in keys]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


# --------------------------------------------------------------------------- callbacks

class NaNGuard(keras.callbacks.Callback):
    """Stop training at the first batch with a loss that is NaN or infinite, and remember
    where (``tripped_at = (epoch, batch, key)``)."""

    def __init__(self):
        super().__init__()
        self.tripped_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if not np.all(np.isfinite(value)):
                self.tripped_at = (self._epoch, batch, key)
                self.model.stop_training = True
                return


class EpochTimer(keras.callbacks.Callback):
    """Add ``epoch_seconds`` (the epoch's wall time) to the logs, so the CSV has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class EpochCheckpoint(keras.callbacks.Callback):
    """Save a checkpoint after every epoch whose losses are all finite."""

    def __init__(self, path, nets, state, guard, seconds_before=0.0):
        super().__init__()
        self.path = path
        self.nets = nets
        self.state = state
        self.guard = guard
        self.seconds_before = seconds_before
        self.last_saved_epoch = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        finite = all(np.all(np.isfinite(v)) for v in (logs or {}).values())
        if self.guard.tripped_at is not None or not finite:
            return
        seconds = self.seconds_before + time.perf_counter() - self._start
        save_checkpoint(self.path, self.nets, {**self.state, "epoch": epoch + 1,
                                               "seconds": seconds})
        self.last_saved_epoch = epoch + 1


# --------------------------------------------------------------------------- training

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
    stopped = (f"nothing to train: the checkpoint has {done} epochs already{more}; "
               f"ask for more with --epochs")
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
        labels = {"families": data.families[~data.is_validation]} if nets.inputs is not None else {}
        nets.prepare(data.train_audio, resumed=options.resume, **labels)
    _prepare_history(folder, history_csv, options, start.initial_epoch)
    guard = NaNGuard()
    run_state = {"name": name, "kind": spec.kind, "settings": _jsonable(nets.settings),
                 "batch_size": options.batch_size, "seed": options.seed}
    checkpoint = EpochCheckpoint(ckpt, nets, run_state, guard, start.seconds_before)
    started = time.perf_counter()
    if not start.save_only:
        _fit(nets, data, options, start.initial_epoch, [guard, *nets.callbacks, EpochTimer(), checkpoint,
                                                        keras.callbacks.CSVLogger(str(history_csv), append=options.resume)])
    seconds = time.perf_counter() - started
    _refuse_a_nan_run(name, guard, checkpoint, ckpt, start.initial_epoch if options.resume else None)
    epochs_done = checkpoint.last_saved_epoch or start.initial_epoch
    stopped = "completed"
    if epochs_done < options.epochs:
        stopped = f"early stopping after epoch {epochs_done} (no {nets.monitor} improvement)"

    distribution = f"{type(strategy).__name__} x{strategy.num_replicas_in_sync}"
    export_trained(folder, nets, data, options,
                   RunFacts(start.initial_epoch, epochs_done, start.seconds_before + seconds, stopped, distribution),
                   history_csv=history_csv)
    columns = history.read_history(history_csv)
    losses = {k: v[-1] for k, v in columns.items() if k not in ("epoch", "epoch_seconds") and v}
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
    """Keras' ``fit`` over the training audio, validating and stopping early as asked."""
    validation = data.validation_audio if options.validation else data.validation_audio[:0]
    has_validation = validation.shape[0] > 0
    if options.patience is not None and nets.monitor is not None:
        monitor = ("val_" if has_validation else "") + nets.monitor
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=monitor, patience=options.patience, min_delta=options.min_delta, mode="min"))
    train_x = train_y = data.train_audio
    validation_data = (validation, validation) if has_validation else None
    if nets.inputs is not None:  # a conditioned model: the sounds with their families
        train_x, train_y = nets.inputs(data.train_audio, data.families[~data.is_validation])
        if has_validation:
            validation_data = nets.inputs(validation, data.families[data.is_validation])
    nets.trainer.fit(
        train_x, train_y,
        batch_size=options.batch_size,
        epochs=options.epochs,
        initial_epoch=initial_epoch,
        validation_data=validation_data,
        callbacks=callbacks,
        shuffle=True,
        verbose=options.verbose,
    )


def _refuse_a_nan_run(name, guard, checkpoint, ckpt, resumed_from):
    """Raise TrainingError saying where a loss became NaN and which checkpoint is kept."""
    if guard.tripped_at is None:
        return
    epoch, batch, key = guard.tripped_at
    kept = checkpoint.last_saved_epoch or resumed_from
    where = (f"the checkpoint of epoch {kept} is kept in {ckpt.parent}"
             if kept else "no epoch finished, so there is no checkpoint")
    raise TrainingError(
        f"{name}: {key} became NaN/infinite in epoch {epoch + 1}, batch {batch + 1}; "
        f"training stopped and {where}"
    )


def _plotted(nets):
    return nets.loss_names[:1] if nets.kind == "vae" else nets.loss_names


def _differs(a, b):
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a) != list(b)
    return a != b


def _jsonable(settings):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


# --------------------------------------------------------------------------- export

def latent_codes(nets, audio, batch_size=64, families=None):
    """Encode audio (N, length) to points (N, 2): the mean for a VAE; None for the GAN.

    A conditioned model encodes each sound with its family (``families``, labels); a sound
    with none of the seven is encoded with an even mix of them.
    """
    if nets.encoder is None:
        return None
    if nets.inputs is not None:
        from models.ddsp_cvae import N_FAMILIES, family_weights

        weights = family_weights(np.asarray(families if families is not None else [""] * len(audio)))
        weights[np.isnan(weights).any(axis=1)] = 1.0 / N_FAMILIES
        audio = [np.asarray(audio, np.float32), weights]
    out = nets.encoder.predict(audio, batch_size=batch_size, verbose=0)
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out, dtype=np.float32)


@dataclass(frozen=True)
class RunFacts:
    """What a finished run did, as its card records it.

    Attributes
    ----------
    initial_epoch : int
        The epoch it resumed from (0 for a fresh run).
    epochs : int
        The epochs the model has now.
    seconds : float
        Training time, resumed runs included.
    stopped : str
        Why it stopped ("completed", "early stopping after epoch 7 ...").
    distribution : str
        The distribution strategy and its replicas.
    """

    initial_epoch: int
    epochs: int
    seconds: float
    stopped: str
    distribution: str = "default"


def export_trained(folder, nets, data, options, run, *, history_csv=None):
    """Write the shipped files of a trained model into ``folder``, as one set.

    The new set is written into a staging folder beside ``folder`` and swapped in whole;
    what else the folder holds (``checkpoint/``, cached metrics) is carried into it.

    Parameters
    ----------
    run : RunFacts
    history_csv : Path, optional
        The run's history (default: ``folder/checkpoint/history.csv``); shipped as
        ``history.csv`` with its plot ``loss.png``.

    Returns
    -------
    dict
        The card written.
    """
    folder = Path(folder)
    history_csv = Path(history_csv) if history_csv is not None else folder / CHECKPOINT_DIR / HISTORY_FILE
    staged = staging_folder(folder, "train")
    try:
        save_model_file(nets.decoder, staged / "decoder.keras", float16=options.float16)
        from models.ddsp import numpy_decoder_weights, synth_layer

        if synth_layer(nets.decoder) is not None:
            weights = numpy_decoder_weights(nets.decoder, float16=options.float16)
            atomic_write(staged / SYNTH_FILE, lambda file: np.savez(file, **weights))
        if nets.encoder is not None:
            save_model_file(nets.encoder, staged / "encoder.keras", float16=options.float16)
            points = latent_codes(nets, data.audio, families=data.families)
            atomic_write(staged / "codes.npz", lambda file: np.savez_compressed(
                file, points=points, families=data.families, names=data.names,
                files=data.files, is_validation=data.is_validation))
        shipped_history = staged / HISTORY_FILE
        atomic_write_bytes(shipped_history, history_csv.read_bytes() if history_csv.is_file() else b"")
        history.write_loss_plot(shipped_history, staged / "loss.png", nets.settings["name"], _plotted(nets))
        columns = history.read_history(shipped_history)
        card = model_card(nets, data, options, columns, run)
        write_card(staged / CARD_FILE, card)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)  # only new files are in it yet
        raise
    # From here a crash is finished by the next run (finish_interrupted_swaps), not undone.
    swap_in(staged, folder, drop=SHIPPED_FILES)
    return card


def model_card(nets, data, options, columns, run):
    """The model card: what this model is, what it was trained on and how, and how it did
    (``run``: :class:`RunFacts`)."""
    initial_epoch, epochs, seconds, stopped = run.initial_epoch, run.epochs, run.seconds, run.stopped
    distribution = run.distribution
    spec = get_spec(nets.settings["name"])
    n_val = int(data.is_validation.sum())
    families, counts = np.unique(data.families, return_counts=True)
    losses = {k: _finite_or_none(v[-1]) for k, v in columns.items()
              if k not in ("epoch", "epoch_seconds") and v}
    epoch_seconds = [s for s in columns.get("epoch_seconds", []) if np.isfinite(s)]
    return {
        "version": CARD_VERSION,
        "name": spec.name,
        "kind": spec.kind,
        "group": spec.group,
        "summary": spec.summary,
        "config": _jsonable(nets.settings),
        "sample_rate": int(data.sample_rate),
        "sample_length": int(data.length),
        "latent": spec.prior.card_record(),
        "parameters": nets.shipped_parameters,
        "training_parameters": int(sum(int(np.prod(v.shape)) for v in nets.trainer.weights)),
        "epochs": int(epochs),
        "data": {
            "folder": str(data.folder),
            "samples": int(data.audio.shape[0]),
            "train_samples": int(data.audio.shape[0] - n_val),
            "validation_samples": n_val,
            "validation_kits": list(data.validation_kits),
            "families": {str(f): int(c) for f, c in zip(families, counts)},
            **({"family_sources": dict(data.family_sources)} if data.family_sources else {}),
        },
        "preprocessing": dict(data.preprocessing),
        "training": {
            "epochs": int(epochs),
            "resumed_from_epoch": int(initial_epoch) if options.resume else None,
            "batch_size": int(options.batch_size),
            "seed": int(options.seed),
            "validation": bool(options.validation and n_val > 0),
            "early_stopping": ({"patience": options.patience, "min_delta": options.min_delta,
                                # the quantity EarlyStopping watched: val_ when there was validation
                                "monitor": ("val_" if options.validation and n_val > 0 else "")
                                + nets.monitor}
                               if options.patience is not None and nets.monitor else None),
            "stopped": stopped,
            "seconds": round(float(seconds), 2),
            "mean_epoch_seconds": round(float(np.mean(epoch_seconds)), 3) if epoch_seconds else None,
            "float16": bool(options.float16),
            "distribution": distribution,
        },
        "losses": losses,
        "files": {"decoder": "decoder.keras",
                  "encoder": "encoder.keras" if nets.encoder is not None else None,
                  "codes": "codes.npz" if nets.encoder is not None else None,
                  **({"synth": SYNTH_FILE} if "noise_seed" in nets.settings else {})},
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _finite_or_none(value):
    return float(value) if np.isfinite(value) else None
