"""The window's event handling, without a window: state in, effects out."""

from pathlib import Path

import numpy as np
import pytest

from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.backend import PackageBackend
from gui.events import ZooListed
from gui.handlers import clamp, favourite_label, handle, sequence_audio, status_text
from gui.model_card import card_table
from gui.state import LOADING, READY, UNAVAILABLE, AppState, ModelEntry
from gui_fakes import FakeModel

NAMES = ("ae_small_relu", "ae_small_tanh", "gan", "vae_a")
RANGE = (-2.0, 2.0, -2.0, 2.0)  # the fake models' latent range


def info_of(name, kind="dense_ae"):
    return PackageBackend().describe(FakeModel(name, kind=kind))


def report(state, record):
    """A worker's result, as the loop hands it to the handlers."""
    return handle(state, k.WORKER, {k.WORKER: record})


def send(state, event, payload=None, **values):
    """Handle an event the way the loop would (posted payload at values[event])."""
    values = dict(values)
    if payload is not None:
        values[event] = payload
    return handle(state, event, values)


def types(effects):
    return [type(e) for e in effects]


def of_type(effects, cls):
    return [e for e in effects if isinstance(e, cls)]


@pytest.fixture
def state():
    s = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    for name in NAMES:
        s.entries[name] = ModelEntry(name, group="g")
    return s


