"""Test doubles for the GUI tests (no tests here): a NumPy model with the TrainedModel contract.

Only tests use these; the product always drives the real packages. They let the window
tests that do not need TensorFlow run in a fraction of a second.
"""

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from audio.player import PlayerStats
from gui.backend import PackageBackend
from gui.state import ModelEntry
from models.card import ModelCard
from models.trained_folder import LatentPlane


class FakeModelError(Exception):
    """A fake model's reason for the user."""


@dataclass
class FakeCodes:
    points: np.ndarray
    families: np.ndarray
    names: np.ndarray
    files: np.ndarray
    is_validation: np.ndarray

    def __len__(self):
        return len(self.points)


class FakeModel(LatentPlane):
    """Decodes a point to a decaying sine: x sets the pitch, y the decay.

    Like the runtime, a fake with training codes has family pads (the real
    :mod:`models.family_pads`, fitted on its codes: kicks, snares and hats, no clap), so
    ``decode(points, family=...)`` plays that family's region; the GAN takes no family.
    The base class gives it the rest of :class:`models.interface.ModelProtocol`.
    """

    conditioned = False
    has_encoder = True  # set per instance (the GAN has none)
    center = (0.25, -0.5)

    def __init__(self, name, kind="dense_ae", sample_rate=22050, sample_length=2048, codes=True):
        self.name = name
        self.kind = kind
        self.sample_rate = sample_rate
        self.sample_length = sample_length
        self.has_encoder = kind != "gan"
        self.card = ModelCard.from_dict(
            {
                "name": name,
                "kind": kind,
                "sample_rate": sample_rate,
                "sample_length": sample_length,
                "parameters": 1234,
                "epochs": 2,
                "data": {"folder": "/nonexistent/data", "samples": 12},
                "preprocessing": {"sample_rate": sample_rate, "length": sample_length, "attack_seconds": 0.01},
                "losses": {"loss": 0.25, "val_loss": 0.3},
            }
        )
        self.center = (0.25, -0.5)
        self.decode_calls = 0
        rng = np.random.default_rng(3)
        if codes and self.has_encoder:
            n = 12
            self.codes = FakeCodes(
                points=rng.uniform(-1.5, 1.5, (n, 2)).astype(np.float32),
                families=np.array(["kick", "snare", "hat"] * 4),
                names=np.array([f"drum {i}" for i in range(n)]),
                files=np.array([f"{i:04d}.wav" for i in range(n)]),
                is_validation=np.arange(n) % 4 == 0,
            )
        else:
            self.codes = None
        self.family_pads, self.no_family_reason = (None, None) if self.conditioned else self._pads()

    def _pads(self):
        from models.family_pads import family_pads_or_reason

        return family_pads_or_reason(self.name, self.codes if self.has_encoder else None, self.latent_range())

    @property
    def takes_family(self):
        return self.conditioned or self.family_pads is not None

    @property
    def families(self):
        from constants import DRUM_FAMILIES

        return DRUM_FAMILIES if self.conditioned else (() if self.family_pads is None else self.family_pads.families)

    def latent_range(self):
        return (-2.0, 2.0, -2.0, 2.0)

    def decode(self, points, variation=None, family=None):
        from models.errors import ModelInputError

        self.decode_calls += 1
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        if family is not None:
            if self.family_pads is None:
                raise ModelInputError(self.no_family_reason)
            points = self.family_pads.to_latent(points, family)
        t = np.arange(self.sample_length) / self.sample_rate
        freq = 200.0 * 2.0 ** points[:, :1]
        rate = 20.0 * 2.0 ** points[:, 1:]
        return (0.8 * np.sin(2 * np.pi * freq * t) * np.exp(-rate * t)).astype(np.float32)

    def encode(self, audio):
        if not self.has_encoder:
            raise FakeModelError(f"{self.name} has no encoder")
        audio = np.asarray(audio, dtype=np.float32)
        return np.stack([np.clip(np.abs(audio).mean(axis=1) * 10 - 1, -2, 2), np.clip(audio.std(axis=1) * 4 - 1, -2, 2)], axis=1)


class FakeConditionedModel(FakeModel):
    """A fake ddsp_cvae: its sound also depends on the family (weights over the seven).

    Each family adds its own overtone to the decaying sine, so two families, or two mixes,
    never give the same samples; the same point and family always do. Its training codes
    carry every family.
    """

    conditioned = True
    has_noise_source = False

    def __init__(self, name="ddsp_cvae", sample_rate=22050, sample_length=2048):
        super().__init__(name, kind="vae", sample_rate=sample_rate, sample_length=sample_length)
        from constants import DRUM_FAMILIES

        n = 2 * len(DRUM_FAMILIES)
        self.codes = FakeCodes(
            points=np.random.default_rng(5).uniform(-1.5, 1.5, (n, 2)).astype(np.float32),
            families=np.array(list(DRUM_FAMILIES) * 2),
            names=np.array([f"drum {i}" for i in range(n)]),
            files=np.array([f"{i:04d}.wav" for i in range(n)]),
            is_validation=np.arange(n) % 4 == 0,
        )
        self.families_asked = []  # the family text or rows of each decode

    def decode(self, points, variation=None, family=None):
        from models.families import family_rows

        base = super().decode(points)  # no family: a conditioned model has no family pads
        rows = family_rows(family, base.shape[0])  # (N, 7): None is the default family
        self.families_asked.append(family)
        t = np.arange(self.sample_length) / self.sample_rate
        overtones = np.sin(2 * np.pi * 300.0 * np.arange(2, 9)[:, None] * t)  # (7, L)
        return (base + 0.15 * (rows @ overtones) * np.exp(-30 * t)).astype(np.float32)

    def encode(self, audio, family=None):
        return super().encode(audio)


