"""The family selector's logic and handlers, without a window: state in, effects out."""

from dataclasses import dataclass

import numpy as np
import pytest

from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.backend import PackageBackend
from gui.family import FamilyState, from_text
from gui.handlers import handle
from gui.state import READY, AppState, ModelEntry
from gui_fakes import FakeConditionedModel, FakeModel


@dataclass
class FakeFavourite:
    """A favourites-list entry as audio.export lists it: model, point and its recall data."""

    model: str
    point: tuple
    recall: dict
    path: str = "favs/x.wav"
    level: str | None = None


def of_type(effects, cls):
    return [e for e in effects if isinstance(e, cls)]


def worker(state, record):
    return handle(state, k.WORKER, {k.WORKER: record})


def ready_state(model):
    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries[model.name] = ModelEntry(model.name, group="g", trained=True, state=READY)
    state.wanted = model.name
    worker(state, ev.ModelReady(PackageBackend().describe(model)))
    state.player.ready = True
    return state


@pytest.fixture
def cvae():
    return ready_state(FakeConditionedModel())


def test_a_two_family_mix_reads_back_as_the_button_the_hybrid_and_its_weight():
    chosen = from_text("tom:0.6,kick:0.4")
    assert (chosen.first, chosen.second, chosen.blend, chosen.exact) == ("tom", "kick", 0.4, None)
    assert chosen.text() == "kick:0.4,tom:0.6"
    assert FamilyState("kick", "tom", 0.4).text() == "kick:0.6,tom:0.4"


def test_a_mix_the_selector_cannot_show_is_kept_exactly():
    chosen = from_text("kick:0.5,snare:0.3,hat:0.2")
    assert chosen.first == "kick" and chosen.text() == "kick:0.5,snare:0.3,hat:0.2"


GAN_REASON = "gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"


def test_a_family_key_on_a_model_that_takes_none_says_its_reason_in_one_line():
    state = ready_state(FakeModel("gan", kind="gan"))
    effects = handle(state, (k.KEY, "3"), {})
    assert not of_type(effects, fx.Decode)
    assert state.message == GAN_REASON
    assert "ddsp_cvae" not in state.message and "conditioned" not in state.message


@pytest.fixture
def padded():
    """A model with family pads (the fakes' kicks, snares and hats; no clap)."""
    return ready_state(FakeModel("vae_a", kind="vae"))


def test_a_model_with_family_pads_opens_on_all_families_the_plain_pad(padded):
    assert padded.family.text() is None and padded.model.takes_family
    assert padded.model.families == ("kick", "snare", "hat")
    effects = handle(padded, k.PAD, {k.PAD: (0.5, 0.5)})
    assert of_type(effects, fx.Decode) == [fx.Decode("vae_a", (0.5, 0.5))]  # no family: the plain pad


def test_a_family_key_on_a_model_with_family_pads_decodes_that_familys_pad(padded):
    effects = handle(padded, (k.KEY, "1"), {})
    assert of_type(effects, fx.Decode) == [fx.Decode("vae_a", padded.point, family="kick")]
    assert padded.sound.play_when_decoded
    maps = [e.request for e in of_type(effects, fx.Render) if e.panel == "map"]
    assert maps[-1].highlight == ("kick",) and maps[-1].key == ("vae_a", "codes", "kick")
    # the training sounds where the kick's pad puts them
    expected = padded.model.family_pads.to_pad(padded.model.codes.points, "kick")
    np.testing.assert_array_equal(maps[-1].codes, expected)
    effects = handle(padded, (k.KEY, "0"), {})  # back to All families: the plain pad, the codes as they are
    assert of_type(effects, fx.Decode) == [fx.Decode("vae_a", padded.point)]
    maps = [e.request for e in of_type(effects, fx.Render) if e.panel == "map"]
    np.testing.assert_array_equal(maps[-1].codes, padded.model.codes.points)
    assert maps[-1].highlight is None


def test_a_family_the_model_has_no_training_sound_of_is_refused_with_its_reason(padded):
    effects = handle(padded, (k.KEY, "3"), {})  # clap
    assert not of_type(effects, fx.Decode) and padded.family.text() is None
    assert padded.message == "vae_a has no clap among its training sounds"
    handle(padded, (k.KEY, "1"), {})
    effects = handle(padded, k.HYBRID, {k.HYBRID: "clap"})
    assert not of_type(effects, fx.Decode) and padded.family.text() == "kick"
    assert padded.message == "vae_a has no clap among its training sounds"


