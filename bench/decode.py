"""Decode time per point for each model: the compiled fast path (``TrainedModel.decode``)
against an eager call and ``model.predict`` on one point, measured side by side in one
run. Targets (DESIGN.md): dense <= 2 ms, conv/GAN <= 15 ms, >= 20x faster than predict.

"fast" is the GUI's path; "eager" calls the Keras decoder directly; "predict" is
``decoder.predict(point)``. Trained models in --folder are used where they load; otherwise the model is built at
its registry defaults (full size) with untrained weights, which decode just as fast.
"""
import statistics
import time

TARGET_MS = {"dense_ae": 2.0, "conv_ae": 15.0, "gan": 15.0, "vae": 15.0}
TARGET_RATIO = 20.0


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="models to time (default: all fourteen)")
    parser.add_argument("--folder", default="trained", help="zoo folder to load trained models from")
    parser.add_argument("--calls", type=int, default=200, help="fast-path calls per model (default 200)")
    parser.add_argument("--predict-calls", type=int, default=20, help="predict calls per model (default 20)")
    parser.add_argument("--untrained", action="store_true", help="always build untrained full-size models")


def _median_ms(function, calls):
    function()  # not counted: first-call costs
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _model(name, folder, untrained):
    from models.errors import ModelUnavailableError
    from models.inference import TrainedModel, load_trained
    from models.registry import get_spec

    if not untrained:
        try:
            return load_trained(name, folder), "trained"
        except ModelUnavailableError:
            pass
    spec = get_spec(name)
    nets = spec.build()
    card = {"name": name, "kind": spec.kind, "sample_rate": 22050,
            "sample_length": nets.settings["length"]}
    return TrainedModel(name, card, nets.decoder, nets.encoder), "untrained"


def main(args):
    import numpy as np

    from models.errors import UnknownModelError
    from models.registry import MODEL_NAMES, get_spec

    try:
        names = [get_spec(n).name for n in args.names] or list(MODEL_NAMES)
    except UnknownModelError as error:
        print(f"app.py bench decode: {error}")
        return 2
    import os

    point = np.array([[0.25, -0.5]], dtype=np.float32)
    print("load average before (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
          + f" on {os.cpu_count()} cores; times are medians, in ms per call of one point")
    header = (f"{'model':<18} {'weights':<9} {'path':<9} {'params':>10} {'fast ms':>8} {'eager ms':>9} "
              f"{'predict ms':>10} {'x faster':>8}  target")
    print(header)
    print("-" * len(header))
    misses = 0
    for name in names:
        model, source = _model(name, args.folder, args.untrained)
        decoder = model.decoder
        fast = _median_ms(lambda: model.decode(point), args.calls)
        eager = _median_ms(lambda: decoder(point, training=False), max(args.calls // 4, 5))
        predict = _median_ms(lambda: decoder.predict(point, verbose=0), args.predict_calls)
        ratio = predict / fast
        ok = fast <= TARGET_MS[model.kind] and ratio >= TARGET_RATIO
        misses += not ok
        path = model.decode_path
        print(f"{name:<18} {source:<9} {path:<9} {decoder.count_params():>10,} {fast:>8.3f} {eager:>9.3f} "
              f"{predict:>10.2f} {ratio:>8.0f}  {'ok' if ok else 'MISSED'} "
              f"(<= {TARGET_MS[model.kind]:g} ms, >= {TARGET_RATIO:g}x)", flush=True)
    print(f"{len(names) - misses} of {len(names)} models meet the decode targets; load average after: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0
