"""The window's history, Vary, nearest-sounds and kit-export parts, without a window."""

import numpy as np
import pytest
from test_gui_handlers import NAMES, Fav, decoded, info_of, of_type, report, send

from evaluation.nearest import NearSound
from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.handlers import favourite_label, handle, nearest_note, nearest_rows
from gui.state import AppState, ModelEntry


@pytest.fixture
def state():
    s = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    for name in NAMES:
        s.entries[name] = ModelEntry(name, group="g")
    return s


@pytest.fixture
def ready(state):
    """ae_small_relu loaded, a player that works (as in test_gui_handlers)."""
    send(state, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(state, ev.ModelReady(info_of("ae_small_relu")))
    report(state, ev.PlayerOpened(True, "", "null"))
    return state


def test_back_and_forward_walk_the_points_of_the_model(ready):
    start = ready.point
    send(ready, k.PAD, (0.5, 0.5))
    send(ready, k.PAD_UP, (0.5, 0.5))
    send(ready, k.RANDOM)
    randomised = ready.point
    send(ready, k.BACK)
    assert ready.point == (0.5, 0.5)
    handle(ready, (k.KEY, "Alt-Left"), {})
    assert ready.point == start
    effects = handle(ready, (k.KEY, "Alt-Left"), {})
    assert ready.point == start and "no earlier point" in ready.message
    assert not of_type(effects, fx.Decode)
    handle(ready, (k.KEY, "Alt-Right"), {})
    send(ready, k.FORWARD)
    assert ready.point == randomised


def test_a_drag_is_one_step_at_its_end(ready):
    start = ready.point
    for x in (0.1, 0.2, 0.3, 0.4):
        send(ready, k.PAD, (x, 0.0))
    send(ready, k.PAD_UP, (0.4, 0.0))
    assert ready.history.of("ae_small_relu").points == [start, (0.4, 0.0)]
    send(ready, k.BACK)
    assert ready.point == start


def test_reopening_a_favourite_is_a_step(ready):
    start = ready.point
    ready.favourites = [Fav("favs/ae_small_relu_1.wav", "ae_small_relu", (1.0, 1.0))]
    send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(ready.favourites[0])]})
    assert ready.point == (1.0, 1.0)
    send(ready, k.BACK)
    assert ready.point == start


def test_vary_off_plays_the_sound_itself(ready):
    decoded(ready)
    effects = send(ready, k.PLAY)
    assert of_type(effects, fx.Play) and not of_type(effects, fx.DecodeVariation)


def test_vary_on_each_play_asks_for_a_new_variation(ready):
    decoded(ready)
    send(ready, k.VARY, **{k.VARY: 1.0})
    first = of_type(send(ready, k.PLAY), fx.DecodeVariation)[0]
    second = of_type(send(ready, k.PLAY), fx.DecodeVariation)[0]
    assert first.amount == 1.0 and second.repetition == first.repetition + 1
    assert first.seed == second.seed
    effects = report(ready, ev.VariationDecoded("ae_small_relu", ready.point, second.repetition, np.ones(100, np.float32)))
    assert of_type(effects, fx.Play)[0].loop is False
    assert "variation 2" in ready.sound.what


def test_while_looping_each_repetition_fetches_the_next_variation(ready):
    decoded(ready)
    send(ready, k.VARY, **{k.VARY: 2.0})
    request = of_type(send(ready, k.LOOP), fx.DecodeVariation)[0]
    effects = report(ready, ev.VariationDecoded("ae_small_relu", ready.point, request.repetition, np.ones(2205, np.float32)))
    assert of_type(effects, fx.Play)[0].loop
    nxt = of_type(effects, fx.DecodeVariation)[0]  # the next repetition's, asked at once
    assert nxt.repetition == request.repetition + 1 and not of_type(effects, fx.Later)
    first = ready.sound.heard
    effects = report(
        ready,
        ev.VariationDecoded("ae_small_relu", ready.point, nxt.repetition, np.full(2205, 0.5, np.float32), {"index": nxt.repetition}),
    )
    (swap,) = of_type(effects, fx.Swap)
    assert swap.immediate is False and swap.tag
    assert ready.sound.heard is first  # S keeps the one sounding until the loop comes round
    effects = report(ready, ev.SwapSettled(swap.tag, True))
    assert ready.sound.heard.audio[0] == 0.5 and ready.sound.next_heard is None
    assert of_type(effects, fx.DecodeVariation)[0].repetition == nxt.repetition + 1
    assert f"variation {nxt.repetition}" in ready.sound.what
    assert report(ready, ev.SwapSettled(swap.tag, True)) == []  # told twice: nothing more


