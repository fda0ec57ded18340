"""``app.py import-model``'s work: check a researcher's decoder (and encoder) before
anything is written, then write the model folder into a zoo as a whole set.

The checks, in order, each an :class:`models.imported_formats.ImportRefused` naming the file
and what failed, in one line:

1. the file: a regular ``.keras`` or ``.onnx`` file of at most ``MAX_MODEL_BYTES`` (a
   larger one is refused by its size alone); no Lambda layer in a ``.keras``; only the
   allowed operators in an ONNX graph;
2. shapes: a batch of N latent vectors (N, D) in, audio (N, length) out;
3. a decoded grid (:data:`GRID_SIDE` squared points over the pad's two axes, the rest at the
   centre, and the corners of the whole range): finite, not all silent, its peak at most
   :data:`PEAK_LIMIT`;
4. the decode time of one point: at most :data:`DECODE_SECONDS_LIMIT`.

The card records what passed: the files' sha256 and formats, the latent (size, range, where
the range came from, the pad's axes), the rate and length, and the figures of the checks.
"""

import hashlib
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from constants import SAMPLE_RATE
from models.card import CARD_FILE, MAX_LATENT_DIM, ModelCard, write_card
from models.imported_formats import (
    MAX_MODEL_BYTES,
    ImportRefused,
    Network,
    check_keras_archive,
    check_onnx_operators,
    file_format,
    keras_reference,
    onnx_network,
    read_model_bytes,
)
from models.trained_folder import CODES_FILE, RANGE_MARGIN

#: Points per side of the decoded grid checked before import.
GRID_SIDE = 4
#: The largest peak a decoded sound may have: +6 dB over full scale. A decoder whose sounds
#: are louder is not making audio in [-1, 1] (wrong output scaling).
PEAK_LIMIT = 2.0
#: A grid whose every sound peaks below this is silent.
SILENCE = 1e-4
#: The slowest a decode of one point may be: the window and the page decode while dragging.
DECODE_SECONDS_LIMIT = 0.5
#: The latent range when none is given and none comes from codes: +-3 per axis, a unit
#: normal prior's 3 standard deviations (as the VAEs' pad).
DEFAULT_RANGE = (-3.0, 3.0)
#: Timed decodes of one point (the median is recorded).
TIMED_DECODES = 5


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_network(path: Path, data: bytes, fmt: str) -> tuple[Network, int | None, list[str]]:
    """The network of a checked file, its input width (None when unknown) and, for ONNX,
    the operators it uses."""
    if fmt == "onnx":
        operators = check_onnx_operators(path, data)
        run, width = onnx_network(path, data)
        return run, width, operators
    check_keras_archive(path, data)
    run = keras_reference(path)
    return run, getattr(run, "input_width", None), []


def _batch(run: Network, points: np.ndarray, path: Path, what: str) -> np.ndarray:
    try:
        return np.asarray(run(points))
    except (ValueError, TypeError, IndexError) as error:
        raise ImportRefused(f"{path}: cannot {what} ({error})") from None
    except Exception as error:  # noqa: BLE001 - TensorFlow's own errors for a graph that cannot run the batch
        raise ImportRefused(f"{path}: cannot {what} ({type(error).__name__}: {str(error).splitlines()[0][:160]})") from None


def latent_width(width: int | None, given_dim: int | None, path: Path) -> int:
    """D: the network's input width, or the one given where the file leaves it symbolic."""
    dim = width if width is not None else given_dim
    if dim is None:
        raise ImportRefused(f"{path}: its input width is not fixed in the file; give it with --latent-dim D")
    if not 1 <= dim <= MAX_LATENT_DIM:
        raise ImportRefused(f"{path}: takes vectors of {dim} numbers; a latent has 1 to {MAX_LATENT_DIM}")
    if width is not None and given_dim is not None and width != given_dim:
        raise ImportRefused(f"{path}: takes vectors of {width} numbers, not the {given_dim} given")
    return dim


