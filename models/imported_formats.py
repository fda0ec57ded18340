"""The files of an imported model: Keras 3 ``.keras`` and ONNX networks, opened safely and
run as plain functions of NumPy arrays.

What each format may be, said before it is run:

- a file is opened only when it is a regular file, and refused by its size alone when it
  is larger than :data:`MAX_MODEL_BYTES` (its bytes are never read);
- a ``.keras`` archive may hold no ``Lambda`` layer (Python code) and is loaded with
  ``safe_mode=True``; the NumPy engine (:mod:`models.numpy_network`) runs it without
  TensorFlow where it knows every layer, Keras runs it otherwise;
- an ONNX file may use only the operators of :data:`ALLOWED_ONNX_OPERATORS` of the standard
  domain (read from its protobuf here, without the ``onnx`` package), and is run by
  ``onnxruntime`` on the CPU: no TensorFlow is imported on that path.

Each refusal is a :class:`ImportRefused` whose ``str()`` is one line naming the file and
what failed.
"""

import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelUnavailableError
from models.saving import archive_json, open_model_file
from safeio import one_line

#: The formats, by file suffix.
FORMATS = {".keras": "keras", ".onnx": "onnx"}
#: The largest network file imported: a drum decoder is a few MiB; a file past this is
#: refused by its size, before a byte of it is read.
MAX_MODEL_BYTES = 512 * 2**20
#: The standard ONNX operators an imported decoder may use: arithmetic, activations, shapes,
#: convolutions and normalisation. Control flow (Loop, If, Scan), random, string and custom
#: domain operators are refused, so a file's graph is something this list describes.
ALLOWED_ONNX_OPERATORS = frozenset(
    """Abs Add And ArgMax ArgMin AveragePool BatchNormalization Cast Ceil Celu Clip Concat Constant
    ConstantOfShape Conv ConvTranspose Cos CumSum DepthToSpace Div Dropout Einsum Elu Equal Erf Exp
    Expand Flatten Floor Gather GatherElements Gelu Gemm GlobalAveragePool Greater GreaterOrEqual
    GroupNormalization HardSigmoid HardSwish Identity InstanceNormalization LayerNormalization
    LeakyRelu Less LessOrEqual Log LogSoftmax MatMul Max MaxPool Mean Min Mish Mod Mul Neg Not Or
    PRelu Pad Pow Range Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
    Relu Reshape Resize Round Selu Shape Sigmoid Sign Sin Size Slice Softmax Softplus Softsign
    SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh Tile Transpose Trilu Unsqueeze Upsample Where
    Xor""".split()
)
_STANDARD_DOMAINS = ("", "ai.onnx")


class ImportRefused(ModelUnavailableError):
    """A file that cannot be imported; ``str()`` is one line: "FILE: what failed"."""


#: ``points (N, D) float32 -> audio (N, length)``, or ``audio -> codes`` for an encoder.
Network = Callable[[np.ndarray], np.ndarray]


def file_format(path: str | os.PathLike) -> str:
    """``"keras"`` or ``"onnx"`` from the file's suffix; ImportRefused otherwise."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ImportRefused(f"{path}: not a .keras or .onnx file (the formats import-model reads)")
    return fmt


def read_model_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a network file, read only when it is a regular file of at most
    :data:`MAX_MODEL_BYTES` (the size is its ``fstat``'s: a sparse 2 GB file is refused
    without reading it)."""
    try:
        handle = open_model_file(path)
    except ModelUnavailableError as error:
        raise ImportRefused(str(error)) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_MODEL_BYTES:
            raise ImportRefused(f"{path}: {size / 2**20:,.0f} MiB, larger than the {MAX_MODEL_BYTES // 2**20} MiB a model file may be")
        if size == 0:
            raise ImportRefused(f"{path}: empty")
        return handle.read(MAX_MODEL_BYTES + 1)


# ----------------------------------------------------------------------------- ONNX


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a truncated number")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: memoryview) -> Iterator[tuple[int, Any]]:
    """``(field number, value)`` of a protobuf message: an int, or a memoryview for a
    length-delimited field (skipped past by its length, so large weights cost nothing)."""
    at = 0
    value: Any
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = None, at + 8
        elif wire == 5:
            value, at = None, at + 4
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        else:
            raise ValueError(f"wire type {wire}")
        if at > len(data):
            raise ValueError("a truncated field")
        yield number, value


