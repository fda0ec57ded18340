"""Hostile or mistaken imports, each refused by ``app.py import-model`` in one line with
nothing written and the user's file unchanged: a Lambda layer, a wrong output shape, NaN,
silence, an operator outside the list, a sparse 2 GB file, other formats, bad options and
names."""

import numpy as np
import pytest
from import_fixtures import DIM, LENGTH, ROOT, keras_decoder, one_line, onnx_decoder, refused, run_app


def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    source = tmp_path / "lambda.keras"
    keras_decoder(source, with_lambda=True)
    line = refused(tmp_path, source)
    reason = "has a Lambda layer (Python code); safe mode loads no code: rebuild it without Lambda layers"
    assert line == f"app.py import-model: {source}: {reason}"


def test_an_onnx_file_with_a_wrong_output_shape_is_refused(tmp_path):
    source = tmp_path / "cube.onnx"
    onnx_decoder(source, output_shape=(16, 16))
    line = refused(tmp_path, source)
    assert (
        line
        == f"app.py import-model: {source}: outputs shape (3, 16, 16) for 3 points; it must be (3, length), a row of audio a point"
    )


def test_an_onnx_file_that_outputs_nan_is_refused(tmp_path):
    source = tmp_path / "nan.onnx"
    onnx_decoder(source, weights=np.full((DIM, LENGTH), np.nan, np.float32))
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: decodes NaN or infinite samples (19 of 19 grid points)"


def test_a_silent_decoder_is_refused(tmp_path):
    source = tmp_path / "silent.onnx"
    onnx_decoder(source, weights=np.zeros((DIM, LENGTH), np.float32))
    assert refused(tmp_path, source) == f"app.py import-model: {source}: decodes silence at every one of 19 grid points (peak 0)"


def test_an_operator_outside_the_list_is_refused(tmp_path):
    source = tmp_path / "random.onnx"
    onnx_decoder(source, ops=("MatMul", "RandomNormalLike"))
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: uses operators outside the allowed list: RandomNormalLike"


@pytest.mark.parametrize("where", ["its own folder", "elsewhere"])
def test_an_onnx_file_whose_weights_lie_in_another_file_is_refused(tmp_path, where):
    # PyTorch's exporter writes decoder.onnx.data beside decoder.onnx unless told not to. An
    # import copies one file, and onnxruntime looks for the other wherever it runs: run from
    # the file's folder such a model was imported and then could not load anywhere.
    source = tmp_path / "decoder.onnx"
    onnx_decoder(source, external_data=True)
    assert (tmp_path / "decoder.onnx.data").stat().st_size == DIM * LENGTH * 4
    line = refused(tmp_path, source, cwd=tmp_path if where == "its own folder" else ROOT)
    assert line == (
        f"app.py import-model: {source}: keeps the data of its tensors in other files (W); "
        "export it as one file (torch.onnx.export(..., external_data=False))"
    )


def test_a_2_gb_file_is_refused_by_its_size(tmp_path):
    source = tmp_path / "huge.onnx"
    with open(source, "wb") as handle:  # sparse: 2 GB long, no block written
        handle.truncate(2 * 2**30)
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: 2,048 MiB, larger than the 512 MiB a model file may be"


def test_a_file_of_another_format_is_refused(tmp_path):
    source = tmp_path / "decoder.pt"
    source.write_bytes(b"PK\x03\x04 a pickle inside")
    assert refused(tmp_path, source) == f"app.py import-model: {source}: not a .keras or .onnx file (the formats import-model reads)"


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (("--sample-rate", "5"), "--sample-rate: must be between 8000 and 192000 Hz (got 5)"),
        (("--latent-range", "3,1"), "--latent-range '3,1': LOW must be below HIGH, both finite"),
        (("--no-such-option",), None),
    ],
)
def test_bad_options_are_one_line_usage_errors(tmp_path, extra, line):
    source = tmp_path / "d.onnx"
    onnx_decoder(source)
    status, out, err = run_app("import-model", "x", "--decoder", source, "--models", tmp_path / "zoo", *extra, home=tmp_path)
    assert status == 2 and out == ""
    assert line is None or one_line(err) == f"app.py import-model: {line}"
    one_line(err)
    assert not (tmp_path / "zoo").exists()


@pytest.mark.parametrize("name", ["gan", "../up", ".hidden", "a b"])
def test_a_shipped_or_unsafe_name_is_refused(tmp_path, name):
    source = tmp_path / "d.onnx"
    onnx_decoder(source)
    status, out, err = run_app("import-model", name, "--decoder", source, "--models", tmp_path / "zoo", home=tmp_path)
    assert status == 2 and out == ""
    one_line(err)
    assert not (tmp_path / "zoo").exists()


def test_a_missing_or_non_onnx_file_is_refused(tmp_path):
    assert refused(tmp_path, tmp_path / "gone.onnx", allow_missing=True).endswith(f"{tmp_path / 'gone.onnx'}: missing")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf \xff\xff\xff")
    assert refused(tmp_path, junk).startswith(f"app.py import-model: {junk}: not an ONNX model (")


def _imported_card(**changes):
    card = {
        "name": "m",
        "kind": "imported",
        "sample_rate": 22050,
        "sample_length": LENGTH,
        "latent": {"dim": 3, "low": [-1.0] * 3, "high": [1.0] * 3, "center": [0.0] * 3, "pad_axes": [0, 2]},
        "files": {"decoder": {"file": "decoder.onnx", "format": "onnx", "sha256": "a" * 64}},
        "validation": {"peak": 0.5},
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            card[section] = {**card[section], field: value}
        else:
            card[section] = value
    return card


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"latent__pad_axes": [1, 1]}, "latent.pad_axes must be two different axes"),
        ({"latent__pad_axes": [0, 3]}, "latent.pad_axes[1] must be a whole number from 0 to 2"),
        ({"latent__low": [-1.0, -1.0]}, "latent.low must be a list of 3 numbers"),
        ({"latent__high": [1.0, -2.0, 1.0]}, "latent.low must be below latent.high on every axis"),
        ({"files": {"decoder": {"file": "decoder.pt", "format": "torch", "sha256": "a" * 64}}}, "files.decoder.format must be one of"),
        ({"files": {"decoder": {"file": "decoder.onnx", "format": "onnx", "sha256": "xyz"}}}, "files.decoder.sha256 must be 64"),
    ],
)
def test_the_card_schema_holds_an_imported_card_to_its_fields(changes, reason):
    from models.card import CardError, ModelCard

    assert ModelCard.from_dict(_imported_card()).latent["pad_axes"] == [0, 2]
    with pytest.raises(CardError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        ModelCard.from_dict(_imported_card(**changes))