@pytest.fixture
def ready(state):
    """A state with ae_small_relu loaded and a player that works."""
    send(state, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(state, ev.ModelReady(info_of("ae_small_relu")))
    report(state, ev.PlayerOpened(True, "", "null"))
    return state


def decoded(state, audio=None, point=None):
    audio = np.zeros(2048, np.float32) if audio is None else audio
    return report(state, ev.Decoded(state.model.name, point or state.point, audio, 1.5))


class Fav:
    def __init__(self, path, model, point, recall=True):
        self.path, self.model, self.point = Path(path), model, point
        self.recall = {"model": model} if recall else None
        self.reason = None if recall else "sidecar damaged"


# ------------------------------------------------------------------ the model list


def zoo(trained=("ae_small_relu", "gan"), reasons=None, metrics=None):
    return ZooListed(
        tuple(
            ModelEntry(n, group="g", trained=n in trained, reason="" if n in trained else (reasons or {}).get(n, "not trained"))
            for n in NAMES
        ),
        metrics or {},
    )


def test_zoo_loads_the_first_trained_model_and_preloads_the_rest(state):
    effects = report(state, zoo())
    loads = of_type(effects, fx.LoadModel)
    assert loads[0] == fx.LoadModel("ae_small_relu")
    assert fx.LoadModel("gan", background=True) in loads
    assert state.wanted == "ae_small_relu"
    assert state.entries["ae_small_relu"].state == LOADING
    assert state.entries["vae_a"].state == UNAVAILABLE


def test_zoo_prefers_the_remembered_model(state):
    state.wanted = "gan"
    report(state, zoo())
    assert state.wanted == "gan"


def test_zoo_without_trained_models_says_how_to_train(state):
    report(state, zoo(trained=()))
    assert "no trained models in zoo" in state.message
    assert state.wanted is None


def test_untrained_model_is_listed_as_not_trained(state):
    report(state, zoo())
    entry = state.entries["vae_a"]
    assert entry.state == UNAVAILABLE and entry.label == "not trained"
    effects = send(state, k.MODELS, **{k.MODELS: ["vae_a"]})
    assert not of_type(effects, fx.LoadModel)
    assert "vae_a is unavailable: not trained" in state.message


def test_model_with_a_damaged_file_is_listed_with_the_reason(state):
    report(state, zoo(reasons={"vae_a": "zoo/vae_a/decoder.keras: damaged (not a zip)"}))
    entry = state.entries["vae_a"]
    # the zoo folder is taken off the path: the list column is narrow
    assert entry.label == "unavailable: vae_a/decoder.keras: damaged (not a zip)"
    send(state, k.MODELS, **{k.MODELS: ["vae_a"]})
    assert "vae_a is unavailable: vae_a/decoder.keras: damaged" in state.message


def test_selecting_a_group_row_does_nothing(state):
    assert send(state, k.MODELS, **{k.MODELS: ["group:Dense AE, small"]}) == []


def test_model_ready_goes_to_the_centre_decodes_and_opens_the_player(state):
    send(state, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    effects = report(state, ev.ModelReady(info_of("ae_small_relu")))
    assert state.model.name == "ae_small_relu"
    assert state.point == (0.25, -0.5)
    assert fx.Decode("ae_small_relu", (0.25, -0.5)) in effects
    assert fx.MakePlayer(22050, None) in effects
    assert [e.panel for e in of_type(effects, fx.Render)] == ["map"]
    assert state.entries["ae_small_relu"].state == READY


def test_background_model_ready_does_not_switch(ready):
    effects = report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert ready.model.name == "ae_small_relu"
    assert ready.entries["gan"].state == READY
    assert not of_type(effects, fx.Decode)


def test_damaged_model_becomes_unavailable_with_the_reason(ready):
    send(ready, k.MODELS, **{k.MODELS: ["vae_a"]})
    report(ready, ev.ModelFailed("vae_a", "zoo/vae_a/decoder.keras: not a Keras file"))
    assert ready.entries["vae_a"].state == UNAVAILABLE
    assert ready.entries["vae_a"].label == "unavailable: vae_a/decoder.keras: not a Keras file"
    assert ready.wanted == "ae_small_relu" and ready.model.name == "ae_small_relu"
    assert "vae_a is unavailable: vae_a/decoder.keras" in status_text(ready)


def test_gan_map_is_a_heat_map(ready):
    send(ready, k.MODELS, **{k.MODELS: ["gan"]})
    effects = report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert ready.map.mode == "brightness"
    assert fx.Heatmap("gan", "brightness", RANGE, 22050) in effects
    # meanwhile the map is this model's, saying what it waits for (not the last model's)
    waiting = of_type(effects, fx.Render)[0].request
    assert waiting.title == "gan: computing the brightness heat-map…" and waiting.heat is None
    grid = np.ones((4, 4))
    effects = report(ready, ev.HeatmapReady("gan", "brightness", grid))
    render = of_type(effects, fx.Render)[0]
    assert render.panel == "map" and render.request.heat is grid


def test_choosing_codes_for_the_gan_keeps_the_heat_map(ready):
    send(ready, k.MODELS, **{k.MODELS: ["gan"]})
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    send(ready, k.MAP_MODE, **{k.MAP_MODE: "codes: training samples by family"})
    assert ready.map.mode == "brightness"
    assert "no encoder" in ready.message


def test_heat_map_switch_computes_once_then_draws_from_cache(ready):
    effects = send(ready, k.MAP_MODE, **{k.MAP_MODE: "loudness heat-map"})
    assert fx.Heatmap("ae_small_relu", "loudness", RANGE, 22050) in effects and fx.Refresh("map_mode") in effects
    report(ready, ev.HeatmapReady("ae_small_relu", "loudness", np.zeros((3, 3))))
    send(ready, k.MAP_MODE, **{k.MAP_MODE: "codes: training samples by family"})
    effects = send(ready, k.MAP_MODE, **{k.MAP_MODE: "loudness heat-map"})
    assert not of_type(effects, fx.Heatmap) and of_type(effects, fx.Render)


def test_discontinuity_waits_for_the_evaluation_package(ready):
    send(ready, k.MAP_MODE, **{k.MAP_MODE: "discontinuity heat-map (local)"})
    assert ready.map.mode == "codes" and "evaluation" in ready.message
    report(ready, ev.FeaturesFound(("brightness", "decay", "loudness", "discontinuity")))
    effects = send(ready, k.MAP_MODE, **{k.MAP_MODE: "discontinuity heat-map (local)"})
    assert fx.Heatmap("ae_small_relu", "discontinuity", RANGE, 22050) in effects


# ------------------------------------------------------------------ the point


def test_drag_moves_the_point_clamped_and_asks_for_a_decode(ready):
    effects = send(ready, k.PAD, (5.0, -0.5))
    assert ready.point == (2.0, -0.5)
    assert fx.Decode("ae_small_relu", (2.0, -0.5)) in effects
    assert fx.Refresh("marker") in effects


def test_click_outside_the_graph_is_ignored(ready):
    assert send(ready, k.PAD, (None, None)) == []


def test_arrow_keys_nudge_by_two_percent_of_the_range(ready):
    send(ready, (k.KEY, "Right"))
    assert ready.point == pytest.approx((0.25 + 0.08, -0.5))
    send(ready, (k.KEY, "Down"))
    assert ready.point == pytest.approx((0.33, -0.58))


def test_typed_point_moves_and_bad_text_is_explained(ready):
    send(ready, k.GO, **{k.X: "1", k.Y: "-1.5"})
    assert ready.point == (1.0, -1.5)
    effects = send(ready, k.GO, **{k.X: "one", k.Y: "2"})
    assert ready.point == (1.0, -1.5)
    assert "X and Y must be numbers" in ready.message and fx.Refresh("status") in effects


def test_random_stays_in_range_and_reset_returns_to_the_centre(ready):
    for _ in range(20):
        send(ready, k.RANDOM)
        assert -2 <= ready.point[0] <= 2 and -2 <= ready.point[1] <= 2
    send(ready, k.RESET)
    assert ready.point == (0.25, -0.5)


def test_decoded_sound_is_kept_and_drawn(ready):
    audio = np.ones(2048, np.float32)
    effects = decoded(ready, audio)
    assert ready.sound.audio is audio and ready.decode_ms == 1.5
    assert of_type(effects, fx.Render)[0].request.audio is audio
    assert "decode 1.5 ms" in status_text(ready)


def test_resized_output_panel_is_painted_again(ready):
    assert send(ready, (k.PANEL, "resized"), "output") == []  # nothing decoded yet
    audio = np.ones(2048, np.float32)
    decoded(ready, audio)
    effects = send(ready, (k.PANEL, "resized"), "output")
    assert [e.panel for e in effects] == ["output"] and effects[0].request.audio is audio


def test_decode_of_another_model_is_ignored(ready):
    assert report(ready, ev.Decoded("gan", (0, 0), np.zeros(4), 1.0)) == []
    assert ready.sound.audio is None


# ------------------------------------------------------------------ sound


def test_play_before_the_sound_is_decoded_plays_when_it_is(ready):
    assert send(ready, k.PLAY) == []
    assert ready.sound.play_when_decoded
    effects = decoded(ready)
    assert of_type(effects, fx.Play) and not ready.sound.play_when_decoded


def test_space_plays_the_current_sound(ready):
    decoded(ready)
    effects = send(ready, (k.KEY, "space"))
    assert of_type(effects, fx.Play)[0].loop is False


def test_loop_on_swaps_live_while_moving_and_off_stops(ready):
    decoded(ready)
    effects = send(ready, (k.KEY, "l"))
    assert ready.sound.looping and of_type(effects, fx.Play)[0].loop is True
    send(ready, k.PAD, (1.0, 1.0))
    new = np.full(2048, 0.5, np.float32)
    effects = decoded(ready, new)
    swaps = of_type(effects, fx.Swap)
    assert len(swaps) == 1 and swaps[0].audio is new
    effects = send(ready, k.LOOP)
    assert not ready.sound.looping and fx.Stop() in effects


def test_escape_stops(ready):
    decoded(ready)
    send(ready, k.LOOP)
    effects = send(ready, (k.KEY, "Escape"))
    assert fx.Stop() in effects and not ready.sound.looping


def test_no_sound_device_says_why_and_saving_still_works(ready):
    report(ready, ev.PlayerOpened(False, "no sound output device (x)"))
    decoded(ready)
    effects = send(ready, k.PLAY)
    assert not of_type(effects, fx.Play)
    assert status_text(ready).startswith("no sound device: no sound output device (x)")
    assert of_type(send(ready, (k.KEY, "s")), fx.Save)


def test_volume_slider_sets_the_volume(ready):
    assert send(ready, k.VOLUME, **{k.VOLUME: 25}) == [fx.SetVolume(0.25)]


def test_choosing_a_device_reopens_the_player(ready):
    effects = send(ready, k.DEVICE, **{k.DEVICE: "3: test speakers"})
    assert fx.MakePlayer(22050, "3") in effects and ready.player.device == "3"


# ------------------------------------------------------------------ favourites


def test_save_writes_the_current_sound_with_its_point(ready):
    audio = np.ones(2048, np.float32)
    decoded(ready, audio)
    effects = send(ready, k.SAVE)
    save = of_type(effects, fx.Save)[0]
    assert save.model == "ae_small_relu" and save.points == ((0.25, -0.5),)
    assert save.sounds[0] is audio


def test_save_with_no_model_says_so(state):
    assert not of_type(send(state, k.SAVE), fx.Save)
    assert "nothing to save" in state.message


def test_s_right_after_a_click_saves_the_clicked_point_once_decoded(ready):
    decoded(ready)
    send(ready, k.PAD, (1.25, 0.75))
    assert not of_type(send(ready, (k.KEY, "s")), fx.Save)  # the old point's sound: not that
    saves = of_type(decoded(ready, point=(1.25, 0.75)), fx.Save)
    assert [s.points for s in saves] == [((1.25, 0.75),)]
    assert not of_type(decoded(ready, point=(1.25, 0.75)), fx.Save)  # once


def test_saved_refreshes_the_favourites(ready):
    effects = report(ready, ev.Saved((Path("favs/ae_small_relu_x+0.25_y-0.50_001.wav"),)))
    assert fx.ListFavourites() in effects
    assert "ae_small_relu_x+0.25_y-0.50_001.wav" in ready.message


def test_reopen_a_favourite_of_another_model_loads_it_at_the_point(ready):
    ready.entries["gan"].state = READY
    fav = Fav("favs/gan_x+0.50_y+0.50_001.wav", "gan", [0.5, 0.5])
    report(ready, ev.FavouritesListed((fav,)))
    effects = send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(fav)]})
    assert fx.LoadModel("gan") in effects
    assert ready.pending_point == (0.5, 0.5)
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert ready.model.name == "gan" and ready.point == (0.5, 0.5)
    assert ready.sound.play_when_decoded


