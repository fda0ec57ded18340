"""The NumPy network: a Keras decoder or encoder run as a plan of NumPy functions.

:func:`read_keras_file` reads a shipped ``.keras`` archive itself (``config.json`` for the
layer graph, ``model.weights.h5`` for the weights, through zipfile and h5py), and
:class:`NumpyNetwork` turns the graph into a list of steps, each a function of
:data:`models.numpy_layers.LAYER_BUILDERS` on the slots its inputs fill
(:func:`load_network` does both and says in one line what stops it). The runtime around
it, what the window and the page load, is :mod:`models.engine`. Imports only NumPy, h5py
and the standard library.
"""

import io
import zipfile
from pathlib import Path

import numpy as np

from models.errors import ModelUnavailableError
from models.numpy_layers import LAYER_BUILDERS, UnsupportedLayerError, to_snake_case
from models.saving import DAMAGED_FILE_ERRORS, REASON_LIMIT, WEIGHTS_MEMBER, archive_json, check_layer_settings, open_model_file
from safeio import one_line

CONFIG_MEMBER = "config.json"


# ----------------------------------------------------------------------------- .keras files


def read_keras_file(path):
    """The layer graph and the weights stored in a ``.keras`` archive.

    Parameters
    ----------
    path : path

    Returns
    -------
    config : dict
        The archive's ``config.json`` (a Keras functional model).
    weights : dict of str to list of np.ndarray
        Float32 weights by storage name (``layers/dense_1``), in Keras' order.

    Raises
    ------
    ModelUnavailableError
        The file is missing, unreadable, or not a .keras archive, or its config.json is
        too large or nested too deeply; the message names it.
    """
    import h5py  # here, so reading the registry or a card does not pay for it

    path = Path(path)
    with open_model_file(path) as handle:
        if not zipfile.is_zipfile(handle):
            raise ModelUnavailableError(f"{path}: damaged (not a .keras archive)")
        try:
            with zipfile.ZipFile(handle) as archive:
                config = archive_json(archive, CONFIG_MEMBER, path)  # bounded: size, depth
                weights_bytes = archive.read(WEIGHTS_MEMBER)
        except (*DAMAGED_FILE_ERRORS, UnicodeDecodeError, RuntimeError) as error:
            raise ModelUnavailableError(f"{path}: damaged ({one_line(error, limit=REASON_LIMIT)})") from None
    try:
        weights = {}
        with h5py.File(io.BytesIO(weights_bytes), "r") as store:

            def collect(name, item):
                if isinstance(item, h5py.Group) and name.endswith("/vars"):
                    owner = name[: -len("/vars")]
                    weights[owner] = [np.asarray(item[key][()], dtype=np.float32) for key in sorted(item, key=int)]

            store.visititems(collect)
    except (*DAMAGED_FILE_ERRORS, UnicodeDecodeError, RuntimeError) as error:
        raise ModelUnavailableError(f"{path}: damaged ({one_line(error, limit=REASON_LIMIT)})") from None
    if not isinstance(config, dict) or "config" not in config:
        raise ModelUnavailableError(f"{path}: damaged (no model in its config.json)")
    return config, weights


# ----------------------------------------------------------------------------- the graph


def _tensor_refs(value):
    """The ``keras_history`` references in a node argument (a tensor or a list of them)."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [tuple(value["config"]["keras_history"])]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in _tensor_refs(item)]
    return []


def _endpoints(value):
    """``["name", 0, 0]`` or a list of those -> a list of (name, node, tensor) tuples."""
    if value and isinstance(value[0], str):
        return [tuple(value)]
    return [tuple(v) for v in value]


def _storage_names(layers):
    """Layer name -> the name its weights are stored under in ``model.weights.h5``."""
    storage_names: dict[str, str] = {}
    used: dict[str, int] = {}
    for layer in layers:
        # Keras stores weights under the class's snake-case name, numbered in layer order.
        base = to_snake_case(layer["class_name"])
        used[base] = used.get(base, -1) + 1
        storage_names[layer["name"]] = base if used[base] == 0 else f"{base}_{used[base]}"
    return storage_names


def _producers(layers):
    """(layer name, node index) -> (layer, node, the refs of its input tensors)."""
    producers = {}
    for layer in layers:
        for node_index, node in enumerate(layer.get("inbound_nodes") or [{}]):
            refs = _tensor_refs(node.get("args", []))
            if _tensor_refs(node.get("kwargs", {})):
                raise UnsupportedLayerError(f"layer {layer['name']!r}: tensors passed as keyword arguments are not supported")
            producers[(layer["name"], node_index)] = (layer, node, refs)
    return producers


def _needed(producers, wanted):
    """The nodes ``wanted`` depends on (itself included), in the config's topological order."""
    needed, stack = set(), [wanted]
    while stack:
        key = stack.pop()
        if key in needed:
            continue
        if key not in producers:
            raise UnsupportedLayerError(f"layer {key[0]!r} is not in the model")
        needed.add(key)
        stack.extend(ref[:2] for ref in producers[key][2])
    return [key for key in producers if key in needed]


def _step(producer, slot_of, weights, storage_names):
    """``(function, source slots, listed)`` of one node: its NumPy function, where its
    inputs are, and whether it takes them as a list."""
    layer, node, refs = producer
    if any(ref[2] != 0 for ref in refs):
        raise UnsupportedLayerError(f"layer {layer['name']!r}: layers with several outputs are not supported")
    builder = LAYER_BUILDERS.get(layer.get("registered_name") or layer["class_name"]) or LAYER_BUILDERS.get(layer["class_name"])
    if builder is None:
        raise UnsupportedLayerError(f"layer {layer['name']!r} of class {layer['class_name']} is not supported")
    function = builder(layer.get("config", {}), weights.get(f"layers/{storage_names[layer['name']]}", []))
    sources = tuple(slot_of[ref[:2]] for ref in refs)
    listed = bool(node.get("args")) and isinstance(node["args"][0], (list, tuple))
    return function, sources, listed


