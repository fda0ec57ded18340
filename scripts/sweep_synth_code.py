"""Issue 30 §2, stage 1: ddsp_cvae trained with codes of D dimensions, side by side.

    .venv/bin/python scripts/sweep_synth_code.py --data DATASET_44K --out DIR [--dims 2,4,8,16] [--epochs 20]

For each D: ``ddsp_cvae`` trained by the project's own training (``train_model``: the synth
autoencoder of :mod:`models.synth_autoencoder`, no family anywhere in the network) for the
same number of epochs on the dataset's training split, into ``DIR/D<n>/ddsp_cvae``, then
loaded as the window and the page load it (the NumPy engine, its Gaussian per family fitted
on its codes) and measured on what the issue asks of it:

- ``recon``: the report's reconstruction MR-STFT of the held-out kits, each sound played
  back from its whole code;
- the family pads: the union grid of :mod:`evaluation.conditioned` (6 x 6 pad points per
  family) decoded with each family and scored as ``evaluate`` scores a conditioned model
  (precision, coverage, and the control per family from the classifier fitted on the
  training split).

The table is printed and written to ``DIR/sweep.txt``. Nothing in the repository is written.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(model, held_audio, reference):
    """(recon, realism scores, control per family) of a loaded ddsp_cvae."""
    from evaluation.conditioned import control_table, union_grid, union_side
    from evaluation.reference import reconstruction_scores

    recon = reconstruction_scores(held_audio, model.decode_code(model.encode_code(held_audio)))["stft"]
    families = model.families
    points, asked = union_grid(model.latent_range(), union_side(reference.options.realism_grid, len(families)), families)
    sounds = np.concatenate([model.decode(points[np.asarray(asked) == f], family=f) for f in families])
    scores, _ = reference.realism_scores(sounds)
    _, accuracy = control_table(reference.classifier.predict(sounds, reference.sample_rate), asked, families)
    return recon, scores, accuracy


def main(argv=None):
    from evaluation.reference import EvaluationOptions, Reference
    from models.engine import load_runtime
    from models.training import TrainingData, TrainOptions, train_model
    from preprocessing.dataset import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dims", default="2,4,8,16")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    rate = dataset.settings.sample_rate
    train, held = dataset.train(), dataset.validation()
    data = TrainingData.from_arrays(
        np.asarray(dataset.audio, np.float32),
        rate,
        is_validation=np.asarray(dataset.is_validation, bool),
        families=dataset.families,
        names=dataset.names,
        files=dataset.files,
    )
    reference = Reference(train.audio, held.audio, rate, EvaluationOptions(), train.families, held.families)
    real, _ = reference.realism_scores(reference.ceiling_audio)
    count = len(reference.ceiling_audio)
    lines = [f"real training sounds ({count}): precision {real['precision']:.2f} coverage {real['coverage']:.2f}"]
    print(lines[0], flush=True)
    held_audio = np.asarray(held.audio, np.float32)
    for code_dim in (int(text) for text in args.dims.split(",")):
        start = time.monotonic()
        zoo = Path(args.out) / f"D{code_dim}"
        result = train_model("ddsp_cvae", data, zoo, TrainOptions(epochs=args.epochs, batch_size=16, verbose=2), code_dim=code_dim)
        minutes = (time.monotonic() - start) / 60
        recon, scores, accuracy = measure(load_runtime("ddsp_cvae", zoo), held_audio, reference)
        control = " ".join(f"{family} {value:.2f}" for family, value in accuracy.items())
        line = (
            f"D={code_dim}: {result.epochs} epochs in {minutes:.1f} min, val loss {result.losses.get('val_loss', float('nan')):.4f}, "
            f"recon {recon:.3f}, precision {scores['precision']:.2f} coverage {scores['coverage']:.2f} "
            f"control mean {np.mean(list(accuracy.values())):.2f} ({control})"
        )
        print(line, flush=True)
        lines.append(line)
        (Path(args.out) / "sweep.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
