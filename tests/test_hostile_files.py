"""A hostile or damaged file makes its one model (or its one favourite,
or the family names) unusable with a one-line reason, and the rest works.

Each test runs the real CLI (``python app.py models``, ``kit``, ``serve``) on a small zoo
copied from the shipped one, with one file damaged: nested 200,000 levels deep, larger
than any card, a synthesiser's settings out of bounds, or unreadable (``chmod 000``).
It checks the exit status, the one line, and that no file of the user's changed.
"""

import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "trained"
#: Small shipped models: two dense autoencoders and ddsp_vae (the one with a synthesiser).
ZOO_MODELS = ("ae_small_relu", "ae_small_tanh", "ddsp_vae")
DEEP = 200_000

needs_zoo = pytest.mark.skipif(
    not all((SHIPPED / name / "card.json").is_file() for name in ZOO_MODELS), reason="the shipped models are not in trained/"
)


# ----------------------------------------------------------------------------- helpers


def run_app(*args, unprivileged=False, timeout=300):
    """Run ``python app.py ARGS`` as the user does; returns (status, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=app_env(),
        preexec_fn=_as_a_user if unprivileged else None,
    )
    return done.returncode, done.stdout, done.stderr


def app_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


def one_line(stderr):
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def hashes(folder):
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
    }


def listing(stdout):
    """``app.py models``'s table as {name: its "trained" cell}."""
    rows = {}
    for line in stdout.splitlines()[1:-1]:
        name, rest = line.split(None, 1)
        rows[name] = rest
    return rows


def deeply_nested(depth=DEEP):
    return "[" * depth + "]" * depth


@pytest.fixture
def zoo(tmp_path):
    """A zoo of copies of three small shipped models and the family classifier."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    for name in ZOO_MODELS:
        shutil.copytree(SHIPPED / name, folder / name)
    shutil.copy2(SHIPPED / "families.json", folder / "families.json")
    return folder


def set_synth_setting(keras_file, key, value):
    """Rewrite the DrumSynth layer's ``key`` in a .keras archive's config.json."""
    with zipfile.ZipFile(keras_file) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(keras_file, "w") as archive:
        for info, data in members:
            if info.filename == "config.json":
                config = json.loads(data)
                for layer in config["config"]["layers"]:
                    if layer.get("registered_name") == "mlsg>DrumSynth":
                        layer["config"][key] = value
                data = json.dumps(config)
            archive.writestr(info, data)


# ----------------------------------------------------------------------------- permissions

# chmod 000 stops no read by root: as root, the CLI runs without the two capabilities that
# bypass file permissions, so it meets the permission checks any other user meets. (Running
# it as "nobody" does not work where the interpreter lives under /root, mode 0700.)
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _as_a_user():
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


@pytest.fixture(scope="module")
def permissions_hold(tmp_path_factory):
    """Skip unless a chmod 000 file really cannot be read by the CLI's process here."""
    folder = tmp_path_factory.mktemp("permissions")
    locked = folder / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"import numpy; open({str(locked)!r}).read()"],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_as_a_user,
        )
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot run a process that file permissions apply to ({error})")
    finally:
        locked.chmod(0o644)
    if done.returncode == 0 or "PermissionError" not in done.stderr:
        pytest.skip("chmod 000 does not stop reads here (root with file capabilities that cannot be dropped)")


class Locks:
    """``locks(path)`` makes ``path`` unreadable (mode 000); ``locks.restore()`` (or the
    test's end) gives every path its mode back."""

    def __init__(self):
        self.changed = []

    def __call__(self, path):
        self.changed.append((path, path.stat().st_mode))
        path.chmod(0)

    def restore(self):
        while self.changed:
            path, mode = self.changed.pop()
            path.chmod(mode)


@pytest.fixture
def locked(zoo):
    locks = Locks()
    yield locks
    locks.restore()


