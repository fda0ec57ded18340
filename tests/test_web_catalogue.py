"""Which models a server offers: every trained one in the folder, loaded once; the default is
the best by the evaluation's metrics; a broken model is left out with its reason."""

import json
import zipfile

import pytest
from starlette.testclient import TestClient

from evaluation.ranking import best_model
from models.errors import ModelUnavailableError
from models.registry import get_spec
from models.zoo import required_files
from tests.web_fakes import FakeCodes, FakeModel
from web.catalogue import Catalogue, bounded_box, load_catalogue, serve_model
from web.server import create_app


def fake_zoo(folder, metrics_by_name):
    """Card and placeholder archives for each name (what the zoo listing checks)."""
    for name, metrics in metrics_by_name.items():
        model_dir = folder / name
        model_dir.mkdir(parents=True)
        for file_name in required_files(name):
            if file_name == "card.json":
                (model_dir / file_name).write_text(
                    json.dumps({"name": name, "kind": get_spec(name).kind, "sample_rate": 22050, "sample_length": 1024})
                )
            else:
                with zipfile.ZipFile(model_dir / file_name, "w") as archive:
                    # the members the zoo listing looks for (it does not load them)
                    for member in (
                        "config.json",
                        "model.weights.h5",
                        "points.npy",
                        "families.npy",
                        "names.npy",
                        "files.npy",
                        "is_validation.npy",
                    ):
                        archive.writestr(member, "{}" if member == "config.json" else "x")
        if metrics is not None:
            (model_dir / "metrics.json").write_text(json.dumps({"metrics": metrics}))
    return folder


GOOD = {"recon_stft": 1.1, "frechet": 40.0, "diversity": 0.9, "clicks": 0.3, "decode_ms": 9.0}
FAIR = {"recon_stft": 1.3, "frechet": 80.0, "diversity": 0.5, "clicks": 0.5, "decode_ms": 0.1}


def fake_loader(loaded):
    def load(name, folder):
        loaded.append(name)
        kind = "gan" if name == "gan" else "vae" if name.startswith("vae") else "dense_ae"
        return FakeModel(name, kind, codes=None if kind == "gan" else FakeCodes())

    return load


def test_best_model_has_the_best_mean_rank_over_sound_quality_columns():
    assert best_model({"ae_small_tanh": FAIR, "vae_c": GOOD}) == "vae_c"
    # Decoding speed is not sound quality: the faster model does not win on it.
    assert best_model({"ae_small_tanh": {**GOOD, "decode_ms": 50.0}, "vae_c": FAIR}) == "ae_small_tanh"
    assert best_model({}) is None


def test_default_is_the_best_by_the_evaluation_and_changes_when_a_better_model_lands(tmp_path):
    loaded = []
    zoo = fake_zoo(tmp_path / "zoo", {"ae_small_tanh": FAIR, "gan": None, "vae_c": FAIR})
    catalogue = load_catalogue(zoo, loader=fake_loader(loaded))
    assert list(catalogue.models) == ["ae_small_tanh", "gan", "vae_c"] == loaded
    assert catalogue.default == "ae_small_tanh"  # a tie goes to the first
    (zoo / "vae_c" / "metrics.json").write_text(json.dumps({"metrics": GOOD}))
    catalogue = load_catalogue(zoo, loader=fake_loader([]))
    assert catalogue.default == "vae_c"
    assert "Best overall" in catalogue.models["vae_c"].description
    assert "Ranked 2 of 2" in catalogue.models["ae_small_tanh"].description
    assert "invents" in catalogue.models["gan"].description


def test_without_metrics_the_first_model_is_the_default(tmp_path):
    zoo = fake_zoo(tmp_path / "zoo", {"ae_medium_relu": None, "vae_a": None})
    catalogue = load_catalogue(zoo, loader=fake_loader([]))
    assert catalogue.default == "ae_medium_relu"
    assert catalogue.models["ae_medium_relu"].description.startswith("A medium dense network")


def test_a_model_that_fails_to_load_is_left_out_with_its_reason(tmp_path):
    zoo = fake_zoo(tmp_path / "zoo", {"ae_small_tanh": GOOD, "vae_c": GOOD})
    good = fake_loader([])

    def loader(name, folder):
        if name == "vae_c":
            raise ModelUnavailableError(f"{folder}/vae_c/decoder.keras: damaged")
        return good(name, folder)

    catalogue = load_catalogue(zoo, loader=loader)
    assert list(catalogue.models) == ["ae_small_tanh"]
    assert "damaged" in catalogue.unavailable["vae_c"]


def test_a_folder_with_nothing_to_serve_says_why(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no model can be served"):
        load_catalogue(tmp_path / "empty", loader=fake_loader([]))


def test_only_the_named_models_are_loaded(tmp_path):
    loaded = []
    zoo = fake_zoo(tmp_path / "zoo", {"ae_small_tanh": GOOD, "vae_c": GOOD})
    assert list(load_catalogue(zoo, ["vae_c"], loader=fake_loader(loaded)).models) == ["vae_c"] == loaded


def test_vary_is_offered_only_where_seeds_change_the_sound():
    assert serve_model(FakeModel("vae_c", "vae", varies=True)).has_variation
    assert not serve_model(FakeModel("vae_c", "vae")).has_variation


def test_points_are_bounded_to_one_span_around_the_latent_range():
    assert bounded_box((-1, 1, 0, 4)) == (-3, 3, -4, 8)
    served = serve_model(FakeModel())
    assert served.contains(2.9, -2.9) and not served.contains(3.1, 0) and not served.contains(float("nan"), 0)


def test_ddsp_vae_is_described_as_the_synthesiser_it_plays_not_as_a_generic_vae(tmp_path):
    from tests.web_server import zoo_of

    catalogue = load_catalogue(zoo_of(tmp_path / "zoo", "ddsp_vae", "vae_c"))
    ddsp, vae = catalogue.models["ddsp_vae"].description, catalogue.models["vae_c"].description
    assert ddsp.startswith("A drum synthesiser steered by a variational network")
    assert vae.startswith("A variational network with a smooth map")


def test_a_model_whose_codes_do_not_spread_is_served_as_collapsed_and_the_api_says_so():
    collapsed = FakeCodes()
    collapsed.points = (0.4 + 1e-4 * collapsed.points).astype("float32")  # all within 0.0002
    served = [serve_model(FakeModel("ae_big_sigmoid", codes=collapsed)), serve_model(FakeModel("ae_small_tanh", codes=FakeCodes()))]
    assert [s.collapsed for s in served] == [True, False]
    with TestClient(create_app(Catalogue.of(served))) as client:
        listed = {m["name"]: m["collapsed"] for m in client.get("/api/models").json()["models"]}
    assert listed == {"ae_big_sigmoid": True, "ae_small_tanh": False}
