"""ddsp_vae on the NumPy engine: its decoder.keras (an MLP into the DrumSynth layer) runs
through models.drumsynth, its variations included, within 1e-4 of Keras; its encoder (the
LogMel front end) too."""

import numpy as np
import pytest

from drums import drum_batch
from models.errors import ModelInputError

pytestmark = pytest.mark.slow  # trains a ddsp model to compare the engines

LENGTH = 2048
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """A tiny ddsp_vae trained one epoch."""
    from models.training import TrainingData, TrainOptions, train_model

    audio, labels = drum_batch(32, LENGTH, seed=3)
    data = TrainingData.from_arrays(
        audio, 22050, is_validation=np.arange(32) % 8 == 0, families=labels, preprocessing={"attack_seconds": 0.01}
    )
    out = tmp_path_factory.mktemp("zoo")
    train_model("ddsp_vae", data, out, TrainOptions(epochs=1, batch_size=8, verbose=0), width=4, hidden=(8,))
    return out, audio


def test_engine_decodes_ddsp_vae_as_keras_does_with_its_variations(zoo):
    from models.engine import load_runtime
    from models.keras_loader import load_trained

    folder, _ = zoo
    runtime, reference = load_runtime("ddsp_vae", folder), load_trained("ddsp_vae", folder)
    assert runtime.has_variations and runtime.latent_range() == (-3.0, 3.0, -3.0, 3.0)
    points = np.random.default_rng(1).uniform(-3, 3, (6, 2)).astype(np.float32)
    own = runtime.decode(points)
    assert own.shape == (6, LENGTH) and own.dtype == np.float32
    np.testing.assert_allclose(own, reference.decode(points), rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(runtime.decode(points, variation=0), own)
    other = runtime.decode(points, variation=3)
    np.testing.assert_allclose(other, reference.decode(points, variation=3), rtol=0, atol=TOLERANCE)
    assert np.max(np.abs(other - own)) > 1e-3  # a new realisation, not the same sound
    with pytest.raises(ModelInputError, match="variation must be a whole number"):
        runtime.decode(points, variation=-1)


def test_engine_encodes_ddsp_vae_as_keras_does(zoo):
    from models.engine import load_runtime
    from models.keras_loader import load_trained

    folder, audio = zoo
    got = load_runtime("ddsp_vae", folder).encode(audio[:5])
    np.testing.assert_allclose(got, load_trained("ddsp_vae", folder).encode(audio[:5]), rtol=0, atol=TOLERANCE)