# ----------------------------------------------------------------------------- the server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serving(zoo, *, unprivileged=False):
    """Start ``app.py serve`` on ``zoo``; returns (process, port, /api/models body)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "app.py", "serve", "--port", str(port), "--models", str(zoo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=app_env(),
        start_new_session=True,
        preexec_fn=_as_a_user if unprivileged else None,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=2).read())
            return process, port, body
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                pytest.fail(f"the server did not start:\n{process.stdout.read()}")
            time.sleep(0.3)


def stop(process):
    """Ctrl+C the server (its whole process group, as a terminal does); its output."""
    try:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        return process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def sound(port, name):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models/{name}/sound.wav?x=0.5&y=0.5", timeout=60).read()


def check_serves_the_rest(zoo, unavailable, good, *, unprivileged=False):
    """Serve ``zoo``: ``good`` plays, each of ``unavailable`` (name -> words) is left out and
    said in one line; the server stops cleanly on Ctrl+C."""
    process, port, body = serving(zoo, unprivileged=unprivileged)
    try:
        served = [entry["name"] for entry in body["models"]]
        wav = sound(port, good)
    finally:
        output = stop(process)
    assert good in served and not set(unavailable) & set(served), output
    assert wav[:4] == b"RIFF"
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    for name, words in unavailable.items():
        lines = [line for line in output.splitlines() if line.startswith(f"{name} is unavailable: ")]
        assert len(lines) == 1 and words in lines[0], output


# ----------------------------------------------------------------------------- deep and huge JSON


@needs_zoo
def test_a_deeply_nested_card_makes_that_model_unavailable_and_the_others_are_listed(zoo):
    card = zoo / "ae_small_tanh" / "card.json"
    card.write_text(deeply_nested())
    before = hashes(zoo)
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    assert "Traceback" not in err
    rows = listing(out)
    assert rows["ae_small_tanh"].startswith(f"no: {card}: damaged (nested deeper than 64 levels)")
    assert rows["ae_small_relu"].startswith("yes") and rows["ddsp_vae"].startswith("yes")
    assert out.splitlines()[-1].startswith(f"2 of 16 trained in {zoo}/")
    assert hashes(zoo) == before


@needs_zoo
def test_a_card_larger_than_any_card_is_refused_before_it_is_read(zoo):
    card = zoo / "ae_small_tanh" / "card.json"
    values = json.loads(card.read_text())
    values["notes"] = "x" * (20 * 2**20)  # valid JSON, and a card would pass with it
    card.write_text(json.dumps(values))
    before = hashes(zoo)
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    rows = listing(out)
    size = card.stat().st_size
    assert rows["ae_small_tanh"].startswith(f"no: {card}: damaged (too large ({size:,} bytes; at most 1,048,576))"), rows[
        "ae_small_tanh"
    ]
    assert rows["ae_small_relu"].startswith("yes")
    assert hashes(zoo) == before


@needs_zoo
def test_a_card_claiming_an_hour_long_sound_makes_that_model_unavailable(zoo):
    card = zoo / "ae_small_tanh" / "card.json"
    values = json.loads(card.read_text())
    values["sample_length"] = values["preprocessing"]["length"] = 22050 * 3600
    card.write_text(json.dumps(values))
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    assert listing(out)["ae_small_tanh"].startswith(
        f"no: {card}: sample_length must be a whole number of samples from 1 to 1323000, not 79380000"
    )


@needs_zoo
def test_kit_of_a_model_with_a_deeply_nested_card_says_it_is_unavailable(zoo, tmp_path):
    card = zoo / "ae_small_tanh" / "card.json"
    card.write_text(deeply_nested())
    before = hashes(zoo)
    kit = tmp_path / "Kit.h2drumkit"
    status, out, err = run_app("kit", "ae_small_tanh", "--at", "0,0", "-o", kit, "--models", zoo)
    assert status == 1
    assert one_line(err) == (f"app.py kit: ae_small_tanh is unavailable: {card}: damaged (nested deeper than 64 levels)")
    assert not kit.exists()
    # the other models still make kits from the same zoo
    status, out, err = run_app("kit", "ae_small_relu", "--at", "0,0", "-o", kit, "--models", zoo)
    assert status == 0, err
    assert kit.is_file()
    assert hashes(zoo) == before


@needs_zoo
def test_a_deeply_nested_families_file_leaves_the_kit_unnamed_but_made(zoo, tmp_path):
    families = zoo / "families.json"
    families.write_text('{"a": ' * DEEP + "1" + "}" * DEEP)
    before = hashes(zoo)
    kit = tmp_path / "Kit.h2drumkit"
    status, out, err = run_app("kit", "ae_small_relu", "--at", "0,0", "--at", "1,1", "-o", kit, "--models", zoo)
    assert status == 0, err
    assert "Traceback" not in err
    assert out.strip().startswith(f"{kit}: Hydrogen kit 'Kit', 2 instruments")
    assert out.strip().endswith(f"families unknown, {families}: not a family classifier (nested deeper than 64 levels))")
    assert kit.is_file()
    assert hashes(zoo) == before


@needs_zoo
def test_a_deeply_nested_favourite_sidecar_is_skipped_and_the_others_make_the_kit(zoo, tmp_path):
    from audio.export import FavouritesFolder

    favourites = FavouritesFolder(tmp_path / "favourites")
    audio = (np.random.default_rng(0).standard_normal(16384) * 0.1).astype(np.float32)
    good = favourites.save(audio, 22050, model="ae_small_relu", point=(0.5, 0.5))
    bad = favourites.save(audio, 22050, model="ae_small_relu", point=(0.2, 0.3))
    bad.with_suffix(".json").write_text(deeply_nested())
    before, zoo_before = hashes(tmp_path / "favourites"), hashes(zoo)
    kit = tmp_path / "FavKit"
    status, out, err = run_app("kit", "--favourites", tmp_path / "favourites", "-o", f"{kit}/", "--models", zoo)
    assert status == 0, err
    assert one_line(err) == (
        f"{bad.name}: skipped ({bad.with_suffix('.json').name}: recall data is not usable (nested deeper than 64 levels))"
    )
    assert out.strip().startswith(f"{kit}: kit folder 'FavKit', 1 instruments, 1 samples")
    instruments = json.loads((kit / "kit.json").read_text())["instruments"]
    assert [entry["source"] for entry in instruments] == [good.name]
    assert hashes(tmp_path / "favourites") == before and hashes(zoo) == zoo_before


@needs_zoo
def test_a_deeply_nested_config_inside_a_keras_file_makes_that_model_unavailable(zoo, tmp_path):
    decoder = zoo / "ae_small_tanh" / "decoder.keras"
    with zipfile.ZipFile(decoder) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(decoder, "w") as archive:
        for info, data in members:
            archive.writestr(info, deeply_nested() if info.filename == "config.json" else data)
    before = hashes(zoo)
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    reason = f"{decoder}: damaged (its config.json is nested deeper than 64 levels)"
    assert listing(out)["ae_small_tanh"].startswith(f"no: {reason}")
    status, out, err = run_app("kit", "ae_small_tanh", "--at", "0,0", "-o", tmp_path / "K.h2drumkit", "--models", zoo)
    assert status == 1
    assert one_line(err) == f"app.py kit: ae_small_tanh is unavailable: {reason}"
    assert hashes(zoo) == before


@needs_zoo
def test_the_server_starts_without_the_model_whose_card_is_deeply_nested(zoo):
    card = zoo / "ae_small_tanh" / "card.json"
    card.write_text(deeply_nested())
    (zoo / "families.json").write_text(deeply_nested())
    before = hashes(zoo)
    check_serves_the_rest(zoo, {"ae_small_tanh": f"{card}: damaged (nested deeper than 64 levels)"}, "ae_small_relu")
    assert hashes(zoo) == before


# ----------------------------------------------------------------------------- ddsp_vae's settings


@needs_zoo
@pytest.mark.parametrize(
    "key, value, words",
    [
        ("sample_rate", 0, "the synthesiser's sample_rate must be a whole number from 8000 to 192000 (got 0)"),
        ("sample_rate", 44100, "the synthesiser's sample_rate (44100) differs from the card's sample_rate (22050)"),
        ("sample_rate", "fast", "the synthesiser's sample_rate must be a whole number from 8000 to 192000 (got 'fast')"),
        ("length", 2**26, "the synthesiser's length must be a whole number from 256 to 661500 (got 67108864)"),
        ("length", 16385, "the synthesiser's length must be an even whole number from 256 to 661500 (got 16385)"),
        ("length", 8192, "the synthesiser's length (8192) differs from the card's sample_length (16384)"),
        ("attack", -5, "the synthesiser's attack must be a whole number from 1 to 16383 (got -5)"),
        ("seed", 1.5, "the synthesiser's seed must be a whole number from 0 to 9223372036854775807 (got 1.5)"),
        ("n_modes", 10**9, "the synthesiser's n_modes must be a whole number from 1 to 96 (got 1000000000)"),
        ("n_bands", 0, "the synthesiser's n_bands must be a whole number from 1 to 64 (got 0)"),
    ],
)
def test_synthesiser_settings_out_of_bounds_make_ddsp_vae_unavailable_naming_the_field(zoo, key, value, words):
    decoder = zoo / "ddsp_vae" / "decoder.keras"
    set_synth_setting(decoder, key, value)
    before = hashes(zoo)
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    rows = listing(out)
    assert rows["ddsp_vae"].startswith(f"no: {decoder}: damaged ({words})"), rows["ddsp_vae"]
    assert rows["ae_small_relu"].startswith("yes")
    assert hashes(zoo) == before


@needs_zoo
@pytest.mark.parametrize(
    "key, value, words",
    [
        ("sample_rate", 0, "sample_rate must be a whole number from 8000 to 192000 (got 0)"),
        ("length", 2**26, "length must be a whole number from 256 to 661500 (got 67108864)"),
    ],
)
def test_kit_of_ddsp_vae_with_settings_out_of_bounds_is_refused_before_building(zoo, tmp_path, key, value, words):
    decoder = zoo / "ddsp_vae" / "decoder.keras"
    set_synth_setting(decoder, key, value)
    before = hashes(zoo)
    kit = tmp_path / "Kit.h2drumkit"
    status, out, err = run_app("kit", "ddsp_vae", "--at", "0,0", "-o", kit, "--models", zoo, timeout=60)
    assert status == 1
    assert one_line(err) == (f"app.py kit: ddsp_vae is unavailable: {decoder}: damaged (the synthesiser's {words})")
    assert not kit.exists()
    assert hashes(zoo) == before


@needs_zoo
def test_the_server_starts_without_ddsp_vae_when_its_synthesiser_is_out_of_bounds(zoo):
    decoder = zoo / "ddsp_vae" / "decoder.keras"
    set_synth_setting(decoder, "length", 2**26)
    before = hashes(zoo)
    check_serves_the_rest(zoo, {"ddsp_vae": "the synthesiser's length must be a whole number from 256 to 661500"}, "ae_small_relu")
    assert hashes(zoo) == before


@needs_zoo
def test_the_log_mel_settings_of_ddsp_vaes_encoder_are_checked_too(zoo):
    encoder = zoo / "ddsp_vae" / "encoder.keras"
    with zipfile.ZipFile(encoder) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(encoder, "w") as archive:
        for info, data in members:
            if info.filename == "config.json":
                config = json.loads(data)
                for layer in config["config"]["layers"]:
                    if layer.get("registered_name") == "mlsg>LogMel":
                        layer["config"]["sample_rate"] = 0
                data = json.dumps(config)
            archive.writestr(info, data)
    status, out, err = run_app("models", "--models", zoo)
    assert status == 0, err
    assert listing(out)["ddsp_vae"].startswith(  # it plays: only encoding needs the encoder
        f"yes, but ddsp_vae cannot encode a sound: {encoder}: damaged "
        "(the log-mel layer's sample_rate must be a whole number from 8000 to 192000 (got 0))"
    )


def test_synth_npz_settings_are_read_within_bounds(tmp_path):
    from models import synth_weights
    from models.synth_settings import SynthSettingsError

    layers = {"dense/0/kernel": np.zeros((2, 4), np.float32), "dense/0/bias": np.zeros(4, np.float32)}
    good = {"seed": 1, "sample_rate": 22050, "length": 2048, "attack": 220}
    path = tmp_path / "synth.npz"
    np.savez(path, config=np.array(json.dumps(good)), **layers)
    assert synth_weights.read_weights(path)[1] == {**good, "n_modes": 48, "n_bands": 32}
    for config, words in [
        (json.dumps({**good, "sample_rate": 0}), "sample_rate must be a whole number from 8000"),
        (deeply_nested(20_000), "nested too deeply"),
        (deeply_nested(), "too large"),
    ]:
        np.savez(path, config=np.array(config), **layers)
        with pytest.raises(SynthSettingsError, match=words):
            synth_weights.read_weights(path)


# ----------------------------------------------------------------------------- unreadable files


@needs_zoo
def test_an_unreadable_model_folder_makes_that_model_unavailable(zoo, locked, permissions_hold):
    before = hashes(zoo)
    locked(zoo / "ae_small_tanh")
    status, out, err = run_app("models", "--models", zoo, unprivileged=True)
    assert status == 0, err
    assert "Traceback" not in err
    rows = listing(out)
    assert rows["ae_small_tanh"].startswith(f"no: {zoo / 'ae_small_tanh'}: cannot read (Permission denied)")
    assert rows["ae_small_relu"].startswith("yes") and rows["ddsp_vae"].startswith("yes")
    assert out.splitlines()[-1].startswith(f"2 of 16 trained in {zoo}/")
    locked.restore()
    assert hashes(zoo) == before


@needs_zoo
@pytest.mark.parametrize("filename", ["card.json", "decoder.keras"])
def test_an_unreadable_model_file_makes_that_model_unavailable(zoo, locked, permissions_hold, tmp_path, filename):
    path = zoo / "ae_small_tanh" / filename
    before = hashes(zoo)
    locked(path)
    status, out, err = run_app("models", "--models", zoo, unprivileged=True)
    assert status == 0, err
    reason = f"{path}: cannot read (Permission denied)"
    assert listing(out)["ae_small_tanh"].startswith(f"no: {reason}")
    assert listing(out)["ae_small_relu"].startswith("yes")
    status, out, err = run_app(
        "kit", "ae_small_tanh", "--at", "0,0", "-o", tmp_path / "K.h2drumkit", "--models", zoo, unprivileged=True
    )
    assert status == 1
    assert one_line(err) == f"app.py kit: ae_small_tanh is unavailable: {reason}"
    assert not (tmp_path / "K.h2drumkit").exists()
    locked.restore()
    assert hashes(zoo) == before


@needs_zoo
@pytest.mark.parametrize(
    "filename, words",
    [
        ("encoder.keras", "ae_small_tanh cannot encode a sound"),
        ("codes.npz", "ae_small_tanh has no training dots, family pads or nearest sounds"),
    ],
)
def test_an_unreadable_encoder_or_codes_file_leaves_the_model_playing(zoo, locked, permissions_hold, tmp_path, filename, words):
    path = zoo / "ae_small_tanh" / filename
    before = hashes(zoo)
    locked(path)
    status, out, err = run_app("models", "--models", zoo, unprivileged=True)
    assert status == 0, err
    assert listing(out)["ae_small_tanh"].startswith(f"yes, but {words}: {path}: cannot read (Permission denied)")
    status, out, err = run_app(
        "generate", "ae_small_tanh", "--at", "0.5,0.5", "-o", tmp_path / "hit.wav", "--models", zoo, unprivileged=True
    )
    assert status == 0, err
    assert (tmp_path / "hit.wav").exists()
    locked.restore()
    assert hashes(zoo) == before


def cut_to_a_third(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


@needs_zoo
def test_a_truncated_encoder_plays_and_encode_says_why_in_one_line(zoo, tmp_path):
    encoder = zoo / "ddsp_vae" / "encoder.keras"
    cut_to_a_third(encoder)
    status, out, err = run_app(
        "generate", "ddsp_vae", "--at", "0.5,0.5", "--family", "kick", "-o", tmp_path / "kick.wav", "--models", zoo
    )
    assert status == 0, err  # its codes are whole: the kick pad still plays
    assert soundfile.read(tmp_path / "kick.wav")[0].std() > 0.001
    sound = tmp_path / "hit.wav"
    soundfile.write(sound, (np.random.default_rng(0).standard_normal(8000) * 0.3).astype(np.float32), 22050)
    status, out, err = run_app("encode", "ddsp_vae", sound, "--models", zoo)
    assert status == 1 and out == ""
    assert one_line(err) == f"app.py encode: ddsp_vae cannot encode a sound: {encoder}: damaged (not a .keras archive)"


@needs_zoo
def test_truncated_codes_play_encode_and_a_family_pad_says_why_in_one_line(zoo, tmp_path):
    codes = zoo / "ddsp_vae" / "codes.npz"
    cut_to_a_third(codes)
    status, out, err = run_app("generate", "ddsp_vae", "--at", "0.5,0.5", "-o", tmp_path / "hit.wav", "--models", zoo)
    assert status == 0, err
    status, out, err = run_app("encode", "ddsp_vae", tmp_path / "hit.wav", "--models", zoo)
    assert status == 0, err
    status, out, err = run_app(
        "generate", "ddsp_vae", "--at", "0.5,0.5", "--family", "kick", "-o", tmp_path / "kick.wav", "--models", zoo
    )
    assert status == 1 and not (tmp_path / "kick.wav").exists()
    assert one_line(err).startswith(
        f"app.py generate: --family: ddsp_vae has no training dots, family pads or nearest sounds: {codes}: damaged"
    )


@needs_zoo
def test_kit_of_a_model_in_an_unreadable_folder_says_it_cannot_be_read(zoo, locked, permissions_hold, tmp_path):
    locked(zoo / "ae_small_tanh")
    status, out, err = run_app(
        "kit", "ae_small_tanh", "--at", "0,0", "-o", tmp_path / "K.h2drumkit", "--models", zoo, unprivileged=True
    )
    assert status == 1
    assert one_line(err).startswith(f"app.py kit: ae_small_tanh is unavailable: {zoo / 'ae_small_tanh'}")
    assert one_line(err).endswith(": cannot read (Permission denied)")


@needs_zoo
def test_an_unreadable_zoo_folder_is_one_line(zoo, locked, permissions_hold):
    locked(zoo)
    status, out, err = run_app("models", "--models", zoo, unprivileged=True)
    assert status == 1
    assert one_line(err) == f"app.py models: {zoo}: cannot read (Permission denied)"
    assert out == ""


@needs_zoo
def test_the_server_starts_without_the_models_it_cannot_read(zoo, locked, permissions_hold):
    before = hashes(zoo)
    locked(zoo / "ae_small_tanh")
    locked(zoo / "ddsp_vae" / "decoder.keras")
    check_serves_the_rest(
        zoo,
        {
            "ae_small_tanh": f"{zoo / 'ae_small_tanh'}: cannot read (Permission denied)",
            "ddsp_vae": f"{zoo / 'ddsp_vae' / 'decoder.keras'}: cannot read (Permission denied)",
        },
        "ae_small_relu",
        unprivileged=True,
    )
    locked.restore()
    assert hashes(zoo) == before


# ----------------------------------------------------------------------------- the window's settings

HUGE_SETTINGS = b'{"volume": "' + b"x" * (2 * 2**20) + b'"}'


@pytest.mark.parametrize(
    "content, reason",
    [
        (deeply_nested().encode(), "nested deeper than 64 levels"),
        (HUGE_SETTINGS, f"too large: {len(HUGE_SETTINGS):,} bytes; at most 1,048,576"),
    ],
)
def test_a_hostile_settings_file_gives_the_defaults_and_one_line(tmp_path, capsys, content, reason):
    from gui.settings import Settings

    path = tmp_path / "settings.json"
    path.write_bytes(content)
    assert Settings(path).read() == {}
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"settings: {path} is damaged ({reason})"), err
    assert path.read_bytes() == content


# ----------------------------------------------------------------------------- a checkpoint's state


@pytest.mark.parametrize(
    "state, words",
    [
        (deeply_nested(20_000), "its state is nested deeper than 64 levels"),
        ("[1, 2]", "its state is not a JSON object"),
    ],
)
def test_a_hostile_checkpoint_state_is_a_damaged_checkpoint(tmp_path, state, words):
    from models.checkpoint import read_checkpoint_state
    from models.errors import TrainingError

    path = tmp_path / "checkpoint.npz"
    np.savez(path, state=np.array(state))
    with pytest.raises(TrainingError, match=rf"damaged checkpoint \({words}\); train without --resume"):
        read_checkpoint_state(path)
