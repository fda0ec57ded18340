"""Small behavioural stand-ins for trained models, for the web app's tests (no TensorFlow,
no files): a deterministic decoder, and one whose sound has a seeded random part."""

import numpy as np

from models.card import ModelCard
from models.trained_folder import LatentPlane


class FakeCodes:
    """The training map: ``points`` (N, 2) and ``families`` (N,), as LatentCodes has them."""

    def __init__(self, count=24, seed=0):
        rng = np.random.default_rng(seed)
        self.points = rng.uniform(-1, 1, size=(count, 2)).astype(np.float32)
        self.families = np.array(["kick", "snare", "hat"] * (count // 3))[:count]
        self.names = np.array([f"sound{i}" for i in range(count)])
        self.files = self.names
        self.is_validation = np.zeros(count, bool)

    def __len__(self):
        return int(self.points.shape[0])


class FakeModel(LatentPlane):
    """A decoder of (x, y) to a decaying tone: x sets the pitch, y the decay (the base class
    gives it the rest of :class:`models.interface.ModelProtocol`).

    Parameters
    ----------
    name, kind : str
    varies : bool
        A variation seed adds seeded noise (as ddsp_vae's takes do).
    codes : FakeCodes or None
    """

    def __init__(self, name="ae_small_tanh", kind="dense_ae", *, varies=False, codes=None, sample_rate=8000, sample_length=2048):
        self.name = name
        self.kind = kind
        self.card = ModelCard(name=name, kind=kind, sample_rate=sample_rate, sample_length=sample_length)
        self.sample_rate = sample_rate
        self.sample_length = sample_length
        self.codes = codes
        self.varies = varies
        self.decoded = 0

    @property
    def has_encoder(self):
        return self.codes is not None

    def latent_range(self):
        return (-1.0, 1.0, -1.0, 1.0) if self.codes is None else (-1.1, 1.1, -1.1, 1.1)

    @property
    def center(self):
        return (0.0, 0.0)

    def decode(self, points, variation=None):
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        t = np.arange(self.sample_length) / self.sample_rate
        out = []
        for x, y in points:
            tone = np.sin(2 * np.pi * (200 + 150 * x) * t) * np.exp(-t * (20 + 10 * y))
            if self.varies and variation is not None:
                tone = tone + 0.05 * np.random.default_rng(variation).standard_normal(t.size)
            out.append(0.8 * tone)
        self.decoded += len(points)
        return np.asarray(out, dtype=np.float32)


def exit_at_once(name, request, version=None):
    """A decoding process's work that kills its process (for the broken-pool tests)."""
    import os

    os._exit(3)


class FakeFamilyModel(FakeModel):
    """A conditioned model (as ddsp_cvae): the family weights set the tone's pitch, so each
    family and each mix is a sound of its own."""

    conditioned = True

    def __init__(self, name="ddsp_cvae", **options):
        super().__init__(name, kind="vae", varies=True, **options)
        self.families_asked = []

    def decode(self, points, variation=None, family=None):
        return self._tones(points, family, self.sample_length)

    def _tones(self, points, family, length):
        from models.families import family_rows

        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        rows = family_rows(family, len(points))
        self.families_asked.append(rows.copy())
        shift = rows @ np.arange(1, rows.shape[1] + 1, dtype=np.float32)  # kick 1 ... percussion 7
        t = np.arange(length) / self.sample_rate
        out = [0.8 * np.sin(2 * np.pi * (100 * s + 50 * x) * t) * np.exp(-t * (20 + 10 * y)) for (x, y), s in zip(points, shift)]
        self.decoded += len(points)
        return np.asarray(out, dtype=np.float32)


class FakeAnyLengthModel(FakeFamilyModel):
    """A conditioned model that renders any length (as ddsp_cvae's ``seconds=``): the tone goes
    on decaying for as long as it is asked."""

    renders_any_length = True

    def decode(self, points, variation=None, family=None, seconds=None):
        length = self.sample_length if seconds is None else int(np.ceil(seconds * self.sample_rate / 4) * 4)
        return self._tones(points, family, length)