def test_a_varied_swap_that_never_sounds_asks_again_and_an_older_one_is_ignored(ready):
    decoded(ready)
    send(ready, k.VARY, **{k.VARY: 1.0})
    request = of_type(send(ready, k.LOOP), fx.DecodeVariation)[0]
    nxt = of_type(
        report(ready, ev.VariationDecoded("ae_small_relu", ready.point, request.repetition, np.ones(2205, np.float32))),
        fx.DecodeVariation,
    )[0]
    first = ready.sound.heard
    older = of_type(
        report(ready, ev.VariationDecoded("ae_small_relu", ready.point, nxt.repetition, np.ones(2205, np.float32))), fx.Swap
    )[0]
    newer = of_type(
        report(ready, ev.VariationDecoded("ae_small_relu", ready.point, nxt.repetition + 1, np.ones(2205, np.float32))), fx.Swap
    )[0]
    assert report(ready, ev.SwapSettled(older.tag, False)) == []  # overtaken by the newer one
    effects = report(ready, ev.SwapSettled(newer.tag, False))  # an immediate swap took its place
    assert ready.sound.heard is first and of_type(effects, fx.DecodeVariation)
    send(ready, k.STOP)
    again = of_type(
        report(ready, ev.VariationDecoded("ae_small_relu", ready.point, nxt.repetition + 2, np.ones(2205, np.float32))), fx.Swap
    )
    assert again == []  # stopped: no swap, no chain


def test_a_negative_or_unreadable_vary_amount_is_ignored(ready):
    for value in (-1, "x", float("nan")):
        assert send(ready, k.VARY, **{k.VARY: value}) == []
    assert ready.vary.amount == 0


def test_save_with_variations_asks_for_n(ready):
    effects = send(ready, k.SAVE_VARIATIONS, **{k.VARY_COUNT: 5})
    (saving,) = of_type(effects, fx.SaveVariations)
    assert saving.count == 5 and saving.point == ready.point and saving.name == "ae_small_relu"
    send(ready, k.SAVE_VARIATIONS, **{k.VARY_COUNT: "many"})
    assert "whole number" in ready.message


def test_save_with_variations_needs_a_model(state):
    send(state, k.SAVE_VARIATIONS, **{k.VARY_COUNT: 3})
    assert "nothing to save" in state.message


NEAR = NearSound("Snare 3", "Audiophob", "snare", "Audiophob__Snare__3.wav", 0.25)


def test_each_decoded_point_asks_for_its_nearest_sounds(ready):
    effects = decoded(ready)
    assert of_type(effects, fx.Nearest) == [fx.Nearest("ae_small_relu", ready.point, "/nonexistent/data")]


def test_the_nearest_panel_shows_both_measures_or_why_not(ready):
    found = ev.NearestFound("ae_small_relu", ready.point, (NEAR,), (), features_reason="the dataset /x is not on this machine")
    assert report(ready, found) == [fx.Refresh("nearest")]
    assert nearest_rows(ready.nearest) == [("codes", NEAR)]
    assert "sound features: the dataset /x is not on this machine" in nearest_note(ready.nearest)
    assert report(ready, ev.NearestFound("gan", (0, 0))) == []  # another model's: dropped