class FakePlayer:
    """Records what it was asked to play, and keeps the time of a loop as a player would: a
    swap for the next repetition begins (``stats().began_serial``) when the loop comes round."""

    def __init__(self, sample_rate, device=None, available=True, reason=""):
        self.sample_rate = sample_rate
        self.device = device
        self.available = available
        self.reason = reason
        self.calls = []
        self.volume = 1.0
        self._serial = 0
        self._began = 0
        self._loop = None  # (start time, seconds) of the loop playing
        self._waiting = []  # (serial, time) of the swaps for a next repetition
        self._active = False  # playing or looping (a swap replaces something)

    def _request(self, begins=True):
        self._serial += 1
        if begins:
            self._began, self._waiting = self._serial, []
        return self._serial

    def stats(self):
        return PlayerStats(requested_serial=self._serial, began_serial=self._began_serial(), seen_serial=self._serial)

    def _began_serial(self):
        if self._loop is not None:
            start, seconds = self._loop
            now = time.monotonic()
            for serial, asked in self._waiting:  # the latest asked before a seam that has come
                if start + math.ceil((asked - start) / seconds) * seconds <= now:
                    self._began = max(self._began, serial)
        return self._began

    def play(self, buffer, **_):
        self.calls.append(("play", len(buffer)))
        self._request()
        self._loop, self._active = None, True

    def loop(self, buffer, gap_seconds=0.0, **_):
        self.calls.append(("loop", len(buffer)))
        self._request()
        self._loop, self._active = (time.monotonic(), max(len(buffer) / self.sample_rate + gap_seconds, 1e-3)), True

    def swap(self, buffer, immediate=False, **_):
        self.calls.append(("swap", len(buffer), immediate))
        if not self._active:
            return  # nothing plays
        if immediate or self._loop is None:
            self._request()
        else:
            self._waiting.append((self._request(begins=False), time.monotonic()))

    def stop(self):
        self.calls.append(("stop",))
        self._request(begins=False)
        self._loop, self._waiting, self._active = None, [], False

    def play_pattern(self, sounds, steps, tempo, restart=True):
        self.calls.append(("pattern", tempo, restart))

    def stop_pattern(self, cut=False):
        self.calls.append(("stop pattern", cut))

    def close(self):
        self.calls.append(("close",))


class FakeBackend(PackageBackend):
    """The real backend with NumPy models and a recording player."""

    KINDS: ClassVar[dict] = {"ae_small_relu": "dense_ae", "vae_a": "vae", "gan": "gan", "ae_big_tanh": "dense_ae"}
    #: listed by the window only where the zoo has its folder (gui.backend.window_model_names)
    CONDITIONED: ClassVar[tuple] = ("ddsp_cvae",)

    def __init__(self, damaged=("ae_big_tanh",), player_available=True, listing_seconds=0.0):
        super().__init__()
        self.listing_seconds = listing_seconds  # a real zoo takes a while to list
        self.damaged = set(damaged)
        self.player_available = player_available
        self.players = []
        self._user_errors = (FakeModelError, OSError)

    def list_models(self, folder):
        from gui.backend import model_groups, window_model_names
        from models.registry import REGISTRY

        time.sleep(self.listing_seconds)
        entries = []
        for name in window_model_names(folder):
            group, subgroup = model_groups(name, REGISTRY[name])
            # the conditioned fake is trained where its folder is (as a real zoo has ddsp_cvae or not)
            trained = name in self.KINDS or (name in self.CONDITIONED and (Path(folder) / name).is_dir())
            entries.append(
                ModelEntry(
                    name,
                    group=group,
                    subgroup=subgroup,
                    trained=trained,
                    reason="" if trained else f"not trained (no {folder}/{name})",
                )
            )
        return entries

    def load(self, name, folder):
        if name in self.damaged:
            raise FakeModelError(f"{folder}/{name}/decoder.keras is damaged (not a zip file)")
        if name in self.CONDITIONED:
            return FakeConditionedModel(name)
        if name not in self.KINDS:
            raise FakeModelError(f"{name} is not trained")
        return FakeModel(name, kind=self.KINDS[name])

    def prepare_file(self, path, model):
        import soundfile

        if not Path(path).exists():
            raise FakeModelError(f"{Path(path).name}: no such file")
        audio, _ = soundfile.read(path, dtype="float32", always_2d=True)
        audio = audio[:, 0]
        out = np.zeros(model.sample_length, dtype=np.float32)
        out[: min(len(audio), len(out))] = audio[: len(out)]
        return out

    def make_player(self, sample_rate, device):
        player = FakePlayer(
            sample_rate,
            device,
            available=self.player_available,
            reason="" if self.player_available else "no sound output device (test)",
        )
        self.players.append(player)
        return player

    def output_devices(self):
        return [(0, "null"), (3, "test speakers")]

    def discontinuity(self):
        return None
