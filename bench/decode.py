"""Decode time per point for each trained model, side by side in one run:

- ``engine``: the NumPy engine (``models.engine``), what the window, play, generate and
  encode use;
- ``tf fast``: the TensorFlow fast path (``models.keras_loader.TrainedModel.decode``: a traced
  ``tf.function``, polyphase or XLA), what they used before;
- ``bare``: for dense models, a bare NumPy chain ``x = act(x @ W + b)`` of the same weights,
  the physical limit of this machine;
- ``predict``: ``decoder.predict`` on one point (DESIGN.md: the GUI path must beat it 20x);
- ``48x48 s``: a whole heat-map (2,304 points) through the engine, as the window makes it;
- ``eng cpu``: the engine's CPU time per call (this thread's), beside its wall time: on a
  loaded machine the wall time is mostly waiting for a core, and this column says how
  much of it the engine itself spends.

A last row, ``imported onnx 8-D``, is an ONNX decoder of a shipped model's size with an 8-D
latent, made and imported here by the project's own import code (:mod:`bench.decode_imported`):
its ``engine`` is the tool's decode of a whole vector, its ``bare`` a bare onnxruntime
``InferenceSession.run`` of the same file, so ``eng/bare`` is the tool's overhead on an imported
model (``--no-imported`` leaves it out).

Targets: dense within 1.5x of ``bare``; conv_ae <= 5.0 ms, gan <= 3.2 ms, VAEs
<= 2.2 ms per point; ddsp_vae and ddsp_cvae (44.1 kHz) <= 3.0 ms (their synthesisers). Times are medians of many calls, each
on one point, taking 64 points over the latent range in turn, in milliseconds.
"""

import os
import statistics
import time

TARGET_MS = {"conv_ae": 5.0, "gan": 3.2, "vae": 2.2, "synth_ae": 3.0}
#: Targets of one model, before its kind's (ddsp_vae's and ddsp_cvae's synthesisers in 3 ms).
MODEL_TARGET_MS = {"ddsp_vae": 3.0, "ddsp_cvae": 3.0}
BARE_RATIO = 1.5
PREDICT_RATIO = 20.0
HEATMAP_SIDE = 48


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="models to time (default: all trained)")
    parser.add_argument("--folder", default="trained", help="zoo folder (default: trained)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per path (default 200)")
    parser.add_argument("--predict-calls", type=int, default=10, help="predict calls (default 10)")
    parser.add_argument("--no-tensorflow", action="store_true", help="only the engine and the bare chain (no TensorFlow columns)")
    parser.add_argument("--no-heatmap", action="store_true", help="skip the 48x48 heat-map column")
    parser.add_argument("--no-imported", action="store_true", help="skip the imported ONNX model's row")


def median_ms(function, calls, points, clock=time.perf_counter):
    """Median milliseconds of ``function(point)`` over ``calls`` calls by ``clock`` (wall time
    by default; ``time.thread_time`` for this thread's CPU time), taking the points in turn
    (a synthesiser's cost depends on the sound; a network's does not)."""
    function(points[0])  # not counted: first-call costs
    times = []
    for i in range(calls):
        point = points[i % len(points)]
        start = clock()
        function(point)
        times.append(clock() - start)
    return statistics.median(times) * 1e3


def bare_dense_chain(path):
    """The dense decoder in ``path`` as the plainest NumPy: a matmul, a bias, an activation
    per layer (None when the decoder is not all Dense layers)."""
    import numpy as np

    from models.numpy_network import read_keras_file

    config, weights = read_keras_file(path)
    layers = [layer for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]
    if any(layer["class_name"] != "Dense" for layer in layers):
        return None
    functions = {"linear": None, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x))}
    chain = [
        (
            weights["layers/dense" + (f"_{i}" if i else "")][0],
            weights["layers/dense" + (f"_{i}" if i else "")][1],
            functions[layer["config"]["activation"]],
        )
        for i, layer in enumerate(layers)
    ]

    def decode(x):
        for kernel, bias, act in chain:
            x = x @ kernel + bias
            if act is not None:
                x = act(x)
        return x

    return decode


