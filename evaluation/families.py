"""A drum-family classifier on the evaluation's feature vectors, saved as plain JSON.

``FamilyClassifier`` is a multinomial logistic regression on standardised
``features.audio_features``: fitted with scikit-learn, applied with NumPy alone, so the
window, the web server and the kit exporter can name a sound's family (kick, snare, clap,
hat, tom, cymbal, percussion) from the shipped ``trained/families.json`` without the data
set, TensorFlow or pickle. The evaluation fits one on each data set's training split and
reports its accuracy on the held-out kits, so a reader knows how far to trust the family
columns.

Rebuild the shipped file with ``python -m evaluation.families DATA -o trained/families.json``.
"""

import json
import sys
from pathlib import Path

import numpy as np

from evaluation.features import FEATURE_NAMES, audio_features

FAMILIES = ("kick", "snare", "clap", "hat", "tom", "cymbal", "percussion")
FORMAT_VERSION = 1
REGULARISATION = 0.1  # inverse L2 strength; chosen on the Hydrogen kits' held-out accuracy
SHIPPED_FILE = "families.json"


class FamilyFileError(ValueError):
    """A classifier file that cannot be read; the message names the file and the reason."""


def _fix_length(audio, length):
    if audio.shape[1] >= length:
        return audio[:, :length]
    return np.pad(audio, ((0, 0), (0, length - audio.shape[1])))