def test_reopen_a_favourite_of_the_current_model_moves_the_point(ready):
    fav = Fav("favs/a.wav", "ae_small_relu", [1.0, 1.0])
    report(ready, ev.FavouritesListed((fav,)))
    effects = send(ready, k.FAVOURITES, **{k.FAVOURITES: [favourite_label(fav)]})
    assert ready.point == (1.0, 1.0) and fx.Decode("ae_small_relu", (1.0, 1.0)) in effects


def test_reopen_a_favourite_whose_sidecar_is_damaged_says_why(ready):
    fav = Fav("favs/b.wav", None, None, recall=False)
    report(ready, ev.FavouritesListed((fav,)))
    assert send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(fav)]}) == [fx.Refresh("status")]
    assert "b.wav: sidecar damaged" in ready.message


def test_reopen_a_favourite_of_an_unavailable_model_says_why(ready):
    ready.entries["vae_a"].state, ready.entries["vae_a"].reason = UNAVAILABLE, "damaged"
    fav = Fav("favs/c.wav", "vae_a", [0, 0])
    report(ready, ev.FavouritesListed((fav,)))
    send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(fav)]})
    assert "vae_a is unavailable: damaged" in ready.message and ready.model.name == "ae_small_relu"


# ------------------------------------------------------------------ open a sample


