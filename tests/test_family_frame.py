"""A family's frame (models.family_frame): ddsp_cvae's whole code as the pad's point and
the offsets along its family's other main axes, through FamilyPads, the NumPy runtime and
the real ``generate --at`` (exit status, one line, files left as they were)."""

import numpy as np
import pytest

from constants import FAMILY_PAD_SCALE
from models.errors import ModelInputError
from models.family_frame import FRAME_REACH
from models.family_pads import FamilyPads
from tests.test_family_pads import PAD, ZOO, hashes, run_app, samples, wide_codes


@pytest.fixture
def rng():
    return np.random.default_rng(35)


@pytest.fixture(scope="module")
def ddsp_cvae():
    from models.engine import load_runtime

    return load_runtime("ddsp_cvae", ZOO)


def test_a_frame_vector_is_the_pad_point_and_offsets_along_the_other_axes_in_pad_units(rng):
    pads = FamilyPads.fit("wide", wide_codes(rng), PAD)
    pad = pads.axes("snare")
    vector = np.array([[1.5, -3.0, 3.0, 0.0, -1.5, 0.0]])
    latent = pads.from_frame(vector, "snare")
    # the pad's half-width (3) is `scale` standard deviations along every axis
    along = [0.5, -1.0, 1.0, 0.0, -0.5, 0.0]  # each number over the half-width
    expected = pad.mean + FAMILY_PAD_SCALE * sum(a * s * e for a, s, e in zip(along, pad.sigmas, pad.axes))
    assert np.allclose(latent[0], expected, atol=1e-12)
    low, high, centre = pads.frame_bounds()
    assert np.array_equal(low, [-3, -3] + [-3 * FRAME_REACH] * 4) and np.array_equal(high, -low)
    assert np.array_equal(centre, np.zeros(6))


def test_to_frame_and_from_frame_undo_each_other_on_every_family_and_a_mix(rng):
    codes = wide_codes(rng)
    pads = FamilyPads.fit("wide", codes, PAD)
    for family in ("kick", "cymbal", "kick:0.6,tom:0.4"):
        frame = pads.to_frame(codes.points, family)
        assert frame.shape == (len(codes.points), 6)
        assert np.allclose(pads.from_frame(frame, family), codes.points, atol=1e-9)
        assert np.allclose(pads.to_frame(pads.from_frame(frame, family), family), frame, atol=1e-9)
        # the frame's first two axes are where the family's pad shows the code
        assert np.array_equal(frame[:, :2], pads.to_pad(codes.points, family))
        assert np.allclose(pads.places(codes, family, axes=(3, 1)), frame[:, [3, 1]])
    # the family's mean is the frame's centre
    assert np.allclose(pads.to_frame(pads.axes("hat").mean, "hat"), 0.0, atol=1e-9)


def test_a_pad_point_maps_as_the_pads_formula_says_and_its_frame_vector_at_0_maps_to_the_same_bits(rng):
    pads = FamilyPads.fit("wide", wide_codes(rng), PAD)
    points = np.array([[0.5, -1.2], [3.0, 3.0], [-2.9, 0.1]], np.float32)
    pad = pads.axes("tom")
    normalised = points.astype(np.float64) / 3.0  # the pad (-3, 3) on both axes
    formula = pad.mean + FAMILY_PAD_SCALE * (normalised * pad.sigmas[:2]) @ pad.axes[:2]
    assert pads.to_latent(points, "tom").tobytes() == formula.astype(np.float32).tobytes()
    frame = np.zeros((3, 6), np.float32)
    frame[:, :2] = points
    assert pads.to_latent(frame, "tom").tobytes() == pads.to_latent(points, "tom").tobytes()
    frame[:, 3] = 1.0
    assert not np.allclose(pads.to_latent(frame, "tom"), pads.to_latent(points, "tom"))