def _graph_operators(graph: memoryview, found: set[tuple[str, str]]) -> None:
    for number, node in _fields(graph):
        if number != 1:  # GraphProto.node
            continue
        op_type = domain = ""
        for field, value in _fields(node):
            if field == 4:  # NodeProto.op_type
                op_type = bytes(value).decode("utf-8", "replace")
            elif field == 7:  # NodeProto.domain
                domain = bytes(value).decode("utf-8", "replace")
            elif field == 5:  # NodeProto.attribute: subgraphs (g = 6, graphs = 11)
                for attribute_field, sub in _fields(value):
                    if attribute_field in (6, 11):
                        _graph_operators(sub, found)
        found.add((domain, op_type))


def onnx_operators(data: bytes) -> set[tuple[str, str]]:
    """The ``(domain, operator)`` pairs an ONNX model's graph uses (subgraphs and local
    functions included); ValueError for bytes that are not an ONNX protobuf."""
    found: set[tuple[str, str]] = set()
    graphs = 0
    for number, value in _fields(memoryview(data)):
        if number == 7 and isinstance(value, memoryview):  # ModelProto.graph
            graphs += 1
            _graph_operators(value, found)
        elif number == 25 and isinstance(value, memoryview):  # ModelProto.functions
            found.add(("local function", "function"))
    if not graphs:
        raise ValueError("no graph inside")
    return found


def _external_tensor(tensor: memoryview) -> str | None:
    """A TensorProto's name when its data lies in another file (``data_location`` EXTERNAL,
    or ``external_data`` given), else None."""
    name, external = "", False
    for field, value in _fields(tensor):
        if field == 8 and isinstance(value, memoryview):  # TensorProto.name
            name = bytes(value).decode("utf-8", "replace")
        elif (field == 14 and value == 1) or field == 13:  # data_location EXTERNAL; external_data
            external = True
    return name or "a tensor" if external else None


def _graph_external(graph: memoryview, found: list[str]) -> None:
    """The names of a graph's tensors (initializers and node attributes, subgraphs included)
    whose data lies in another file."""
    for number, value in _fields(graph):
        if number == 5 and isinstance(value, memoryview):  # GraphProto.initializer
            name = _external_tensor(value)
            if name is not None:
                found.append(name)
        elif number == 1 and isinstance(value, memoryview):  # GraphProto.node
            for field, attribute in _fields(value):
                if field != 5:  # NodeProto.attribute
                    continue
                for attribute_field, sub in _fields(attribute):
                    if attribute_field in (5, 10) and isinstance(sub, memoryview):  # t, tensors
                        name = _external_tensor(sub)
                        if name is not None:
                            found.append(name)
                    elif attribute_field in (6, 11) and isinstance(sub, memoryview):  # g, graphs
                        _graph_external(sub, found)


def onnx_external_tensors(data: bytes) -> list[str]:
    """The names of an ONNX model's tensors whose data lies in another file (PyTorch's
    exporter writes ``decoder.onnx.data`` beside the model unless ``external_data=False``)."""
    found: list[str] = []
    for number, value in _fields(memoryview(data)):
        if number == 7 and isinstance(value, memoryview):  # ModelProto.graph
            _graph_external(value, found)
    return found


def check_onnx_operators(path: str | os.PathLike, data: bytes) -> list[str]:
    """The operators the file uses, sorted; ImportRefused naming those not allowed, or for a
    model whose weights lie in other files (an import copies one file, and onnxruntime would
    look for them wherever the process happens to run)."""
    try:
        used = onnx_operators(data)
        external = onnx_external_tensors(data)
    except ValueError as error:
        raise ImportRefused(f"{path}: not an ONNX model ({error})") from None
    if external:
        shown = ", ".join(external[:3]) + (f" and {len(external) - 3} more" if len(external) > 3 else "")
        raise ImportRefused(
            f"{path}: keeps the data of its tensors in other files ({shown}); "
            "export it as one file (torch.onnx.export(..., external_data=False))"
        )
    refused = sorted(f"{domain}.{op}" if domain not in _STANDARD_DOMAINS else op for domain, op in used if not _allowed(domain, op))
    if refused:
        shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
        raise ImportRefused(f"{path}: uses operators outside the allowed list: {shown}")
    return sorted(op for _, op in used)