def test_open_a_sample_asks_for_a_file_then_encodes_it(ready):
    assert send(ready, k.OPEN) == [fx.AskFile("open-sample")]
    effects = send(ready, (k.FILE, "open-sample"), "/x/snare.wav")
    assert fx.Encode("ae_small_relu", "/x/snare.wav") in effects
    assert send(ready, (k.FILE, "open-sample")) == []  # dialog cancelled


def test_open_a_sample_with_the_gan_explains_there_is_no_encoder(ready):
    send(ready, k.MODELS, **{k.MODELS: ["gan"]})
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert send(ready, k.OPEN) == [fx.Refresh("status")]
    assert "gan has no encoder" in ready.message


def test_encoded_sample_moves_the_point_and_plays_both(ready):
    recon, original = np.ones(2048, np.float32), np.full(2048, 0.5, np.float32)
    effects = report(ready, ev.Encoded("ae_small_relu", "/x/snare.wav", (1.0, 9.0), original=original, reconstruction=recon))
    assert ready.point == (1.0, 2.0) and ready.sound.audio is recon and ready.sound.original is original
    play = of_type(effects, fx.Play)[0]
    assert len(play.audio) == 2 * 2048 + round(0.25 * 22050)
    assert of_type(effects, fx.Render)[0].request.original is original


def test_encode_failure_is_shown(ready):
    report(ready, ev.JobFailed("snare.wav", "snare.wav: not an audio file (no RIFF header)"))
    assert "snare.wav: not an audio file" in status_text(ready)


# ------------------------------------------------------------------ map clicks