def test_the_shipped_ddsp_cvae_has_a_16_axis_frame_whose_centre_plays_its_pad_points_bytes(ddsp_cvae):
    assert ddsp_cvae.family_frame and ddsp_cvae.latent_dim == 16 and ddsp_cvae.pad_axes == (0, 1)
    assert list(ddsp_cvae.low[:2]) == [-3, -3] and list(ddsp_cvae.high[2:]) == [6.0] * 14
    points = np.array([[0.5, -1.2], [2.9, 2.9], [-3.0, 0.1]], np.float32)
    frame = ddsp_cvae.full_vectors(points)
    assert frame.shape == (3, 16) and not frame[:, 2:].any()
    for family in ("snare", "kick:0.6,tom:0.4"):
        for variation in (None, 3):  # a variation's draws land on the same place either way
            pad = ddsp_cvae.decode(points, variation=variation, family=family)
            assert ddsp_cvae.decode(frame, variation=variation, family=family).tobytes() == pad.tobytes()
    moved = frame.copy()
    moved[:, 4] = 3.0
    plain = ddsp_cvae.decode(moved, family="snare")
    assert np.max(np.abs(plain - ddsp_cvae.decode(points, family="snare"))) > 1e-3
    # a variation draws on top of the offsets: new sounds, the same ones each time
    varied = ddsp_cvae.decode(moved, variation=3, family="snare")
    assert np.max(np.abs(varied - plain)) > 1e-3
    assert varied.tobytes() == ddsp_cvae.decode(moved, variation=3, family="snare").tobytes()


def test_a_vector_of_another_width_or_a_model_without_a_frame_is_refused(ddsp_cvae):
    from models.engine import load_runtime

    with pytest.raises(ModelInputError, match=r"\(N, 2\) or \(N, 16\)"):
        ddsp_cvae.decode(np.zeros((1, 5), np.float32), family="snare")
    vae = load_runtime("vae_a", ZOO)
    assert not vae.family_frame and vae.latent_dim == 2
    with pytest.raises(ModelInputError, match="no axes beyond"):
        vae.full_vectors([[0.0, 0.0]])


def at_text(values):
    return ",".join(f"{v:g}" for v in values)


def test_generate_plays_a_whole_frame_vector_and_its_centre_plays_the_pad_point(tmp_path):
    centre = [0.5, -1.2] + [0.0] * 14
    moved = [0.5, -1.2, 0.0, 3.0] + [0.0] * 12
    for name, at in (("pad.wav", "0.5,-1.2"), ("centre.wav", at_text(centre)), ("moved.wav", at_text(moved))):
        made = run_app("generate", "ddsp_cvae", "--at", at, "--family", "snare", "-o", tmp_path / name)
        assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith(f"{tmp_path / 'moved.wav'}  (ddsp_cvae at {at_text(moved)}, snare; peak ")
    assert samples(tmp_path / "centre.wav").tobytes() == samples(tmp_path / "pad.wav").tobytes()
    assert np.max(np.abs(samples(tmp_path / "moved.wav") - samples(tmp_path / "pad.wav"))) > 1e-3


@pytest.mark.parametrize(
    "model, at, reason",
    [
        (
            "ddsp_cvae",
            "1,2,3",
            "--at '1,2,3': ddsp_cvae takes X,Y (its pad) or 16 numbers (the pad and its family's other 14 axes), not 3",
        ),
        ("vae_a", "1,2,3", "--at '1,2,3': a point is two numbers X,Y (e.g. --at 0.5,-1.2)"),
    ],
)
def test_a_vector_of_the_wrong_size_exits_2_in_one_line_and_writes_nothing(tmp_path, model, at, reason):
    (tmp_path / "keep.wav").write_bytes(b"RIFF mine")
    before = hashes(tmp_path), hashes(ZOO / model)
    result = run_app("generate", model, "--at", at, "--family", "snare", "-o", tmp_path / "out.wav")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"app.py generate: {reason}"]
    assert result.stdout == ""
    assert (hashes(tmp_path), hashes(ZOO / model)) == before