def test_a_double_click_on_a_row_reads_its_original_or_says_why_not(ready):
    report(ready, ev.NearestFound("ae_small_relu", ready.point, (NEAR,), (NEAR,)))
    effects = send(ready, k.NEAREST_PLAY, **{k.NEAREST: [1]})
    assert of_type(effects, fx.ReadOriginal) == [fx.ReadOriginal("ae_small_relu", NEAR.file, "/nonexistent/data")]
    report(ready, ev.OriginalRead(NEAR.file, None, "the dataset /d is not on this machine"))
    assert ready.message == "cannot play the original: the dataset /d is not on this machine"
    effects = report(ready, ev.OriginalRead(NEAR.file, np.ones(10, np.float32)))
    assert of_type(effects, fx.Play)
    send(ready, k.NEAREST_PLAY, **{k.NEAREST: []})
    assert "choose a row" in ready.message


def test_export_kit_needs_chosen_favourites(ready):
    send(ready, k.EXPORT_KIT, **{k.FAVOURITES: []})
    assert "choose favourites" in ready.message


@pytest.fixture
def exporting(ready):
    ready.favourites = [Fav(f"favs/vae_a_{i}.wav", "vae_a", (0.1 * i, 0)) for i in range(3)]
    labels = [favourite_label(f) for f in ready.favourites[:2]]
    assert send(ready, k.EXPORT_KIT, **{k.FAVOURITES: labels}) == [fx.AskSaveFile("export-kit")]
    return ready


def test_export_kit_writes_the_chosen_favourites_to_the_chosen_file(exporting):
    event = (k.FILE, "export-kit")
    effects = handle(exporting, event, {event: "/tmp/My Kit"})
    (export,) = of_type(effects, fx.ExportKit)
    assert export.path == "/tmp/My Kit.h2drumkit" and not export.overwrite
    assert export.sources == ("favs/vae_a_0.wav", "favs/vae_a_1.wav")
    report(exporting, ev.KitProgress(1, 2))
    assert exporting.kit.progress == (1, 2) and "1 of 2" in exporting.message
    report(exporting, ev.KitExported("/tmp/My Kit.h2drumkit", 2))
    assert exporting.kit.progress is None and "2 instruments" in exporting.message
    exporting.message = "an older message"
    effects = handle(exporting, event, {event: None})  # the dialog was cancelled
    assert not of_type(effects, fx.ExportKit) and exporting.message == ""


def test_an_existing_kit_is_replaced_only_when_the_user_says_yes(exporting):
    effects = report(exporting, ev.KitExists("/tmp/k.h2drumkit", exporting.kit.sources))
    (ask,) = of_type(effects, fx.AskConfirm)
    event = (k.CONFIRM, ask.purpose)
    assert not of_type(handle(exporting, event, {event: False}), fx.ExportKit)
    assert "left as it was" in exporting.message
    report(exporting, ev.KitExists("/tmp/k.h2drumkit", exporting.kit.sources))
    (export,) = of_type(handle(exporting, event, {event: True}), fx.ExportKit)
    assert export.overwrite and export.path == "/tmp/k.h2drumkit"


def test_a_kit_and_its_song_are_named_apart_while_asked_and_after_no(exporting):
    effects = report(exporting, ev.KitExists("/tmp/k.h2drumkit", exporting.kit.sources, ("k.h2drumkit", "k.h2song")))
    (ask,) = of_type(effects, fx.AskConfirm)
    assert effects.index(fx.Refresh(fx.Part.STATUS)) < effects.index(ask)  # said before the question opens
    assert ask.question == "k.h2drumkit and k.h2song exist already. Replace both?"
    assert "exporting" not in exporting.message and "k.h2song" in exporting.message
    event = (k.CONFIRM, ask.purpose)
    handle(exporting, event, {event: False})
    assert exporting.message == "kit not exported: k.h2drumkit and k.h2song are left as they were"
    (ask,) = of_type(report(exporting, ev.KitExists("/tmp/k.h2drumkit", (), ("k.h2song",))), fx.AskConfirm)
    assert ask.question == "k.h2song (the beat, written beside the kit) exists already. Replace it?"


# ---------------------------------------------------------------------------- the workers' jobs


def run_job(tmp_path, effect):
    """Carry out one worker effect with the fakes, as the window does; the records it posted."""
    import queue

    from gui.workers import Workers
    from gui_fakes import FakeBackend

    posted = queue.Queue()
    workers = Workers(FakeBackend(), posted.put, str(tmp_path / "zoo"), str(tmp_path / "favs"))
    try:
        workers.jobs()[type(effect)](effect)
        return [posted.get(timeout=20)]
    finally:
        workers.stop()