def test_key_0_is_refused_by_a_conditioned_model_which_always_makes_a_family(cvae):
    effects = handle(cvae, (k.KEY, "0"), {})
    assert not of_type(effects, fx.Decode) and cvae.family.text() == "kick"
    assert cvae.message == "ddsp_cvae always makes one family: choose one with keys 1–7"


def test_the_hybrid_needs_a_family_first_on_all_families(padded):
    effects = handle(padded, k.HYBRID, {k.HYBRID: "hat"})
    assert not of_type(effects, fx.Decode) and padded.family.text() is None
    assert padded.message.startswith("choose a family first")


def test_s_on_a_family_pad_records_the_family_and_reopening_decodes_it_again(padded):
    handle(padded, (k.KEY, "2"), {})
    audio = FakeModel("vae_a", kind="vae").decode([padded.point], family="snare")[0]
    worker(padded, ev.Decoded("vae_a", padded.point, audio, family="snare"))
    saves = of_type(handle(padded, (k.KEY, "s"), {}), fx.Save)
    assert saves[0].settings["family"] == "snare" and saves[0].sounds[0] is audio
    handle(padded, (k.KEY, "0"), {})  # the selector elsewhere, then the favourite reopened
    favourite = FakeFavourite("vae_a", padded.point, {"settings": {"family": "snare"}})
    padded.favourites = [favourite]
    effects = handle(padded, k.REOPEN, {k.FAVOURITES: [favourite]})
    assert padded.family.text() == "snare"
    assert of_type(effects, fx.Decode) == [fx.Decode("vae_a", padded.point, family="snare")]


def test_choosing_a_model_with_family_pads_opens_it_on_all_families(padded):
    handle(padded, (k.KEY, "1"), {})
    other = FakeModel("ae_small_relu")
    padded.entries[other.name] = ModelEntry(other.name, group="g", trained=True, state=READY)
    handle(padded, k.MODELS, {k.MODELS: [other.name]})
    effects = worker(padded, ev.ModelReady(PackageBackend().describe(other)))
    assert padded.family.text() is None
    assert of_type(effects, fx.Decode)[-1].family is None


def test_morph_and_heat_maps_pass_the_family_pads_family(padded):
    handle(padded, (k.KEY, "4"), {})
    assert padded.family.text() == "hat"
    effects = handle(padded, k.MAP_MODE, {k.MAP_MODE: "brightness heat-map"})
    assert of_type(effects, fx.Heatmap)[0].family == "hat"
    handle(padded, k.SET_A, {})
    handle(padded, k.PAD, {k.PAD: (1.0, 1.0)})
    handle(padded, k.SET_B, {})
    effects = handle(padded, k.MORPH, {k.STEPS: 4})
    assert of_type(effects, fx.Morph)[0].family == "hat"


def test_back_returns_to_all_families_on_a_model_with_family_pads(padded):
    handle(padded, (k.KEY, "1"), {})
    effects = handle(padded, k.BACK, {})
    assert padded.family.text() is None
    assert of_type(effects, fx.Decode) == [fx.Decode("vae_a", padded.point)]


def test_a_family_key_decodes_the_point_with_it_and_auditions_it(cvae):
    effects = handle(cvae, (k.KEY, "3"), {})
    assert of_type(effects, fx.Decode) == [fx.Decode("ddsp_cvae", cvae.point, family="clap")]
    assert cvae.sound.play_when_decoded
    maps = [e.request for e in of_type(effects, fx.Render) if e.panel == "map"]
    assert maps and maps[-1].highlight == ("clap",)


def test_the_hybrid_and_its_slider_make_the_mix_decoded(cvae):
    handle(cvae, k.HYBRID, {k.HYBRID: "tom"})
    effects = handle(cvae, k.BLEND, {k.BLEND: 0.4})
    assert of_type(effects, fx.Decode)[-1].family == "kick:0.6,tom:0.4"


def test_a_sound_decoded_before_the_family_changed_is_not_kept(cvae):
    handle(cvae, (k.KEY, "2"), {})
    stale = ev.Decoded("ddsp_cvae", cvae.point, np.zeros(8, np.float32), family="kick")
    assert worker(cvae, stale) == [] and cvae.sound.family != "kick"


def test_s_records_the_family_heard(cvae):
    handle(cvae, (k.KEY, "7"), {})
    audio = FakeConditionedModel().decode([cvae.point], family="percussion")[0]
    worker(cvae, ev.Decoded("ddsp_cvae", cvae.point, audio, family="percussion"))
    saves = of_type(handle(cvae, (k.KEY, "s"), {}), fx.Save)
    assert saves[0].settings["family"] == "percussion" and saves[0].sounds[0] is audio