def test_the_windows_handlers_keep_the_frame_vector_across_families_and_place_the_dots_in_the_familys_frame(ddsp_cvae):
    from gui import events as ev
    from gui import keys as k
    from gui.backend import PackageBackend
    from gui.family import shown_code_points
    from gui.handlers import handle
    from gui.state import AppState, ModelEntry
    from gui.wide import is_wide, slider_axes

    info = PackageBackend().describe(ddsp_cvae)
    assert is_wide(info) and info.family_frame and info.takes_family and slider_axes(info) == tuple(range(2, 10))
    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries["ddsp_cvae"] = ModelEntry("ddsp_cvae", group="g", trained=True)
    handle(state, k.MODELS, {k.MODELS: ["ddsp_cvae"]})
    handle(state, k.WORKER, {k.WORKER: ev.ModelReady(info)})
    assert state.vector == (0.0,) * 16
    handle(state, k.FAMILY_BUTTONS["snare"], {})
    handle(state, (k.AXIS, 1), {(k.AXIS, 1): 2.5})  # slider 1 is axis 3
    moved = state.vector
    assert moved[3] == 2.5 and state.history.of("ddsp_cvae").current == moved
    handle(state, k.FAMILY_BUTTONS["kick"], {})
    assert state.vector == moved and state.family.text() == "kick"
    pads, codes = ddsp_cvae.family_pads, ddsp_cvae.codes
    assert np.array_equal(shown_code_points(state), pads.to_pad(codes.full, "kick"))
    # other pad axes: the dots are the kick's sounds on those axes of its frame, the vector kept
    handle(state, k.PAD_X_AXIS, {k.PAD_X_AXIS: "axis 3", k.PAD_Y_AXIS: "axis 1"})
    assert state.model.pad_axes == (3, 1) and state.vector == moved and state.point == (2.5, moved[1])
    assert np.allclose(shown_code_points(state), pads.to_frame(codes.full, "kick")[:, [3, 1]])
    assert state.model.codes is codes  # not the raw code's columns
    # a dot goes to its sound's whole code in the kick's frame (clamped to the sliders' ranges)
    handle(state, (k.MAP, "click"), {(k.MAP, "click"): {"point": (0.0, 0.0), "sample": 5}})
    low, high, _ = pads.frame_bounds()
    assert np.allclose(state.vector, np.clip(pads.to_frame(codes.full[5], "kick")[0], low, high), atol=1e-9)


def test_a_sample_opened_in_the_window_lands_at_its_whole_code_in_the_frame_of_the_family_it_is_most_like(ddsp_cvae, tmp_path):
    import soundfile as sf

    from gui import effects as fx
    from gui.backend import PackageBackend
    from gui.model_jobs import ModelJobs

    class Now:  # the models thread, run at once
        def submit(self, job, **_):
            job()

    class Cache:
        def get(self, name):
            return ddsp_cvae

    from drums import kick

    sf.write(tmp_path / "mine.wav", kick(seed=4, seconds=0.5), 44100, subtype="FLOAT")
    posted = []
    jobs = ModelJobs(PackageBackend(), posted.append, Cache(), Now(), "zoo", "favs")
    jobs.encode(fx.Encode("ddsp_cvae", str(tmp_path / "mine.wav"), "hat"))  # the window on the hat
    (encoded,) = posted
    assert encoded.name == "ddsp_cvae" and len(encoded.point) == 16
    code = ddsp_cvae.encode_code(PackageBackend().prepare_file(str(tmp_path / "mine.wav"), ddsp_cvae)[None, :])
    likeliest = ddsp_cvae.family_pads.likeliest(code)[0]
    assert encoded.family == likeliest != "hat"
    frame = ddsp_cvae.family_pads.to_frame(code, likeliest)[0]
    assert np.allclose(encoded.point, np.clip(frame, ddsp_cvae.low, ddsp_cvae.high)) and np.any(np.abs(frame[2:]) > 0.05)
    # in its own family's frame it is far less clamped than in the hat's
    hat = ddsp_cvae.family_pads.to_frame(code, "hat")[0]
    beyond = [float(np.abs(f - np.clip(f, ddsp_cvae.low, ddsp_cvae.high)).sum()) for f in (frame, hat)]
    assert beyond[0] < 0.25 * beyond[1], beyond
    assert encoded.reconstruction.tobytes() == ddsp_cvae.decode(np.asarray([encoded.point], np.float32), family=likeliest)[0].tobytes()

    # the window, on the hat, shows that family: its button, its pad and map, the sound's family
    from gui import events as ev
    from gui import keys as k
    from gui.family import decode_family
    from gui.handlers import handle
    from gui.state import AppState, ModelEntry

    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries["ddsp_cvae"] = ModelEntry("ddsp_cvae", group="g", trained=True)
    handle(state, k.MODELS, {k.MODELS: ["ddsp_cvae"]})
    handle(state, k.WORKER, {k.WORKER: ev.ModelReady(PackageBackend().describe(ddsp_cvae))})
    handle(state, k.FAMILY_BUTTONS["hat"], {})
    effects = handle(state, k.WORKER, {k.WORKER: encoded})
    assert decode_family(state) == likeliest and state.sound.family == likeliest
    assert state.vector == pytest.approx(encoded.point)
    assert state.sound.audio is encoded.reconstruction
    assert any(isinstance(effect, fx.Refresh) and effect.part == fx.Part.FAMILY for effect in effects or [])


