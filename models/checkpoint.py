"""Training checkpoints: every variable of the training model and of its optimizers, plus the
run's state (epoch, settings, time), in one ``.npz`` beside the model
(``OUT/NAME/checkpoint/checkpoint.npz``), so an interrupted or extended run resumes where the
last good epoch left it. A checkpoint is for resuming, never shipped."""

import json
from pathlib import Path

import numpy as np

from models.errors import ModelUnavailableError, TrainingError
from models.history import HISTORY_FILE
from models.saving import npz_json
from safeio import atomic_write

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "checkpoint.npz"
#: 2: variables keyed by their path; 1 (still read): numbered in order.
CHECKPOINT_VERSION = 2


def checkpoint_path(out, name):
    """The checkpoint of model ``name`` in the zoo folder ``out``."""
    return Path(out) / name / CHECKPOINT_DIR / CHECKPOINT_FILE


def run_history_path(out, name):
    """The running history of a training run (beside its checkpoint; shipped at the end)."""
    return Path(out) / name / CHECKPOINT_DIR / HISTORY_FILE


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
    atomic_write(path, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]  # numpy's stub takes allow_pickle for a name


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
        raise TrainingError(f"{path}: damaged checkpoint (its state is not a JSON object); train without --resume")
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
        raise TrainingError(f"{path}: holds {len(keys)} {prefix} variables, the model has {len(variables)}; train without --resume")
    return list(zip(keys, variables))


def _by_path(path, archive, prefix, variables):
    """``(key, variable)`` pairs matched by the variables' paths; refuses names that differ."""
    wanted = {_variable_key(prefix, v): v for v in variables}
    held = {k for k in archive.files if k.startswith(prefix + "/")}
    missing = [k for k in wanted if k not in held]
    if missing:
        extra = sorted(held - set(wanted))
        instead = f" (it holds {_names(extra, prefix)} instead)" if extra else ""
        raise TrainingError(f"{path}: has no {prefix} variable {_names(missing, prefix)}{instead}; train without --resume")
    extra = sorted(held - set(wanted))
    if extra:
        raise TrainingError(
            f"{path}: holds {prefix} variable {_names(extra, prefix)}, which the model does not have; train without --resume"
        )
    return [(key, wanted[key]) for key in wanted]


def _names(keys, prefix, shown=3):
    """Up to ``shown`` variable names, without their group's prefix."""
    names = [key.removeprefix(prefix + "/") for key in keys]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
