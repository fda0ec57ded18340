"""A trained model's shipped files, written as one set: decoder.keras, encoder.keras (not for
the GAN), codes.npz, card.json, history.csv, loss.png (and ddsp_vae's synth.npz, its decoder
for the NumPy synthesiser of :mod:`models.drumsynth`) go into a staging folder beside
``trained/<name>/``, which is swapped in whole (:func:`safeio.swap_in`), so a crash leaves the
old model or the new one, never a mix; ``checkpoint/`` and anything else in the folder is
carried into the new set. The model card (:func:`model_card`) records what made the model."""

import platform
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from models import history
from models.card import CARD_FILE, CARD_VERSION, write_card
from models.checkpoint import CHECKPOINT_DIR
from models.history import HISTORY_FILE
from models.registry import get_spec
from models.saving import save_model_file
from safeio import atomic_write, atomic_write_bytes, staging_folder, swap_in

#: ddsp_vae's decoder for NumPy (:func:`models.synth_weights.read_weights`), beside the .keras.
SYNTH_FILE = "synth.npz"
#: The shipped set: replaced together; anything else in the folder is carried over.
SHIPPED_FILES = ("decoder.keras", "encoder.keras", "codes.npz", SYNTH_FILE, CARD_FILE, HISTORY_FILE, "loss.png")


def latent_codes(nets, audio, batch_size=64):
    """Encode audio (N, length) to codes (N, D): the mean for a VAE (D = 2 but for a wide
    code, ddsp_cvae's); None for the GAN."""
    if nets.encoder is None:
        return None
    out = nets.encoder.predict(audio, batch_size=batch_size, verbose=0)
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out, dtype=np.float32)


def wide_code_places(nets, codes, data):
    """The 2-D points codes.npz keeps for a wide code (N, D): each sound where its own
    family's pad plays it (:meth:`models.family_pads.FamilyPads.own_places`), the pads fitted
    as the model will fit them when it loads."""
    from models.family_pads import FamilyPads
    from models.trained_folder import LatentCodes

    name = nets.settings["name"]
    spec = get_spec(name)
    labelled = LatentCodes(codes, np.asarray(data.families).astype(str), data.names, data.files, np.asarray(data.is_validation, bool))
    pads = FamilyPads.fit(name, labelled, spec.prior.square())
    points, _ = pads.own_places(codes, labelled.families)
    return points


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
    kept_epoch : int or None
        The epoch (from 1) whose weights are shipped, where early stopping put back its best
        epoch's; None: the last epoch's.
    """

    initial_epoch: int
    epochs: int
    seconds: float
    stopped: str
    distribution: str = "default"
    kept_epoch: int | None = None


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
            points = latent_codes(nets, data.audio)
            wide = {}
            if nets.kind == "synth_ae":  # a code of D numbers (ddsp_cvae): each sound on its family's pad
                wide = {"full": points}
                points = wide_code_places(nets, points, data)
            atomic_write(
                staged / "codes.npz",
                lambda file: np.savez_compressed(
                    file,
                    points=points,
                    families=data.families,
                    names=data.names,
                    files=data.files,
                    is_validation=data.is_validation,
                    **wide,
                ),
            )
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
    losses = {k: _finite_or_none(v) for k, v in history.losses_of_epoch(columns, run.kept_epoch).items()}
    epoch_seconds = [s for s in columns.get("epoch_seconds", []) if np.isfinite(s)]
    return {
        "version": CARD_VERSION,
        "name": spec.name,
        "kind": spec.kind,
        "group": spec.group,
        "summary": spec.summary,
        "config": jsonable(nets.settings),
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
            "early_stopping": (
                {
                    "patience": options.patience,
                    "min_delta": options.min_delta,
                    # the quantity EarlyStopping watched: val_ when there was validation
                    "monitor": ("val_" if options.validation and n_val > 0 else "") + nets.monitor,
                }
                if options.patience is not None and nets.monitor
                else None
            ),
            "stopped": stopped,
            # the epoch whose weights these are (its losses are the card's), where early stopping
            # put back its best; absent: the last epoch's
            **({"kept_epoch": int(run.kept_epoch)} if run.kept_epoch is not None else {}),
            "seconds": round(float(seconds), 2),
            "mean_epoch_seconds": round(float(np.mean(epoch_seconds)), 3) if epoch_seconds else None,
            "float16": bool(options.float16),
            "distribution": distribution,
        },
        "losses": losses,
        "files": {
            "decoder": "decoder.keras",
            "encoder": "encoder.keras" if nets.encoder is not None else None,
            "codes": "codes.npz" if nets.encoder is not None else None,
            **({"synth": SYNTH_FILE} if "noise_seed" in nets.settings else {}),
        },
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _finite_or_none(value):
    return float(value) if np.isfinite(value) else None


def _plotted(nets):
    return nets.loss_names[:1] if nets.kind == "vae" else nets.loss_names


def jsonable(settings):
    """Settings as JSON holds them: tuples become lists (the card's and the checkpoint's)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
