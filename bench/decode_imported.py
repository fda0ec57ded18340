"""The ``bench decode`` row of an imported ONNX model: its decode time per point through the
tool (``ImportedModel.decode``, what the window, the page and ``generate`` call) beside a bare
``onnxruntime.InferenceSession.run`` on the same file, with the same session options, in one
run. Their ratio is the tool's own overhead on an imported model.

The model is made here, in a temporary folder, and imported by the project's own import code
(:func:`models.importing.prepare_import` and :func:`models.importing.write_import`, every
check included): a dense decoder of a shipped model's size (ae_medium's 24 and 96 units and
16,384 samples) with an 8-D latent, built with ``onnx.helper``.
"""

import tempfile
import time
from pathlib import Path

IMPORTED_NAME = "onnx_mlp8"
IMPORTED_DIM = 8
#: The dense layers' widths, as the shipped ae_medium decoders' (their last is the sound).
IMPORTED_WIDTHS = (24, 96)
#: The tool's decode may take this many times the bare runtime's run.
IMPORTED_RATIO = 1.5


def onnx_mlp_decoder(path, *, dim=IMPORTED_DIM, widths=IMPORTED_WIDTHS, length=None, seed=0):
    """Write an ONNX decoder z (N, dim) -> tanh(... tanh(z @ W0 + b0) ...) (N, length) to
    ``path``, its weights seeded; the file's path."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from constants import SAMPLE_LENGTH

    length = SAMPLE_LENGTH if length is None else length
    rng = np.random.default_rng(seed)
    sizes = [dim, *widths, length]
    nodes, weights, last = [], [], "z"
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        weights.append(numpy_helper.from_array(rng.normal(0, 1 / np.sqrt(fan_in), (fan_in, fan_out)).astype(np.float32), f"W{i}"))
        weights.append(numpy_helper.from_array(np.zeros(fan_out, np.float32), f"b{i}"))
        out = "audio" if i == len(sizes) - 2 else f"h{i}"
        nodes += [
            helper.make_node("MatMul", [last, f"W{i}"], [f"m{i}"]),
            helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]),
            helper.make_node("Tanh", [f"a{i}"], [out]),
        ]
        last = out
    graph = helper.make_graph(
        nodes,
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", dim])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["N", length])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return Path(path)


def bare_session_run(path):
    """``run(point (1, D)) -> audio``: a bare onnxruntime session on the file, with the
    options the tool's own session has (one thread each, the CPU provider)."""
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    input_name, output_name = session.get_inputs()[0].name, session.get_outputs()[0].name

    def run(point):
        return session.run([output_name], {input_name: np.ascontiguousarray(point, np.float32)})[0]

    return run


def imported_timings(args, median_ms, heatmap_side):
    """(load ms, timings) of the imported ONNX model made here, in ``bench decode``'s columns:
    ``engine`` is the tool's decode, ``bare`` the bare runtime's run of the same file."""
    import numpy as np

    from models.engine import load_runtime
    from models.importing import prepare_import, write_import

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        source = onnx_mlp_decoder(Path(folder) / "decoder.onnx")
        card, files, codes = prepare_import(IMPORTED_NAME, source)
        zoo = write_import(Path(folder) / "zoo", card, files, codes, force=False).parent
        started = time.perf_counter()
        model = load_runtime(IMPORTED_NAME, zoo)
        load_ms = (time.perf_counter() - started) * 1e3
        low, high = (np.asarray(v, np.float32) for v in (card.latent["low"], card.latent["high"]))
        rng = np.random.default_rng(1)
        points = list((low + (high - low) * rng.uniform(0.05, 0.95, (64, IMPORTED_DIM))).astype(np.float32)[:, None, :])
        bare = bare_session_run(Path(zoo) / IMPORTED_NAME / "decoder.onnx")
        t = {
            "engine": median_ms(model.decode, args.calls, points),
            "engine_cpu": median_ms(model.decode, args.calls, points, clock=time.thread_time),
            "bare": median_ms(bare, args.calls, points),
            "fast": None,
            "predict": None,
            "heatmap": None,
        }
        if not args.no_heatmap:  # the window's heat-map: pad points, the other axes at their centre
            side = np.linspace(-1, 1, heatmap_side, dtype=np.float32)
            grid = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
            started = time.perf_counter()
            model.decode(grid)
            t["heatmap"] = time.perf_counter() - started
    return load_ms, t


def imported_verdict(t):
    """Whether the tool's decode is within IMPORTED_RATIO of the bare run, and the target in words."""
    return t["engine"] <= IMPORTED_RATIO * t["bare"], f"<= {IMPORTED_RATIO:g}x bare onnxruntime"