def test_click_on_a_sample_auditions_it_with_its_original(ready):
    effects = send(ready, (k.MAP, "click"), {"point": (0.0, 0.0), "sample": 3})
    codes = ready.model.codes
    assert ready.point == pytest.approx(tuple(codes.points[3]))
    audition = of_type(effects, fx.Audition)[0]
    assert audition.original_path == str(Path("/nonexistent/data") / "0003.wav")
    effects = report(ready, ev.Auditioned(np.ones(100, np.float32), None, "/nonexistent/data/0003.wav is not on this machine"))
    assert len(of_type(effects, fx.Play)[0].audio) == 100
    assert "not on this machine" in ready.message


def test_click_between_samples_moves_the_point(ready):
    effects = send(ready, (k.MAP, "click"), {"point": (1.0, -1.0), "sample": None})
    assert ready.point == (1.0, -1.0) and not of_type(effects, fx.Audition)


# ------------------------------------------------------------------ compare and morph


def test_compare_needs_a_choice_and_takes_at_most_four(ready):
    assert not of_type(send(ready, k.COMPARE, **{k.COMPARE_LIST: []}), fx.Compare)
    effects = send(ready, k.COMPARE, **{k.COMPARE_LIST: list("abcde")})
    assert not of_type(effects, fx.Compare)  # not a silent choice of four
    assert "5 models are chosen: choose at most 4" in ready.message
    effects = send(ready, k.COMPARE, **{k.COMPARE_LIST: list("abcd")})
    assert of_type(effects, fx.Compare)[0].names == tuple("abcd")