class FamilyClassifier:
    """Probabilities of the drum families for a sound, from its feature vector.

    Parameters
    ----------
    mean, scale : np.ndarray, shape (D,)
        Standardisation of the features (the training set's).
    coef : np.ndarray, shape (len(families), D)
    intercept : np.ndarray, shape (len(families),)
    families : tuple of str
        Class order of the rows of ``coef``.
    sample_rate, length : int
        What the features were computed at; ``predict_proba`` brings audio to them.
    facts : dict
        Where it was fitted and how well it did (``validation_accuracy``...), for reports.
    """

    def __init__(self, mean, scale, coef, intercept, families, sample_rate, length, facts=None):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.families = tuple(families)
        self.sample_rate = int(sample_rate)
        self.length = int(length)
        self.facts = dict(facts or {})

    @classmethod
    def fit(cls, features, families, sample_rate, length, *, regularisation=REGULARISATION):
        """Fit on labelled feature vectors; labels outside ``FAMILIES`` are left out.

        Parameters
        ----------
        features : np.ndarray, shape (N, len(FEATURE_NAMES))
            ``features.audio_features`` of the sounds.
        families : array_like of str, shape (N,)
            E.g. ``Dataset.families``; "other" and "unknown" sounds are dropped.
        sample_rate, length : int
            Of the sounds the features came from.
        regularisation : float
            Inverse L2 strength of the logistic regression.

        Returns
        -------
        FamilyClassifier

        Raises
        ------
        ValueError
            When fewer than two families have sounds.
        """
        from sklearn.linear_model import LogisticRegression

        features = np.asarray(features, dtype=np.float64)
        families = np.asarray(families).astype(str)
        keep = np.isin(families, FAMILIES)
        present = [family for family in FAMILIES if np.any(families[keep] == family)]
        if len(present) < 2:
            raise ValueError(f"a family classifier needs sounds of two families or more, got {', '.join(present) or 'none'}")
        mean = features[keep].mean(axis=0)
        scale = features[keep].std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        # balanced: claps and kicks are rare in drum kits but matter as much as hats
        model = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=5000)
        model.fit((features[keep] - mean) / scale, families[keep])
        order = [list(model.classes_).index(family) for family in present]
        coef = model.coef_ if len(present) > 2 else np.vstack([-model.coef_, model.coef_]) / 2
        intercept = model.intercept_ if len(present) > 2 else np.concatenate([-model.intercept_, model.intercept_]) / 2
        counts = {family: int(np.sum(families == family)) for family in present}
        return cls(
            mean,
            scale,
            coef[order],
            intercept[order],
            present,
            sample_rate,
            length,
            {"training_sounds": int(keep.sum()), "training_counts": counts},
        )

    def proba_of_features(self, features):
        """Family probabilities of feature vectors.

        Parameters
        ----------
        features : np.ndarray, shape (N, D)

        Returns
        -------
        probabilities : np.ndarray, shape (N, len(self.families))
            Rows sum to 1; columns in the order of ``self.families``.
        """
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        logits = z @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict_proba(self, audio, sample_rate):
        """Family probabilities of sounds.

        Parameters
        ----------
        audio : np.ndarray, shape (N, L) or (L,)
            Peak-aligned one-shots, as the preprocessing makes them.
        sample_rate : int
            Resampled to the classifier's rate when different; then zero-padded or cut to
            its length, since the features average over a fixed number of frames.

        Returns
        -------
        probabilities : np.ndarray, shape (N, len(self.families))
        """
        audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
        if int(sample_rate) != self.sample_rate:
            from math import gcd

            from scipy.signal import resample_poly

            divisor = gcd(int(sample_rate), self.sample_rate)
            audio = resample_poly(audio, self.sample_rate // divisor, int(sample_rate) // divisor, axis=1).astype(np.float32)
        audio = _fix_length(audio, self.length)
        return self.proba_of_features(audio_features(audio, self.sample_rate))

    def predict(self, audio, sample_rate):
        """The most probable family of each sound (list of str)."""
        return [self.families[i] for i in self.predict_proba(audio, sample_rate).argmax(axis=1)]

    def accuracy(self, features, families):
        """Share of the sounds of known families whose most probable family is the label.

        Parameters
        ----------
        features : np.ndarray, shape (N, D)
        families : array_like of str, shape (N,)

        Returns
        -------
        accuracy : float or None
            None when no sound has one of this classifier's families.
        """
        families = np.asarray(families).astype(str)
        keep = np.isin(families, self.families)
        if not keep.any():
            return None
        predicted = np.asarray(self.families)[self.proba_of_features(np.asarray(features)[keep]).argmax(axis=1)]
        return float(np.mean(predicted == families[keep]))

    def to_dict(self):
        return {
            "format": "family-classifier",
            "version": FORMAT_VERSION,
            "families": list(self.families),
            "sample_rate": self.sample_rate,
            "length": self.length,
            "feature_names": list(FEATURE_NAMES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "facts": self.facts,
        }

    def save(self, path, *, overwrite=True):
        """Write the classifier as JSON (a few kilobytes), atomically.

        Parameters
        ----------
        path : str or Path
        overwrite : bool
            False: refuse to replace an existing file.

        Returns
        -------
        path : Path

        Raises
        ------
        safeio.WriteFailed
            When the file cannot be written (``safeio.FileExistsRefused`` when it exists
            and ``overwrite`` is False).
        """
        from safeio import atomic_write_text

        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1), overwrite=overwrite)

    @classmethod
    def load(cls, path):
        """Read a classifier written by :meth:`save`.

        Raises
        ------
        FamilyFileError
            When the file is missing, unreadable, too large, not JSON, nested too deeply,
            or not a classifier of these features.
        """
        from safeio import UnreadableJson, read_json

        path = Path(path)
        try:
            data = read_json(path)  # bounded: a hostile file (1.5 GB, 200,000 levels) is refused
        except UnreadableJson as error:
            reason = str(error).removeprefix(f"{path}: ")
            if error.not_a_file:
                raise FamilyFileError(str(error)) from None
            if reason.startswith("cannot read"):
                raise FamilyFileError(f"{path}: cannot be read{reason.removeprefix('cannot read')}") from None
            if reason.startswith("not JSON"):
                reason = "not JSON"
            raise FamilyFileError(f"{path}: not a family classifier ({reason})") from None
        if not isinstance(data, dict) or data.get("format") != "family-classifier":
            raise FamilyFileError(f"{path}: not a family classifier")
        if data.get("version") != FORMAT_VERSION:
            raise FamilyFileError(f"{path}: classifier format {data.get('version')}, this version reads {FORMAT_VERSION}")
        if data.get("feature_names") != list(FEATURE_NAMES):
            raise FamilyFileError(f"{path}: made for other features than this version computes")
        try:
            classifier = cls(
                data["mean"],
                data["scale"],
                data["coef"],
                data["intercept"],
                data["families"],
                data["sample_rate"],
                data["length"],
                data.get("facts"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise FamilyFileError(f"{path}: damaged ({error})") from None
        dims = len(FEATURE_NAMES)
        if (
            classifier.coef.shape != (len(classifier.families), dims)
            or classifier.mean.shape != (dims,)
            or classifier.scale.shape != (dims,)
            or classifier.intercept.shape != (len(classifier.families),)
        ):
            raise FamilyFileError(f"{path}: damaged (arrays of the wrong shape)")
        return classifier


def family_histogram(probabilities, families):
    """Share of the sounds whose most probable family is each family.

    Parameters
    ----------
    probabilities : np.ndarray, shape (N, F)
    families : sequence of str, length F

    Returns
    -------
    histogram : dict of str -> float
        Every family of ``FAMILIES`` (0 for those the classifier lacks), summing to 1.
    """
    winners = np.asarray(probabilities).argmax(axis=1)
    counts = np.bincount(winners, minlength=len(families)) / max(len(winners), 1)
    shares = dict.fromkeys(FAMILIES, 0.0)
    shares.update({family: float(share) for family, share in zip(families, counts)})
    return shares


def recognisable(probabilities):
    """Mean top family probability: how clearly the sounds are some drum (1/F to 1)."""
    return float(np.mean(np.asarray(probabilities).max(axis=1)))


def fit_on_dataset(folder):
    """Fit on a preprocessed data set's training split, scored on its held-out kits.

    Parameters
    ----------
    folder : str or Path
        From ``app.py preprocess``.

    Returns
    -------
    FamilyClassifier
        ``facts`` holds the data folder, the held-out kits and ``validation_accuracy``.
    """
    from preprocessing.dataset import load_dataset

    dataset = load_dataset(folder)
    rate, length = dataset.settings.sample_rate, dataset.settings.length
    train, validation = dataset.train(), dataset.validation()
    classifier = FamilyClassifier.fit(audio_features(train.audio, rate), train.families, rate, length)
    accuracy = classifier.accuracy(audio_features(validation.audio, rate), validation.families) if len(validation) else None
    classifier.facts.update(data=str(folder), validation_kits=list(dataset.validation_kits), validation_accuracy=accuracy)
    return classifier


def main(argv=None):
    """``python -m evaluation.families DATA -o FILE``: fit and save the shipped classifier."""
    import argparse

    from preprocessing.dataset import DatasetError
    from safeio import WriteFailed

    parser = argparse.ArgumentParser(prog="python -m evaluation.families", description="Fit the drum-family classifier on a data set.")
    parser.add_argument("data", metavar="DIR", help="a preprocessed data set")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    parser.add_argument("--force", action="store_true", help="replace an existing FILE")
    args = parser.parse_args(argv)
    if Path(args.output).exists() and not args.force:
        print(f"{args.output}: already exists (pass --force to replace it)", file=sys.stderr)
        return 1
    try:
        classifier = fit_on_dataset(args.data)
    except DatasetError as error:
        print(error, file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"{args.data}: {error}", file=sys.stderr)
        return 1
    try:
        classifier.save(args.output, overwrite=args.force)
    except WriteFailed as error:
        print(error, file=sys.stderr)
        return 1
    accuracy = classifier.facts.get("validation_accuracy")
    print(
        f"{args.output}: {len(classifier.families)} families, held-out accuracy "
        + (f"{accuracy:.3f}" if accuracy is not None else "unknown (no held-out kits)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


def shipped_classifier(models_folder):
    """The zoo's shipped classifier, for naming a kit's instruments.

    Returns
    -------
    classifier : FamilyClassifier or None
        None where ``families.json`` is missing or damaged.
    reason : str or None
        Why there is no classifier, in one line.
    """
    try:
        return FamilyClassifier.load(Path(models_folder) / SHIPPED_FILE), None
    except FamilyFileError as error:
        return None, str(error)