def test_s_before_the_new_family_sounds_waits_for_it(cvae):
    handle(cvae, (k.KEY, "4"), {})
    assert of_type(handle(cvae, (k.KEY, "s"), {}), fx.Save) == []
    audio = np.ones(8, np.float32)
    saves = of_type(worker(cvae, ev.Decoded("ddsp_cvae", cvae.point, audio, family="hat")), fx.Save)
    assert saves and saves[0].settings["family"] == "hat"


def test_a_heat_map_is_computed_per_family(cvae):
    handle(cvae, (k.KEY, "5"), {})
    effects = handle(cvae, k.MAP_MODE, {k.MAP_MODE: "brightness heat-map"})
    assert of_type(effects, fx.Heatmap)[0].family == "tom"
    grid = np.zeros((4, 4))
    worker(cvae, ev.HeatmapReady("ddsp_cvae", "brightness", grid, family="tom"))
    assert cvae.map.heatmaps[("ddsp_cvae", "brightness", "tom")] is grid
    effects = handle(cvae, (k.KEY, "6"), {})  # another family: its own heat-map
    assert of_type(effects, fx.Heatmap)[0].family == "cymbal"


def test_a_kit_names_a_favourite_after_the_family_it_was_saved_with():
    from audio.kit import recorded_family

    assert recorded_family({"settings": {"family": "kick:0.6,tom:0.4"}}) == "kick0.6-tom0.4"
    assert recorded_family({"settings": {"family": "clap"}}) == "clap"
    assert recorded_family({"settings": None}) is None  # the classifier names it


def test_back_and_forward_restore_the_family_of_each_step(cvae):
    start = cvae.point
    handle(cvae, (k.KEY, "3"), {})  # clap at the same point: a step
    handle(cvae, k.PAD, {k.PAD: (1.0, 1.0)})  # a click elsewhere, still clap (a step once let go)
    handle(cvae, k.PAD_UP, {k.PAD: (1.0, 1.0)})
    handle(cvae, (k.KEY, "5"), {})  # tom there
    assert cvae.history.of("ddsp_cvae").families == ["kick", "clap", "clap", "tom"]
    effects = handle(cvae, k.BACK, {})
    assert cvae.family.text() == "clap" and of_type(effects, fx.Decode)[0].family == "clap"
    assert of_type(effects, fx.Refresh) and cvae.point == (1.0, 1.0)
    handle(cvae, k.BACK, {})
    effects = handle(cvae, k.BACK, {})
    assert cvae.point == start and cvae.family.text() == "kick"
    assert of_type(effects, fx.Decode) == [fx.Decode("ddsp_cvae", start, family="kick")]
    handle(cvae, k.FORWARD, {})
    assert cvae.family.text() == "clap" and cvae.point == start


def test_the_hybrid_slider_changes_the_steps_mix_instead_of_adding_steps(cvae):
    handle(cvae, k.HYBRID, {k.HYBRID: "tom"})
    steps = len(cvae.history.of("ddsp_cvae").points)
    for value in (0.6, 0.7, 0.8):
        handle(cvae, k.BLEND, {k.BLEND: value})
    assert len(cvae.history.of("ddsp_cvae").points) == steps
    assert cvae.history.family("ddsp_cvae") == "kick:0.2,tom:0.8"
    handle(cvae, k.PAD, {k.PAD: (1.0, 1.0)})
    handle(cvae, k.PAD_UP, {k.PAD: (1.0, 1.0)})
    handle(cvae, k.BACK, {})
    assert cvae.family.text() == "kick:0.2,tom:0.8"


def test_vary_saves_each_variation_on_the_family_pad_and_records_the_family(tmp_path):
    import soundfile

    from audio.export import FavouritesFolder
    from audio.recall import read_recall
    from gui.vary import save_with_variations
    from models.variation import decode_recall

    model = FakeModel("vae_a", kind="vae")
    paths = save_with_variations(
        FavouritesFolder(tmp_path), model, "vae_a", (0.5, 0.0), 2, seed=2, family="hat", out_rate=None, subtype="FLOAT"
    )
    for path in paths:
        recall = read_recall(path)
        assert recall["settings"]["family"] == "hat"
        saved, _ = soundfile.read(str(path), dtype="float32")
        np.testing.assert_array_equal(decode_recall(model, recall), saved)  # reopening decodes the hat pad again
    first, _ = soundfile.read(str(paths[0]), dtype="float32")
    np.testing.assert_array_equal(first, model.decode([(0.5, 0.0)], family="hat")[0])