def test_the_dataset_features_say_why_they_are_missing(tmp_path):
    from gui_fakes import FakeBackend

    backend = FakeBackend()
    assert backend.training_features(None) == (None, "the model card names no dataset")
    assert backend.training_features(str(tmp_path / "gone"))[1].endswith("is not on this machine")
    (tmp_path / "wavs").mkdir()
    training, reason = backend.training_features(str(tmp_path / "wavs"))
    assert training is None and reason.startswith("the dataset cannot be read: ")


def test_exporting_to_an_existing_kit_writes_nothing_and_asks(tmp_path):
    kit = tmp_path / "k.h2drumkit"
    kit.write_bytes(b"the user's kit")
    (record,) = run_job(tmp_path, fx.ExportKit(("a.wav",), str(kit)))
    assert record == ev.KitExists(str(kit), ("a.wav",), ("k.h2drumkit",))
    assert kit.read_bytes() == b"the user's kit"


def test_exporting_favourites_that_are_gone_says_so(tmp_path):
    (tmp_path / "favs").mkdir()
    kit = tmp_path / "k.h2drumkit"
    (record,) = run_job(tmp_path, fx.ExportKit((str(tmp_path / "favs" / "gone.wav"),), str(kit)))
    assert record == ev.JobFailed("kit", "none of the chosen favourites can go in a kit")
    assert not kit.exists()


def test_reading_an_original_that_is_not_in_the_dataset_says_so(tmp_path):
    (tmp_path / "data").mkdir()
    (record,) = run_job(tmp_path, fx.ReadOriginal("ae_small_relu", "0001.wav", str(tmp_path / "data")))
    assert record.audio is None and record.reason == f"0001.wav is not in {tmp_path / 'data'}"


def test_a_click_on_the_pad_plays_once_decoded_unless_audition_is_off(ready):
    send(ready, k.PAD, (0.5, 0.5))
    assert of_type(decoded(ready, np.ones(64, np.float32)), fx.Play)
    send(ready, k.AUDITION, **{k.AUDITION: False})
    send(ready, k.PAD, (0.7, 0.5))
    assert not of_type(decoded(ready, np.ones(64, np.float32)), fx.Play)


def test_s_keeps_the_variation_heard_and_records_it(ready):
    decoded(ready)
    send(ready, k.VARY, **{k.VARY: 1.0})
    request = of_type(send(ready, k.PLAY), fx.DecodeVariation)[0]
    variation = {"index": request.repetition, "seed": request.seed, "offset": [0.01, 0.0]}
    sound = np.ones(100, np.float32)
    report(ready, ev.VariationDecoded("ae_small_relu", ready.point, request.repetition, sound, variation))
    save = of_type(send(ready, k.SAVE), fx.Save)[0]
    assert save.sounds[0] is sound and save.settings["variation"] == variation


def test_reopening_a_variation_decodes_that_variation_and_plays_it_as_is(ready):
    variation = {"index": 2, "seed": 5, "offset": [0.02, -0.01]}
    favourite = Fav("favs/ae_small_relu_v2.wav", "ae_small_relu", (1.0, 1.0))
    favourite.recall = {"model": "ae_small_relu", "settings": {"variation": variation}, "level": "normalised"}
    ready.favourites = [favourite]
    send(ready, k.VARY, **{k.VARY: 1.0})
    send(ready, k.REOPEN, **{k.FAVOURITES: [favourite_label(favourite)]})
    assert ready.sound.level == "normalised"
    plain = decoded(ready, np.ones(64, np.float32))  # the point's own sound: not the favourite
    assert of_type(plain, fx.Decode)[0].variation == variation and not of_type(plain, fx.Play)
    sound = np.full(64, 0.1, np.float32)
    effects = report(ready, ev.Decoded("ae_small_relu", (1.0, 1.0), sound, 1.0, variation))
    assert of_type(effects, fx.Play) and not of_type(effects, fx.DecodeVariation)