def test_the_map_is_codes_again_after_leaving_the_gan_and_its_hint_follows(ready):
    from gui.handlers import map_hint

    assert "click a dot to hear it" in map_hint(ready)
    ready.entries["gan"].state = READY
    send(ready, k.MODELS, **{k.MODELS: ["gan"]})
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert ready.map.mode == "brightness" and "dot" not in map_hint(ready)
    send(ready, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    effects = report(ready, ev.ModelReady(info_of("ae_small_relu")))
    assert ready.map.mode == "codes" and fx.Refresh("map_mode") in effects
    # a heat-map the user chose stays chosen
    send(ready, k.MAP_MODE, **{k.MAP_MODE: "decay-time heat-map"})
    send(ready, k.MODELS, **{k.MODELS: ["gan"]})
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    send(ready, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(ready, ev.ModelReady(info_of("ae_small_relu")))
    assert ready.map.mode == "decay"


def test_compared_sounds_are_drawn_and_played_in_turn(ready):
    a, b = np.ones(100, np.float32), np.ones(200, np.float32)
    effects = report(
        ready,
        ev.Compared(
            (ev.CompareResult("ae_small_relu", a), ev.CompareResult("vae_a", None, "damaged"), ev.CompareResult("gan", b)),
            point=(0.0, 0.0),
            sample_rate=1000,
        ),
    )
    assert len(of_type(effects, fx.Play)[0].audio) == 100 + 250 + 200
    assert of_type(effects, fx.Render)[0].request.labels == ["ae_small_relu", "vae_a: damaged", "gan"]
    assert "vae_a: damaged" in ready.message


def test_a_compared_point_outside_a_models_range_says_so_and_what_played(ready):
    a = np.ones(100, np.float32)
    report(
        ready,
        ev.Compared(
            (ev.CompareResult("ae_small_relu", a), ev.CompareResult("vae_a", a, played=(1.076, 0.2))),
            point=(1.491, 0.2),
            sample_rate=1000,
        ),
    )
    assert ready.compare.labels == [
        "ae_small_relu",
        "vae_a: (1.491, 0.200) is outside its range\nplayed the nearest point in it, (1.076, 0.200)",
    ]
    assert ready.message.endswith("outside the range of vae_a: the nearest point in range played")


def test_the_compare_worker_plays_a_point_outside_a_models_range_at_its_edge(tmp_path):
    from test_gui_kits_history import run_job

    (record,) = run_job(tmp_path, fx.Compare(("ae_small_relu", "vae_a"), (3.0, -0.5), 22050))
    (inside,) = run_job(tmp_path, fx.Compare(("vae_a",), (2.0, -0.5), 22050))
    assert [r.played for r in record.results] == [(2.0, -0.5), (2.0, -0.5)]  # the fakes' range ends at 2
    np.testing.assert_array_equal(record.results[1].audio, inside.results[0].audio)
    assert inside.results[0].played is None


def test_morph_needs_a_and_b_and_clamps_steps(ready):
    assert not of_type(send(ready, k.MORPH, **{k.STEPS: 4}), fx.Morph)
    send(ready, k.SET_A)
    send(ready, k.PAD, (1.0, 1.0))
    send(ready, k.SET_B)
    effects = send(ready, k.MORPH, **{k.STEPS: 99})
    assert of_type(effects, fx.Morph)[0] == fx.Morph("ae_small_relu", (0.25, -0.5), (1.0, 1.0), 32)


def test_morphed_sounds_play_in_sequence_and_save_with_their_points(ready):
    sounds = [np.ones(10, np.float32)] * 3
    points = [(0, 0), (0.5, 0.5), (1, 1)]
    effects = report(ready, ev.Morphed("ae_small_relu", tuple(points), tuple(sounds)))
    assert of_type(effects, fx.Play)
    save = of_type(send(ready, k.MORPH_SAVE), fx.Save)[0]
    assert save.points == tuple(points) and len(save.sounds) == 3


# ------------------------------------------------------------------ text and helpers


def test_status_text_names_device_times_and_loading(ready):
    ready.entries["vae_a"].state = LOADING
    ready.redraw_ms, ready.draw_ms = 40.0, 2.0
    decoded(ready)
    text = status_text(ready)
    assert "sound: null" in text and "decode 1.5 ms" in text
    assert "redraw 40 ms (GUI 2 ms)" in text and "loading vae_a" in text


def test_card_table_shows_parameters_data_epochs_losses_and_metrics():
    import dataclasses

    info = dataclasses.replace(
        info_of("ae_small_relu"),
        metrics={"recon_stft": 1.25, "recon_snr_db": -0.5, "decode_ms": 0.3, "ndb_k": None},
        metrics_date="2026-11-24T10:00:00+00:00",
    )
    lines = card_table(info).splitlines()

    def row(start):
        return next(line.split() for line in lines if line.strip().startswith(start))

    assert row("parameters") == ["parameters", "1,234"]
    assert row("training") == ["training", "2", "epochs"]
    assert row("data folder")[-1] == "/nonexistent/data"
    assert row("total loss, held out")[-1] == "0.3"
    assert "Evaluation (held-out sounds, 2026-11-24 10:00)" in lines
    # the glossary's words, each value with its unit once, and which way is better
    assert row("rebuild error (MR-STFT)")[-4:] == ["1.25", "lower", "is", "better"]
    assert row("rebuild signal-to-noise") == ["rebuild", "signal-to-noise", "-0.5", "dB", "higher", "is", "better"]
    assert row("decode time")[-5:] == ["0.3", "ms", "lower", "is", "better"]
    assert row("NDB/K")[-4:] == ["-", "lower", "is", "better"]


def test_card_table_names_the_epoch_whose_losses_and_weights_early_stopping_kept():
    import dataclasses

    info = info_of("ae_small_relu")
    assert "Final losses (of the last epoch, lower is better)" in card_table(info).splitlines()
    training = {**info.card.training, "kept_epoch": 7, "stopped": "early stopping after epoch 9 (no loss improvement)"}
    kept = dataclasses.replace(info, card=dataclasses.replace(info.card, training=training))
    assert "Losses of epoch 7, whose weights these are (lower is better)" in card_table(kept).splitlines()


def test_a_card_that_fails_the_schema_makes_the_model_unavailable_with_the_reason():
    from models.card import CardError
    from models.engine import Runtime

    # a model carries only a card that passed: one that fails stops the model being made,
    # and the loader's error is the reason the window shows
    card = FakeModel("ae_small_relu").card.to_dict()
    with pytest.raises(CardError, match="sample_rate must be a whole number of Hz"):
        Runtime("ae_small_relu", {**card, "sample_rate": "fast"}, lambda points, variation=None: points)


def test_sequence_audio_puts_gaps_between_sounds_and_skips_missing():
    out = sequence_audio([np.ones(3), None, np.ones(2)], 10, gap_seconds=0.2)
    assert out.tolist() == [1, 1, 1, 0, 0, 1, 1]
    assert sequence_audio([None], 10) is None


def test_clamp_keeps_points_inside_the_range():
    assert clamp((5, -5), (-1, 1, -2, 2)) == (1.0, -2.0)


def test_window_close_stores_settings_and_stops():
    assert types(handle(AppState(), None, None)) == [fx.StoreSettings, fx.Stop, fx.Close]


def test_play_without_a_device_does_not_repeat_the_reason(ready):
    report(ready, ev.PlayerOpened(False, "no sound output device (x)"))
    decoded(ready)
    send(ready, k.PLAY)
    assert status_text(ready).count("no sound output device (x)") == 1
    assert "Save still works" in status_text(ready)


# ------------------------------------------------------------------ what a first user hit


def test_first_launch_opens_the_best_model_by_the_evaluation_and_says_why(state):
    metrics = {"ae_small_relu": {"recon_stft": 1.41, "frechet": 110.0}, "gan": {"recon_stft": None, "frechet": 76.0}}
    effects = report(
        state, zoo(trained=("ae_small_relu", "gan", "vae_a"), metrics={**metrics, "vae_a": {"recon_stft": 1.17, "frechet": 70.0}})
    )
    assert state.wanted == "vae_a" and of_type(effects, fx.LoadModel)[0] == fx.LoadModel("vae_a")
    # the report's rule (evaluation.ranking.choose_best): first in both of its measures
    assert (
        state.message
        == state.why_model
        == ("opened vae_a: the best mean rank of 3 evaluated models (1.0 over 2 measures, 1 is best; MR-STFT 1.170, Fréchet 70.0)")
    )


def test_one_deciding_measure_is_named_in_the_reason(state):
    report(
        state,
        zoo(
            trained=("ae_small_relu", "gan", "vae_a"),
            metrics={"ae_small_relu": {"recon_stft": 1.41}, "gan": {"recon_stft": None}, "vae_a": {"recon_stft": 1.17}},
        ),
    )
    assert state.wanted == "vae_a"
    assert state.why_model == ("opened vae_a: the lowest reconstruction error of 2 evaluated models (MR-STFT 1.170, lower is better)")


def test_remembered_model_wins_over_the_evaluation(state):
    state.wanted = "gan"
    report(state, zoo(metrics={"ae_small_relu": {"recon_stft": 1.0}}))
    assert state.wanted == "gan" and state.why_model == ""


def test_best_model_falls_back_to_frechet_then_to_the_list_order():
    from evaluation.ranking import choose_best

    assert choose_best({"gan": {"recon_stft": None, "frechet": 70.0}, "x": {"frechet": 80.0}}).name == "gan"
    assert choose_best({"a": None, "b": {}}) is None
    # a model added later wins on its metrics alone
    assert choose_best({"vae_a": {"recon_stft": 1.17}, "ddsp_vae": {"recon_stft": 0.9}}).name == "ddsp_vae"


def test_the_lists_echo_of_a_reopened_model_keeps_the_pending_point(ready):
    ready.entries["gan"].state = READY  # preloaded in the background
    fav = Fav("favs/gan_x+0.50_y+0.50_001.wav", "gan", [0.5, 0.5])
    report(ready, ev.FavouritesListed((fav,)))
    send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(fav)]})
    assert send(ready, k.MODELS, **{k.MODELS: ["gan"]}) == []  # the tree's own selection
    report(ready, ev.ModelReady(info_of("gan", kind="gan")))
    assert ready.model.name == "gan" and ready.point == (0.5, 0.5)