def main(args):
    import numpy as np

    from models.engine import load_runtime
    from models.errors import ModelUnavailableError, UnknownModelError
    from models.registry import MODEL_NAMES, get_spec

    try:
        names = [get_spec(n).name for n in args.names] or list(MODEL_NAMES)
    except UnknownModelError as error:
        print(f"app.py bench decode: {error}")
        return 2
    side = np.linspace(-2.8, 2.8, 8, dtype=np.float32)
    points = list(np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 1, 2))
    print(
        "load average before (1, 5, 15 min): "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        + f" on {os.cpu_count()} cores; ms per call of one point (medians)"
    )
    header = (
        f"{'model':<18} {'load ms':>7} {'engine':>8} {'eng cpu':>8} {'tf fast':>8} {'bare':>8} "
        f"{'predict':>8} {'tf/eng':>7} {'eng/bare':>8} {'pred/eng':>8} {'48x48 s':>8}  target"
    )
    print(header)
    print("-" * len(header))
    misses = done = 0
    for name in names:
        started = time.perf_counter()
        try:
            model = load_runtime(name, args.folder)
        except ModelUnavailableError as error:
            print(f"{name:<18} unavailable: {error}")
            continue
        load_ms = (time.perf_counter() - started) * 1e3
        timings = _timings(name, model, args, points)
        ok, target = _verdict(name, model, timings)
        misses += not ok
        done += 1
        _print_row(name, load_ms, timings, ok, target)
    if not args.no_imported:
        from bench.decode_imported import imported_timings, imported_verdict

        load_ms, timings = imported_timings(args, median_ms, HEATMAP_SIDE)
        ok, target = imported_verdict(timings)
        misses += not ok
        done += 1
        _print_row("imported onnx 8-D", load_ms, timings, ok, target)
    print(
        f"{done - misses} of {done} models meet the decode targets; load average after: "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    return 0


def _timings(name, model, args, points):
    """Median ms per one-point call of each decode path (None where not measured), and the
    seconds of a 48 x 48 heat-map."""
    import numpy as np

    t = {
        "engine": median_ms(model.decode, args.calls, points),
        "engine_cpu": median_ms(model.decode, args.calls, points, clock=time.thread_time),
        "bare": None,
        "fast": None,
        "predict": None,
        "heatmap": None,
    }
    bare_function = bare_dense_chain(os.path.join(args.folder, name, "decoder.keras"))
    if bare_function:
        t["bare"] = median_ms(bare_function, args.calls, points)
    if not args.no_tensorflow:
        from models.keras_loader import load_trained

        if model.conditioned:  # its pad point and family make a code (ddsp_cvae); predict plays that code
            from models.families import family_rows
            from models.saving import load_model_file

            decoder = load_model_file(os.path.join(args.folder, name, "decoder.keras"))
            family, pads = family_rows(None, 1)[0], model.family_pads

            def predict(point):
                return decoder.predict(pads.to_latent(point, family), verbose=0)

            t["predict"] = median_ms(predict, args.predict_calls, points)
        else:
            reference = load_trained(name, args.folder)
            t["fast"] = median_ms(reference.decode, args.calls, points)
            t["predict"] = median_ms(lambda point, r=reference: r.decoder.predict(point, verbose=0), args.predict_calls, points)
    if not args.no_heatmap:
        side = np.linspace(-1, 1, HEATMAP_SIDE, dtype=np.float32)
        grid = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
        started = time.perf_counter()
        model.decode(grid)
        t["heatmap"] = time.perf_counter() - started
    return t


def _verdict(name, model, t):
    """Whether the engine meets its model's target, and the target in words."""
    engine = t["engine"]
    if model.kind == "dense_ae":
        ok, target = engine <= BARE_RATIO * t["bare"], f"<= {BARE_RATIO:g}x bare"
    else:
        limit = MODEL_TARGET_MS.get(name, TARGET_MS[model.kind])
        ok, target = engine <= limit, f"<= {limit:g} ms"
    if t["predict"] is not None:
        ok = ok and t["predict"] / engine >= PREDICT_RATIO
        target += f", >= {PREDICT_RATIO:g}x predict"
    return ok, target


def _cell(value, width, digits=3):
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _print_row(name, load_ms, t, ok, target):
    engine, fast, bare, predict = t["engine"], t["fast"], t["bare"], t["predict"]
    print(
        f"{name:<18} {load_ms:>7.0f} {_cell(engine, 8)} {_cell(t['engine_cpu'], 8)} {_cell(fast, 8)} "
        f"{_cell(bare, 8)} {_cell(predict, 8, 2)} {_cell(fast and fast / engine, 7, 2)} "
        f"{_cell(bare and engine / bare, 8, 2)} {_cell(predict and predict / engine, 8, 0)} "
        f"{_cell(t['heatmap'], 8, 2)}  {'ok' if ok else 'MISSED'} ({target})",
        flush=True,
    )