def _copies_where_shared(steps, input_slots):
    """The plan: ``steps`` with each in-place function that would overwrite memory read
    elsewhere (the caller's array, or a tensor, or a view of it such as a reshape, with
    another reader) made to work on a copy."""
    memory = {slot: slot for slot in input_slots}  # slot -> the slot whose array it views
    readers: dict = {}
    for function, sources, _, target in steps:
        memory[target] = memory[sources[0]] if getattr(function, "returns_view", False) else target
        if not getattr(function, "returns_view", False):
            for source in sources:
                readers[memory[source]] = readers.get(memory[source], 0) + 1
    plan = []
    for function, sources, listed, target in steps:
        if getattr(function, "in_place", False) and (memory[sources[0]] in input_slots or readers[memory[sources[0]]] > 1):
            function = _on_a_copy(function)
        plan.append((function, sources, listed, target))
    return plan


class NumpyNetwork:
    """A Keras functional model from its config and weights, run with NumPy.

    Parameters
    ----------
    config : dict
        A .keras ``config.json`` (class ``Functional``).
    weights : dict of str to list of np.ndarray
        From :func:`read_keras_file`.
    output : int
        Which of the model's outputs to compute (0 for the VAE encoder's ``z_mean``); only
        the layers that output needs are run.

    Raises
    ------
    UnsupportedLayerError
        A layer, an activation or a wiring the engine does not implement.
    """

    def __init__(self, config, weights, output=0):
        body = config["config"]
        layers = body["layers"]
        inputs = [ref[:2] for ref in _endpoints(body["input_layers"])]
        wanted = _endpoints(body["output_layers"])[output]
        producers = _producers(layers)
        order = _needed(producers, wanted[:2])
        slot_of = {key: i for i, key in enumerate(order)}
        #: one slot per input (None for an input the wanted output does not read): a
        #: conditioned decoder takes [point, family], its encoder [audio, family]
        self._input_slots = [slot_of.get(key) for key in inputs]
        self._input_slot = self._input_slots[0]
        if self._input_slot is None:
            raise UnsupportedLayerError("the output does not depend on the input")
        self.input_count = len(inputs)
        #: the numbers its first input takes per row (None where the config does not say)
        self.input_width = _input_width(layers, inputs[0][0])
        self._output_slot = slot_of[wanted[:2]]
        self._slots = len(order)
        storage_names = _storage_names(layers)
        steps = [_step(producers[key], slot_of, weights, storage_names) + (slot_of[key],) for key in order if key not in inputs]
        self._plan = _copies_where_shared(steps, {slot for slot in self._input_slots if slot is not None})
        self.takes_variation = any(getattr(step[0], "takes_variation", False) for step in self._plan)
        #: whether its synthesiser renders other lengths than its trained window (ddsp_cvae's)
        self.extends = any(getattr(step[0], "extends", False) for step in self._plan)
        if self.takes_variation:
            self._plan = [
                (f if getattr(f, "takes_variation", False) else _ignoring_variation(f), sources, listed, target)
                for f, sources, listed, target in self._plan
            ]

    def __call__(self, x, variation=None, samples=None):
        """Run the network on a batch ``x`` (float32); returns the wanted output.

        ``variation`` goes to the layers that take one (ddsp_vae's synthesiser), and so does
        ``samples``, the length to render (None: the trained window), for one that ``extends``.
        """
        slots: list = [None] * self._slots
        if self.input_count == 1:
            slots[self._input_slot] = x  # type: ignore[index]  # one input: its slot is set
        else:  # a list, one array per input
            for slot, value in zip(self._input_slots, x):
                if slot is not None:
                    slots[slot] = value
        if self.takes_variation:
            for function, sources, listed, target in self._plan:
                inputs = [slots[s] for s in sources] if listed else slots[sources[0]]
                slots[target] = function(inputs, variation, samples)
            return slots[self._output_slot]
        for function, sources, listed, target in self._plan:
            slots[target] = function([slots[s] for s in sources]) if listed else function(slots[sources[0]])
        return slots[self._output_slot]


def _input_width(layers, name):
    for layer in layers:
        if layer.get("class_name") == "InputLayer" and (layer.get("name") or layer["config"].get("name")) == name:
            shape = layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
            return None if not shape or shape[-1] is None else int(shape[-1])
    return None


def _ignoring_variation(function):
    return lambda x, variation, samples=None: function(x)


def _on_a_copy(function):
    return lambda x: function(np.array(x, copy=True))


def load_network(path, output=0, card=None):
    """A :class:`NumpyNetwork` from a ``.keras`` file; ModelUnavailableError naming the
    file when it is missing, damaged, made of layers the engine cannot run, or (given the
    model's ``card``) built with settings that do not match it."""
    config, weights = read_keras_file(path)
    check_layer_settings(config, path, card)  # before anything is built
    try:
        return NumpyNetwork(config, weights, output=output)
    except UnsupportedLayerError as error:
        raise ModelUnavailableError(f"{path}: {error} (by the NumPy engine)") from None
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ModelUnavailableError(f"{path}: damaged (its config.json: {one_line(error, limit=REASON_LIMIT)})") from None