def test_the_remembered_point_survives_the_lists_echo_at_start(state):
    state.wanted, state.pending_point = "ae_small_relu", (1.5, -1.25)
    send(state, k.MODELS, **{k.MODELS: ["ae_small_relu"]})  # the tree shows the remembered model
    report(state, zoo())
    report(state, ev.ModelReady(info_of("ae_small_relu")))
    assert state.point == (1.5, -1.25)


def test_the_end_of_a_drag_moves_the_point_there(ready):
    effects = send(ready, k.PAD_UP, **{k.PAD: (0.625, -0.375)})
    assert ready.point == (0.625, -0.375)
    assert fx.StoreSettings() in effects and fx.Decode("ae_small_relu", (0.625, -0.375)) in effects


def test_the_sound_line_says_playing_looping_or_stopped_and_what(ready):
    from gui.handlers import playing_text

    decoded(ready)
    play_ = of_type(send(ready, (k.KEY, "space")), fx.Play)[0]
    assert playing_text(ready) == "▶ playing ae_small_relu at (0.250, -0.500)"
    send(ready, (k.PLAYER, "ended"), play_.token - 1)  # an older sound's end: still playing
    assert ready.sound.playing == "playing"
    assert fx.Refresh("playing") in send(ready, (k.PLAYER, "ended"), play_.token)
    assert playing_text(ready) == "■ stopped"
    send(ready, (k.KEY, "l"))
    send(ready, k.PAD, (1.0, 1.0))
    decoded(ready)
    assert playing_text(ready) == "⟳ looping ae_small_relu at (1.000, 1.000)"
    send(ready, (k.KEY, "Escape"))
    assert playing_text(ready) == "■ stopped"