@pytest.mark.parametrize("name", ["ddsp_cvae", "ddsp_vae"])
def test_compare_plays_the_current_model_as_its_pad_plays_it_with_its_family(name):
    # ddsp_cvae on the snare with a slider moved, ddsp_vae on the snare's pad: the current
    # model's row is what is heard on the pad; another model plays the point as before
    from gui import events as ev
    from gui import keys as k
    from gui.backend import PackageBackend
    from gui.handlers import handle
    from gui.handlers.sequences import compare
    from gui.model_jobs import ModelJobs
    from gui.state import AppState, ModelEntry
    from models.engine import load_runtime

    models = {n: load_runtime(n, ZOO) for n in (name, "vae_a")}

    class Now:  # the models thread, run at once
        def submit(self, job, **_):
            job()

    class Cache:
        def get(self, wanted):
            return models[wanted]

    model = models[name]
    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries[name] = ModelEntry(name, group="g", trained=True)
    handle(state, k.MODELS, {k.MODELS: [name]})
    handle(state, k.WORKER, {k.WORKER: ev.ModelReady(PackageBackend().describe(model))})
    handle(state, k.FAMILY_BUTTONS["snare"], {})
    handle(state, k.PAD, {k.PAD: (0.75, -0.5)})
    if name == "ddsp_cvae":
        handle(state, (k.AXIS, 1), {(k.AXIS, 1): 2.5})
    (effect, _) = compare(state, [name, "vae_a"])
    assert effect.family == (name, "snare")
    posted = []
    ModelJobs(PackageBackend(), posted.append, Cache(), Now(), "zoo", "favs").compare(effect)
    (compared,) = posted
    heard = model.decode(np.asarray([state.vector if name == "ddsp_cvae" else state.point], np.float32), family="snare")[0]
    assert np.array_equal(compared.results[0].audio, heard)
    other = models["vae_a"].decode(np.asarray([state.point], np.float32))[0]  # no family: vae_a takes none
    if models["vae_a"].sample_rate != effect.sample_rate:  # heard at the current model's rate
        other = PackageBackend().resample(other, models["vae_a"].sample_rate, effect.sample_rate)
    assert compared.results[1].reason == "" and np.array_equal(compared.results[1].audio, other)


@pytest.mark.parametrize("name", ["ddsp_vae", "ddsp_cvae"])
def test_the_nearest_sounds_are_those_of_the_sound_heard_on_its_family(name, monkeypatch):
    # ddsp_vae on the snare's pad, ddsp_cvae on the snare with a slider moved: the sound
    # compared by ear is the one heard (its family), and on the pad the codes where the map
    # draws them (the snare's pad), not the plain pad's
    from types import SimpleNamespace

    import evaluation.nearest
    from gui import effects as fx
    from gui.nearest_jobs import NearestSounds
    from models.engine import load_runtime

    model = load_runtime(name, ZOO)
    point = (0.75, -0.5)
    vector = None if name == "ddsp_vae" else point + (0.0, 2.5) + (0.0,) * 12
    axes = None if vector is None else (0, 1)
    heard = []

    def by_ear(training, audio, sample_rate, count=5):
        heard.append(audio)
        return []

    monkeypatch.setattr(evaluation.nearest, "nearest_in_features", by_ear)
    backend = SimpleNamespace(training_features=lambda folder: (SimpleNamespace(files=[], kits=[]), ""))
    found = []
    worker = NearestSounds(backend, found.append, SimpleNamespace(peek=lambda wanted: model))
    try:
        worker._nearest(None, fx.Nearest(name, point, "data", axes=axes, vector=vector, family="snare"))
    finally:
        worker.thread.stop()  # its thread ends: a gui- thread left running is a leak test_gui_window finds
    (result,) = found
    assert np.array_equal(heard[0], model.decode(np.asarray([vector or point], np.float32), family="snare")[0])
    placed = model.family_pads.places(model.codes, "snare")
    order = np.argsort(np.hypot(placed[:, 0] - point[0], placed[:, 1] - point[1]), kind="stable")
    assert [near.name for near in result.plane] == [str(model.codes.names[i]) for i in order[: len(result.plane)]]