def check_shapes(run: Network, dim: int, path: Path) -> int:
    """The sample length the decoder makes; ImportRefused unless (N, D) in gives (N, length)
    out for N = 1 and 3."""
    length = None
    for count in (3, 1):
        out = _batch(run, np.zeros((count, dim), np.float32), path, f"decode a batch of {count} points of {dim} dimensions")
        if out.ndim != 2 or out.shape[0] != count or out.shape[1] < 1:
            raise ImportRefused(
                f"{path}: outputs shape {tuple(out.shape)} for {count} points; it must be ({count}, length), a row of audio a point"
            )
        if length is not None and out.shape[1] != length:
            raise ImportRefused(f"{path}: makes {out.shape[1]} samples for one point and {length} for three")
        length = out.shape[1]
    assert length is not None
    return int(length)


def grid_points(low: np.ndarray, high: np.ndarray, center: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    """The checked grid: GRID_SIDE x GRID_SIDE over the pad's axes (others at the centre),
    the centre, and the two far corners of the whole range."""
    xs = np.linspace(low[axes[0]], high[axes[0]], GRID_SIDE)
    ys = np.linspace(low[axes[1]], high[axes[1]], GRID_SIDE)
    rows = [center.copy(), low.copy(), high.copy()]
    for x in xs:
        for y in ys:
            row = center.copy()
            row[axes[0]], row[axes[1]] = x, y
            rows.append(row)
    return np.asarray(rows, np.float32)


def check_grid(run: Network, points: np.ndarray, length: int, path: Path) -> dict[str, Any]:
    """The grid's figures; ImportRefused when it is not finite, all silent, or too loud."""
    audio = _batch(run, points, path, "decode the grid")
    if audio.shape != (len(points), length):
        raise ImportRefused(f"{path}: outputs shape {tuple(audio.shape)} for {len(points)} points, not ({len(points)}, {length})")
    if not np.isfinite(audio).all():
        bad = int((~np.isfinite(audio)).any(axis=1).sum())
        raise ImportRefused(f"{path}: decodes NaN or infinite samples ({bad} of {len(points)} grid points)")
    peak = float(np.max(np.abs(audio)))
    if peak < SILENCE:
        raise ImportRefused(f"{path}: decodes silence at every one of {len(points)} grid points (peak {peak:.2g})")
    if peak > PEAK_LIMIT:
        raise ImportRefused(f"{path}: decodes a peak of {peak:.3g}, over the limit of {PEAK_LIMIT:g} (audio is -1 to 1)")
    return {"grid_points": len(points), "peak": round(peak, 6), "peak_limit": PEAK_LIMIT, "silence_below": SILENCE}


def time_one_point(run: Network, center: np.ndarray, path: Path) -> float:
    """The median seconds of a one-point decode; ImportRefused over DECODE_SECONDS_LIMIT."""
    point = center[None, :].astype(np.float32)
    times = []
    for _ in range(TIMED_DECODES):
        start = time.perf_counter()
        run(point)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    if seconds > DECODE_SECONDS_LIMIT:
        raise ImportRefused(
            f"{path}: takes {seconds * 1000:.0f} ms to decode one point, over the {DECODE_SECONDS_LIMIT * 1000:.0f} ms limit"
        )
    return seconds


#: How close the NumPy engine must decode a Keras decoder to Keras itself to run it (as the
#: shipped models are held to).
NUMPY_TOLERANCE = 1e-4


def numpy_or_keras(path: Path, keras_run: Network, points: np.ndarray) -> str:
    """``"numpy"`` when the NumPy engine runs the .keras file and matches Keras on the grid
    within NUMPY_TOLERANCE (generate, play and the page then decode with no TensorFlow),
    else ``"keras"``."""
    from models.errors import ModelUnavailableError
    from models.numpy_network import load_network

    try:
        network = load_network(path)
        made = np.asarray(network(points.copy()), np.float32)
    except (ModelUnavailableError, ValueError, TypeError, IndexError):
        return "keras"
    reference = np.asarray(keras_run(points), np.float32)
    if made.shape != reference.shape or float(np.max(np.abs(made - reference))) > NUMPY_TOLERANCE:
        return "keras"
    return "numpy"


def range_from_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """``(low, high, center, pad_axes)`` of encoded training sounds (N, D): each axis's span
    widened by RANGE_MARGIN a side, the median, and the two axes the codes spread most on."""
    low, high = codes.min(axis=0), codes.max(axis=0)
    span = np.maximum(high - low, 1e-3)
    middle = (low + high) / 2
    half = span / 2 * (1 + 2 * RANGE_MARGIN)
    order = np.argsort(-codes.std(axis=0), kind="stable")
    axes = (int(order[0]), int(order[1])) if codes.shape[1] > 1 else (0, 0)
    return (middle - half).astype(np.float32), (middle + half).astype(np.float32), np.median(codes, axis=0).astype(np.float32), axes


def encode_dataset(encoder: Network, folder: str, length: int, dim: int, path: Path, sample_rate: int) -> tuple[np.ndarray, Any]:
    """The encoder's codes (N, D) of a preprocessed dataset, and the dataset; ImportRefused
    when its sounds are not of the decoder's length and rate."""
    from preprocessing.dataset import load_dataset
    from preprocessing.errors import PreprocessingError

    try:
        dataset = load_dataset(folder)
    except PreprocessingError as error:
        raise ImportRefused(f"--data {folder}: {error}") from None
    if dataset.settings.sample_rate != sample_rate:
        raise ImportRefused(
            f"--data {folder}: its sounds are at {dataset.settings.sample_rate} Hz, the decoder's at {sample_rate} "
            f"(give --sample-rate {dataset.settings.sample_rate} if that is the decoder's rate)"
        )
    audio = np.asarray(dataset.audio, np.float32)
    if audio.shape[1] != length:
        raise ImportRefused(f"--data {folder}: its sounds are {audio.shape[1]} samples; the decoder makes {length}")
    codes = np.concatenate([_batch(encoder, audio[i : i + 32], path, "encode the dataset") for i in range(0, len(audio), 32)])
    if codes.shape != (len(audio), dim) or not np.isfinite(codes).all():
        raise ImportRefused(f"{path}: encodes {len(audio)} sounds to shape {tuple(codes.shape)}, not finite ({len(audio)}, {dim})")
    return codes, dataset


def prepare_import(
    name: str,
    decoder: Path,
    *,
    encoder: Path | None = None,
    sample_rate: int = SAMPLE_RATE,
    latent_range: tuple[float, float] | None = None,
    latent_dim: int | None = None,
    data: str | None = None,
) -> tuple[ModelCard, dict[str, bytes], dict[str, np.ndarray] | None]:
    """Check the files and make the card, the files to write and the codes; nothing is
    written. ImportRefused in one line for the first check that fails."""
    fmt = file_format(decoder)
    data_bytes = read_model_bytes(decoder)
    run, width, operators = open_network(decoder, data_bytes, fmt)
    dim = latent_width(width, latent_dim, decoder)
    if dim == 1:
        raise ImportRefused(f"{decoder}: takes a 1-D latent; the pad needs 2 dimensions or more")
    length = check_shapes(run, dim, decoder)
    if length > 60 * sample_rate:
        raise ImportRefused(f"{decoder}: makes {length} samples, over 60 s at {sample_rate} Hz")
    files = {f"decoder.{fmt}": data_bytes}
    records: dict[str, Any] = {
        "decoder": {
            "file": f"decoder.{fmt}",
            "format": fmt,
            "sha256": sha256_of(data_bytes),
            "source": str(decoder),
            "bytes": len(data_bytes),
        }
    }
    low = np.full(dim, DEFAULT_RANGE[0] if latent_range is None else latent_range[0], np.float32)
    high = np.full(dim, DEFAULT_RANGE[1] if latent_range is None else latent_range[1], np.float32)
    center, axes, source = (low + high) / 2, ((0, 1) if dim > 1 else (0, 0)), "default" if latent_range is None else "given"
    codes_arrays = None
    data_record: dict[str, Any] = {}
    preprocessing: dict[str, Any] = {}
    if encoder is not None:
        efmt = file_format(encoder)
        encoder_bytes = read_model_bytes(encoder)
        encode, _, _ = open_network(encoder, encoder_bytes, efmt)
        made = _batch(encode, np.zeros((2, length), np.float32), encoder, f"encode a batch of 2 sounds of {length} samples")
        if made.shape != (2, dim):
            raise ImportRefused(
                f"{encoder}: outputs shape {tuple(made.shape)} for 2 sounds; it must be (2, {dim}), the decoder's latent"
            )
        files[f"encoder.{efmt}"] = encoder_bytes
        records["encoder"] = {
            "file": f"encoder.{efmt}",
            "format": efmt,
            "sha256": sha256_of(encoder_bytes),
            "source": str(encoder),
            "bytes": len(encoder_bytes),
        }
        if data is not None:
            codes, dataset = encode_dataset(encode, data, length, dim, encoder, sample_rate)
            if latent_range is None:
                low, high, center, axes = range_from_codes(codes)
                source = "codes"
            codes_arrays = codes_npz(codes, axes, dataset)
            data_record = {"folder": str(Path(data).resolve()), "samples": len(codes)}
            preprocessing = dataset.settings.to_dict()  # a user's sound is encoded made as these were
    grid_at = grid_points(low, high, center, axes)
    grid = check_grid(run, grid_at, length, decoder)
    seconds = time_one_point(run, center, decoder)
    runs_on = "onnxruntime" if fmt == "onnx" else numpy_or_keras(decoder, run, grid_at)
    validation = {
        **grid,
        "shapes": f"(N, {dim}) -> (N, {length}) for N = 1 and 3",
        "decode_ms_one_point": round(seconds * 1000, 3),
        "decode_ms_limit": DECODE_SECONDS_LIMIT * 1000,
        "file_bytes_limit": MAX_MODEL_BYTES,
        "checked_by": "onnxruntime" if fmt == "onnx" else "keras (safe_mode=True)",
        "runs_on": runs_on,
    }
    if fmt == "onnx":
        validation["operators"] = operators
    card = ModelCard.from_dict(
        {
            "name": name,
            "kind": "imported",
            "sample_rate": sample_rate,
            "sample_length": length,
            "group": "imported",
            "summary": f"An imported {fmt.upper() if fmt == 'onnx' else 'Keras'} decoder with a {dim}-D latent.",
            "latent": {
                "dim": dim,
                "low": [float(v) for v in low],
                "high": [float(v) for v in high],
                "center": [float(v) for v in center],
                "pad_axes": list(axes),
                "range_from": source,
            },
            "files": records,
            "data": data_record,
            "preprocessing": preprocessing,
            "validation": validation,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return card, files, codes_arrays


def codes_npz(codes: np.ndarray, axes: tuple[int, int], dataset: Any) -> dict[str, np.ndarray]:
    """The arrays of ``codes.npz``: the training sounds on the pad's two axes, with the
    full vectors beside them."""
    return {
        "points": codes[:, list(axes)].astype(np.float32),
        "full": codes.astype(np.float32),
        "families": np.asarray(dataset.families).astype(str),
        "names": np.asarray(dataset.names).astype(str),
        "files": np.asarray(dataset.files).astype(str),
        "is_validation": np.asarray(dataset.is_validation, bool),
    }


def write_import(zoo: Path, card: ModelCard, files: dict[str, bytes], codes: dict[str, np.ndarray] | None, *, force: bool) -> Path:
    """Write the model folder ``zoo/NAME`` as a whole set (staged beside it, then swapped
    in), under the folder's lock, replacing an existing one only with ``force``."""
    from safeio import FolderLock

    target = Path(zoo) / card.name
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    try:
        # the lock makes the folder: an empty one is a model folder not yet written
        with FolderLock(target, what="import", beside=True):  # a second import of the name is refused meanwhile
            return _write_locked(target, card, files, codes, force=force)
    except BaseException:
        if not existed and target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        raise


def _write_locked(target: Path, card: ModelCard, files: dict[str, bytes], codes: dict[str, np.ndarray] | None, *, force: bool) -> Path:
    import io

    from safeio import atomic_write_bytes, finish_interrupted_swaps, staging_folder, swap_in

    finish_interrupted_swaps(target, "import", kind_file=CARD_FILE)
    if target.is_dir() and any(target.iterdir()) and not force:
        raise FileExistsError(f"{target}: already exists (pass --force to replace it)")
    staged = staging_folder(target, "import")
    try:
        for filename, data in files.items():
            atomic_write_bytes(staged / filename, data)
        if codes is not None:
            buffer = io.BytesIO()
            np.savez(buffer, **codes)  # type: ignore[arg-type]
            atomic_write_bytes(staged / CODES_FILE, buffer.getvalue())
        write_card(staged / CARD_FILE, card)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    # a replaced model's old files are not carried into the new set
    old = [entry.name for entry in target.iterdir()] if target.is_dir() else []
    swap_in(staged, target, drop=old)
    return target
