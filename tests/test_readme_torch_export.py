"""The README's PyTorch export example, run as a user would: its code exports a decoder of its
own to ONNX, ``app.py import-model`` takes the file, and ``app.py generate`` plays what PyTorch
computes for the same vectors. PyTorch is not a dependency of the project: .ci/run installs
tests/requirements-torch.txt beside the lock; where it is not installed this test says so
and is skipped."""

import importlib.util
import re

import numpy as np
import pytest
import soundfile
from import_fixtures import ROOT, run_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnxscript") is None,
        reason="PyTorch is not installed (not a dependency; .ci/run installs tests/requirements-torch.txt)",
    ),
]

#: Vectors the generated files and PyTorch's own output are compared at.
VECTORS = ([0.0] * 8, [0.5, -1.0, 0.25, 2.0, -0.75, 0.0, 1.5, -2.5])


def readme_example():
    """The Python block after the README's "A PyTorch decoder is exported" paragraph."""
    text = (ROOT / "README.md").read_text()
    after = text[text.index("A PyTorch decoder is exported to ONNX") :]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_readmes_pytorch_example_exports_a_decoder_that_imports_and_plays_what_pytorch_computes(tmp_path):
    import subprocess
    import sys

    example = readme_example()
    assert "torch.onnx.export(" in example and "external_data=False" in example
    # the example as written, then what PyTorch itself computes for VECTORS (the reference)
    reference = f"\nimport numpy\nnumpy.save('reference.npy', decoder(torch.tensor({list(VECTORS)!r})).detach().numpy())\n"
    (tmp_path / "export.py").write_text(example + reference)
    done = subprocess.run([sys.executable, "export.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decoder.onnx", "export.py", "reference.npy"]  # one file
    expected = np.load(tmp_path / "reference.npy")
    assert expected.shape == (2, 16384)

    zoo, before = tmp_path / "zoo", (tmp_path / "decoder.onnx").read_bytes()
    status, out, err = run_app("import-model", "mine", "--decoder", tmp_path / "decoder.onnx", "--models", zoo, home=tmp_path)
    assert status == 0, err
    assert out.startswith(f"{zoo / 'mine'}  (imported 8-D onnx decoder, 16384 samples at 22050 Hz;") and out.count("\n") == 1
    assert (tmp_path / "decoder.onnx").read_bytes() == before  # the user's file is only read

    for index, vector in enumerate(VECTORS):
        wav = tmp_path / f"out{index}.wav"
        at = ",".join(f"{v:g}" for v in vector)
        status, out, err = run_app("generate", "mine", "--models", zoo, "--at", at, "-o", wav, home=tmp_path)
        assert status == 0, err
        audio, rate = soundfile.read(wav, dtype="float32")
        assert rate == 22050 and audio.shape == (16384,)
        assert np.abs(audio - expected[index]).max() < 1e-5