def test_a_long_status_is_cut_with_an_ellipsis_to_fit():
    from gui.status_line import shorten

    def measure(text):
        return 7 * len(text)

    assert shorten("short", 100, measure) == "short"
    cut = shorten("saved " + ", ".join(f"morph_{i:03d}.wav" for i in range(8)), 140, measure)
    assert cut.endswith("…") and measure(cut) <= 140 and cut.startswith("saved morph_000")


def test_every_worker_record_has_its_handler_and_effects_carry_what_workers_need(ready):
    import dataclasses
    import inspect

    from gui.handlers import WORKER_EVENTS

    records = {
        cls for _, cls in inspect.getmembers(ev, inspect.isclass) if dataclasses.is_dataclass(cls) and cls is not ev.CompareResult
    }
    assert records == set(WORKER_EVENTS)
    ready.entries["gan"].state = READY
    compare = of_type(send(ready, k.COMPARE, **{k.COMPARE_LIST: ["gan"]}), fx.Compare)[0]
    assert compare.sample_rate == ready.model.sample_rate
    heatmap = of_type(send(ready, k.MAP_MODE, **{k.MAP_MODE: "decay-time heat-map"}), fx.Heatmap)[0]
    assert heatmap.latent_range == ready.model.latent_range


def test_an_old_message_does_not_linger_after_the_next_move(ready):
    report(ready, ev.Saved((Path("favs/a.wav"),)))
    assert ready.message.startswith("saved a.wav")
    assert fx.Refresh("status") in send(ready, k.PAD, (0.5, 0.5))
    assert ready.message == ""


def test_made_here_asks_for_the_classified_grid_once_and_draws_it_under_the_codes(ready):
    from gui.features import MADE

    effects = send(ready, k.MAP_MODE, **{k.MAP_MODE: "made here: the family heard"})
    assert ready.map.mode == MADE
    [job] = of_type(effects, fx.Heatmap)
    assert (job.name, job.feature, job.family) == ("ae_small_relu", MADE, None)
    assert ready.message.startswith("listening to what ae_small_relu makes")
    grid = np.full((16, 16), "hat")
    effects = report(ready, ev.HeatmapReady("ae_small_relu", MADE, grid))
    [render] = of_type(effects, fx.Render)
    assert render.request.made is grid and render.request.codes is not None
    assert "dots: training labels" in render.request.title and ready.message == ""
    # kept: going back to it later draws it again without a new job
    send(ready, k.MAP_MODE, **{k.MAP_MODE: "codes: training samples by family"})
    effects = send(ready, k.MAP_MODE, **{k.MAP_MODE: "made here: the family heard"})
    assert not of_type(effects, fx.Heatmap) and of_type(effects, fx.Render)[0].request.made is grid


def test_nearest_distances_say_their_units():
    from gui.handlers.nearest import distance_text

    assert distance_text("codes", 0.12345) == "0.123 x, y"
    assert distance_text("sound", 1.8) == "1.800 SD"


def test_a_nearest_row_whose_file_is_not_here_plays_its_codes_decode(ready):
    from evaluation.nearest import NearSound

    codes = ready.model.codes
    near = NearSound(str(codes.names[3]), "", str(codes.families[3]), str(codes.files[3]), 0.2)
    ready.nearest = ev.NearestFound("ae_small_relu", ready.point, (near,), (), "", "no dataset")
    [read] = of_type(send(ready, k.NEAREST_PLAY, [0]), fx.ReadOriginal)
    assert read.code == tuple(float(v) for v in codes.points[3])
    audio = np.ones(64, np.float32)
    effects = report(ready, ev.OriginalRead(near.file, audio, "/x/0003.wav is not on this machine", decoded=True))
    assert of_type(effects, fx.Play)
    assert ready.message == "/x/0003.wav is not on this machine: playing ae_small_relu's decode of its code"
