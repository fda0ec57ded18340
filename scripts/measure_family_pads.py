"""Measure a model's family pads at several scales with the evaluation's own code.

    .venv/bin/python scripts/measure_family_pads.py --data DATASET [--models trained] [NAME] [--scales 1,1.5,2]

For each scale s: the union grid of :mod:`evaluation.conditioned` (6 x 6 pad points per
family, 252 sounds, as a conditioned model is measured) is mapped through the family pads
fitted at that scale and decoded; the realism columns (precision, coverage...) come from
:meth:`evaluation.reference.Reference.realism_scores` and the control per family from the
classifier fitted on the dataset's training split (:func:`evaluation.conditioned.control_table`).
The plain pad's 16 x 16 grid is measured beside them. This is how
:data:`constants.FAMILY_PAD_SCALE` was chosen; nothing is written.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(model, reference, scale):
    """(precision, coverage, control per family) of the family pads at ``scale``."""
    from constants import DRUM_FAMILIES
    from evaluation.conditioned import control_table, union_grid, union_side
    from models.family_pads import FamilyPads

    pads = FamilyPads.fit(model.name, model.codes, model.latent_range(), scale=scale)
    families = pads.families
    points, asked = union_grid(model.latent_range(), union_side(reference.options.realism_grid, len(DRUM_FAMILIES)), families)
    latent = np.concatenate([pads.to_latent(points[np.asarray(asked) == f], f) for f in families])
    audio = model.decode(latent)
    scores, _ = reference.realism_scores(audio)
    _, accuracy = control_table(reference.classifier.predict(audio, reference.sample_rate), asked, families)
    return scores, accuracy


def main(argv=None):
    from evaluation.continuity import latent_grid
    from evaluation.reference import EvaluationOptions, Reference
    from models.engine import load_runtime
    from preprocessing.dataset import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="ddsp_vae")
    parser.add_argument("--data", required=True)
    parser.add_argument("--models", default="trained")
    parser.add_argument("--scales", default="1,1.5,2")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    train, validation = dataset.train(), dataset.validation()
    reference = Reference(
        train.audio, validation.audio, dataset.settings.sample_rate, EvaluationOptions(), train.families, validation.families
    )
    model = load_runtime(args.name, args.models)
    side = reference.options.realism_grid
    _, _, plain = latent_grid(model.latent_range(), side)
    scores, _ = reference.realism_scores(model.decode(plain))
    print(f"{args.name} plain pad ({side}x{side}): precision {scores['precision']:.2f} coverage {scores['coverage']:.2f}")
    for scale in (float(text) for text in args.scales.split(",")):
        scores, accuracy = measure(model, reference, scale)
        control = " ".join(f"{family} {value:.2f}" for family, value in accuracy.items())
        print(
            f"s={scale:g}: precision {scores['precision']:.2f} coverage {scores['coverage']:.2f} "
            f"density {scores['density']:.2f} recognisable {scores['recognisable']:.2f} "
            f"control mean {np.mean(list(accuracy.values())):.2f} ({control})"
        )


if __name__ == "__main__":
    main()