def _allowed(domain: str, op: str) -> bool:
    return domain in _STANDARD_DOMAINS and op in ALLOWED_ONNX_OPERATORS


def onnx_network(path: str | os.PathLike, data: bytes | None = None) -> tuple[Network, int | None]:
    """An ONNX model as ``points -> output`` on onnxruntime's CPU provider, and its input
    width (None when the file leaves it symbolic).

    Raises
    ------
    ImportRefused
        The file is too large, uses an operator not allowed, or onnxruntime cannot load it,
        or it does not take one 2-D input.
    """
    import onnxruntime  # only here: reading a card or a listing does not pay for it

    data = read_model_bytes(path) if data is None else data
    check_onnx_operators(path, data)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # latency-bound small products, as the NumPy engine's
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors for a bad graph
        raise ImportRefused(f"{path}: onnxruntime cannot load it ({one_line(error, limit=160)})") from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 2:
        shapes = ", ".join(str(tuple(i.shape)) for i in inputs)
        raise ImportRefused(f"{path}: takes inputs {shapes}; it must take one input (N, D), a batch of latent vectors")
    width = inputs[0].shape[1]
    input_name, output_name = inputs[0].name, outputs[0].name

    def run(points: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(session.run([output_name], {input_name: np.ascontiguousarray(points, np.float32)})[0])
        except Exception as error:  # noqa: BLE001 - a shape the graph rejects: onnxruntime's own error types
            raise ValueError(one_line(error, limit=160)) from None

    return run, width if isinstance(width, int) else None


# ----------------------------------------------------------------------------- Keras


def _layer_classes(config: Any) -> Iterator[str]:
    if isinstance(config, dict):
        if isinstance(config.get("class_name"), str):
            yield config["class_name"]
        for value in config.values():
            yield from _layer_classes(value)
    elif isinstance(config, list):
        for value in config:
            yield from _layer_classes(value)


def check_keras_archive(path: str | os.PathLike, data: bytes) -> dict:
    """The archive's ``config.json``; ImportRefused for a file that is not a .keras archive
    or that holds a Lambda layer (Python code, which safe mode refuses to run)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            config = archive_json(archive, "config.json", path)
    except zipfile.BadZipFile:
        raise ImportRefused(f"{path}: not a .keras archive (not a zip file)") from None
    except ModelUnavailableError as error:
        raise ImportRefused(str(error)) from None
    if "Lambda" in set(_layer_classes(config)):
        raise ImportRefused(f"{path}: has a Lambda layer (Python code); safe mode loads no code: rebuild it without Lambda layers")
    return config


def keras_network(path: str | os.PathLike, *, allow_tensorflow: bool = True) -> tuple[Network, str]:
    """A ``.keras`` network as ``points -> output``, and how it runs: ``"numpy"`` (the
    NumPy engine, no TensorFlow) where it knows every layer, else ``"keras"`` (loaded with
    ``safe_mode=True``).

    Parameters
    ----------
    allow_tensorflow : bool
        False: only the NumPy engine (ImportRefused when it cannot run the file).
    """
    from models.numpy_network import load_network

    check_keras_archive(path, read_model_bytes(path))
    try:
        network = load_network(path)
        return (lambda points: network(points)), "numpy"
    except ModelUnavailableError as error:
        if not allow_tensorflow:
            raise ImportRefused(str(error)) from None
    return keras_reference(path), "keras"


def keras_reference(path: str | os.PathLike) -> Network:
    """The ``.keras`` network loaded by Keras itself in safe mode (imports TensorFlow)."""
    check_keras_archive(path, read_model_bytes(path))
    from models.tensorflow_logs import install as quiet_tensorflow

    quiet_tensorflow()
    import keras

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError, TypeError, OSError... for a bad file
        raise ImportRefused(f"{path}: Keras cannot load it in safe mode ({one_line(error, limit=160)})") from None
    if len(model.inputs) != 1:
        raise ImportRefused(f"{path}: takes {len(model.inputs)} inputs; it must take one (N, D), a batch of latent vectors")

    def run(points: np.ndarray) -> np.ndarray:
        return np.asarray(model(np.asarray(points, np.float32), training=False))

    run.input_width = model.inputs[0].shape[-1]  # type: ignore[attr-defined]
    return run
