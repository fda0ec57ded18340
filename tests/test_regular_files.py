"""Nothing hangs on a FIFO, and a bad WAV or a strange number is one line (issue 29).

A FIFO (named pipe) where the program expects a file made a plain ``open()`` wait for a
writer for good: ``app.py models`` printed nothing, ``serve`` never started, ``generate``,
``encode`` and ``kit`` of that model hung. These tests run the real CLI on a zoo copied
from the shipped one, with one file replaced by a FIFO, and check that it finishes (a
subprocess timeout is only the safety net), its exit status, the one line naming the
file, and that no user file changed. The same for favourites that are truncated, six
channels wide or ten minutes long, and for ``--at`` numbers Python's float() would take.
"""

import os
import shutil
import socket
import struct
import threading

import numpy as np
import pytest
import soundfile
import test_hostile_files
from test_hostile_files import check_serves_the_rest, hashes, listing, needs_zoo, one_line, run_app

from safeio import NotARegularFile, UnreadableJson, open_regular, read_json

#: Long enough for the slowest command here on a loaded machine; a hang runs into it.
TIMEOUT = 120
FIFO = "a FIFO (named pipe), not a file"


@pytest.fixture
def zoo(tmp_path):
    """As test_hostile_files' zoo: copies of three small shipped models and families.json."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    for name in test_hostile_files.ZOO_MODELS:
        shutil.copytree(test_hostile_files.SHIPPED / name, folder / name)
    shutil.copy2(test_hostile_files.SHIPPED / "families.json", folder / "families.json")
    return folder


def make_fifo(path):
    """Replace ``path`` (if there) with a FIFO that nobody ever writes to."""
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


def run(*args):
    return run_app(*args, timeout=TIMEOUT)


def wav_bytes(data_bytes, promised, channels=1, rate=22050, bits=16):
    """A PCM WAV whose data chunk's header says ``promised`` bytes and holds ``data_bytes``."""
    block = channels * bits // 8
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + promised)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", promised)
    )
    return header + data_bytes


# ----------------------------------------------------------------------------- the helper


def opened_within(path, seconds=30):
    """``open_regular(path)`` in a thread: ("file", first bytes) / ("error", exception), or
    ("hung", None) when it has not returned in ``seconds`` (then a writer unblocks it)."""
    result = []

    def attempt():
        try:
            with open_regular(path) as handle:
                result.append(("file", handle.read(4)))
        except OSError as error:
            result.append(("error", error))

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # an open() blocked on the FIFO: give it a writer, so it ends
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
        return "hung", None
    return result[0]


def test_a_fifo_is_refused_at_once_with_one_line(tmp_path):
    fifo = make_fifo(tmp_path / "card.json")
    kind, error = opened_within(fifo)
    assert kind == "error" and isinstance(error, NotARegularFile), (kind, error)
    assert str(error) == f"{fifo}: {FIFO}"
    assert error.strerror == FIFO


def test_a_regular_file_is_opened_for_binary_reading(tmp_path):
    path = tmp_path / "kick.wav"
    path.write_bytes(b"RIFF and more")
    with open_regular(path) as handle:
        assert handle.read() == b"RIFF and more"
        assert os.get_blocking(handle.fileno())  # O_NONBLOCK is cleared again


def test_a_link_to_a_regular_file_is_followed(tmp_path):
    (tmp_path / "real.json").write_bytes(b"{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    with open_regular(tmp_path / "link.json") as handle:
        assert handle.read() == b"{}"


def test_a_link_to_a_fifo_is_refused(tmp_path):
    make_fifo(tmp_path / "pipe")
    (tmp_path / "link.wav").symlink_to(tmp_path / "pipe")
    kind, error = opened_within(tmp_path / "link.wav")
    assert kind == "error" and str(error) == f"{tmp_path / 'link.wav'}: {FIFO}"


@pytest.mark.parametrize(
    "what, reason", [("folder", "a folder, not a file"), ("device", "a device, not a file"), ("socket", "a socket, not a file")]
)
def test_folders_devices_and_sockets_are_refused_naming_what_they_are(tmp_path, what, reason):
    if what == "folder":
        path = tmp_path / "decoder.keras"
        path.mkdir()
    elif what == "device":
        path = "/dev/null"
    else:
        path = tmp_path / "s.json"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    try:
        with pytest.raises(NotARegularFile) as caught:
            open_regular(path)
    finally:
        if what == "socket":
            server.close()
    assert str(caught.value) == f"{path}: {reason}"


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "nothing.json")


def test_read_json_of_a_fifo_is_unreadable_json_naming_it(tmp_path):
    fifo = make_fifo(tmp_path / "families.json")
    result = []
    thread = threading.Thread(target=lambda: result.append(_read_json_error(fifo)), daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("read_json waited on the FIFO")
    error = result[0]
    assert isinstance(error, UnreadableJson) and error.not_a_file
    assert str(error) == f"{fifo}: {FIFO}"


def _read_json_error(path):
    try:
        read_json(path)
    except UnreadableJson as error:
        return error
    return None


# ----------------------------------------------------------------------------- a FIFO in the zoo


@needs_zoo
@pytest.mark.parametrize("filename", ["card.json", "decoder.keras", "encoder.keras", "codes.npz"])
def test_models_lists_a_model_with_a_fifo_as_unavailable_and_the_others_as_trained(zoo, filename):
    fifo = make_fifo(zoo / "ae_small_tanh" / filename)
    before = hashes(zoo)
    status, out, err = run("models", "--models", zoo)
    assert status == 0, err
    assert "Traceback" not in err
    rows = listing(out)
    # without its encoder or codes it still plays, and says what it cannot do
    said = {
        "encoder.keras": "yes, but ae_small_tanh cannot encode a sound: ",
        "codes.npz": "yes, but ae_small_tanh has no training dots, family pads or nearest sounds: ",
    }.get(filename, "no: ")
    assert rows["ae_small_tanh"].startswith(f"{said}{fifo}: {FIFO}"), rows["ae_small_tanh"]
    assert rows["ae_small_relu"].startswith("yes") and rows["ddsp_vae"].startswith("yes")
    assert hashes(zoo) == before and fifo.is_fifo()


@needs_zoo
@pytest.mark.parametrize("verb", ["generate", "encode", "kit"])
def test_a_verb_on_a_model_whose_decoder_is_a_fifo_says_so_in_one_line(zoo, tmp_path, verb):
    decoder = make_fifo(zoo / "ae_small_tanh" / "decoder.keras")
    sound = tmp_path / "hit.wav"
    soundfile.write(sound, (np.random.default_rng(0).standard_normal(8000) * 0.3).astype(np.float32), 22050)
    args = {
        "generate": ["--at", "0,0", "-o", tmp_path / "out.wav"],
        "encode": [sound],
        "kit": ["--at", "0,0", "-o", tmp_path / "K.h2drumkit"],
    }[verb]
    before, sound_before = hashes(zoo), sound.read_bytes()
    status, out, err = run(verb, "ae_small_tanh", *args, "--models", zoo)
    assert status == 1, err
    assert one_line(err) == f"app.py {verb}: ae_small_tanh is unavailable: {decoder}: {FIFO}"
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "K.h2drumkit").exists()
    assert hashes(zoo) == before and sound.read_bytes() == sound_before


@needs_zoo
def test_encode_of_a_fifo_says_so_in_one_line(zoo, tmp_path):
    fifo = make_fifo(tmp_path / "hit.wav")
    status, out, err = run("encode", "ae_small_relu", fifo, "--models", zoo)
    assert status == 1, err
    assert one_line(err) == f"app.py encode: {fifo}: {FIFO}"
    assert fifo.is_fifo()


@needs_zoo
def test_a_kit_is_made_unnamed_when_families_json_is_a_fifo(zoo, tmp_path):
    families = make_fifo(zoo / "families.json")
    before = hashes(zoo)
    kit = tmp_path / "Kit.h2drumkit"
    status, out, err = run("kit", "ae_small_relu", "--at", "0,0", "-o", kit, "--models", zoo)
    assert status == 0, err
    assert "Traceback" not in err
    assert out.strip().startswith(f"{kit}: Hydrogen kit 'Kit', 1 instruments")
    assert out.strip().endswith(f"families unknown, {families}: {FIFO})")
    assert kit.is_file() and hashes(zoo) == before


@needs_zoo
def test_the_server_starts_without_the_model_whose_card_is_a_fifo(zoo):
    card = make_fifo(zoo / "ae_small_tanh" / "card.json")
    make_fifo(zoo / "families.json")
    make_fifo(zoo / "ae_small_relu" / "metrics.json")
    before = hashes(zoo)
    check_serves_the_rest(zoo, {"ae_small_tanh": f"{card}: {FIFO}"}, "ae_small_relu")
    assert hashes(zoo) == before


# ----------------------------------------------------------------------------- WAVs


@needs_zoo
def test_a_wav_shorter_than_its_header_says_is_truncated_not_too_short(zoo, tmp_path):
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav_bytes(bytes(range(112)), promised=44100))
    assert cut.stat().st_size == 156
    status, out, err = run("encode", "ae_small_relu", cut, "--models", zoo)
    assert status == 1, err
    assert one_line(err) == (f"app.py encode: {cut}: truncated: the header promises 44100 bytes of audio, the file holds 112")
    assert cut.stat().st_size == 156


def bad_favourites(folder, kinds):
    """A favourites folder with one good favourite and one favourite per kind of damage
    (its sidecar kept): {kind: the favourite's WAV path}, and the good one's."""
    from audio.export import FavouritesFolder

    favourites = FavouritesFolder(folder)
    hit = (np.random.default_rng(0).standard_normal(16384) * 0.1).astype(np.float32)
    good = favourites.save(hit, 22050, model="ae_small_relu", point=(0.5, 0.5))
    bad = {kind: favourites.save(hit, 22050, model="ae_small_relu", point=(0.1 * number, 0.0)) for number, kind in enumerate(kinds)}
    for kind, path in bad.items():
        if kind == "fifo":
            make_fifo(path)
        elif kind == "sidecar fifo":
            make_fifo(path.with_suffix(".json"))
        elif kind == "truncated":
            path.write_bytes(wav_bytes(bytes(112), promised=44100))
        elif kind == "six channels":
            soundfile.write(path, np.zeros((4000, 6), np.float32) + 0.1, 22050)
        elif kind == "ten minutes":
            soundfile.write(path, np.full(600 * 8000, 0.1, np.float32), 8000, subtype="PCM_U8")
    return bad, good


def check_kit_of_favourites(zoo, tmp_path, good, lines):
    """``kit --favourites`` makes a kit of ``good`` alone, says ``lines`` (one per bad
    favourite) on stderr, exits 0 and changes no favourite and no zoo file."""
    before, zoo_before = hashes(tmp_path / "favourites"), hashes(zoo)
    kit = tmp_path / "FavKit"
    status, out, err = run("kit", "--favourites", tmp_path / "favourites", "-o", f"{kit}/", "--models", zoo)
    assert status == 0, err
    assert "Traceback" not in err
    assert sorted(err.strip().splitlines()) == sorted(lines), err
    assert out.strip().startswith(f"{kit}: kit folder 'FavKit', 1 instruments, 1 samples")
    assert hashes(tmp_path / "favourites") == before and hashes(zoo) == zoo_before
    assert good.is_file()


@needs_zoo
def test_kit_favourites_skips_a_fifo_wav_or_sidecar_in_one_line_and_keeps_the_rest(zoo, tmp_path):
    bad, good = bad_favourites(tmp_path / "favourites", ["fifo", "sidecar fifo"])
    sidecar = bad["sidecar fifo"].with_suffix(".json")
    check_kit_of_favourites(
        zoo,
        tmp_path,
        good,
        [
            f"{bad['fifo'].name}: skipped ({FIFO})",
            f"{bad['sidecar fifo'].name}: skipped ({sidecar.name}: {FIFO})",
        ],
    )
    assert bad["fifo"].is_fifo() and sidecar.is_fifo()


@needs_zoo
def test_kit_favourites_skips_truncated_six_channel_and_ten_minute_wavs_with_their_reasons(zoo, tmp_path):
    bad, good = bad_favourites(tmp_path / "favourites", ["truncated", "six channels", "ten minutes"])
    check_kit_of_favourites(
        zoo,
        tmp_path,
        good,
        [
            f"{bad['truncated'].name}: skipped (truncated: the header promises 44100 bytes of audio, the file holds 112)",
            f"{bad['six channels'].name}: skipped (6 channels: a kit takes mono or stereo sounds)",
            f"{bad['ten minutes'].name}: skipped (too long: 600.0 s (a drum hit is at most 30 s; is it a loop or a song?))",
        ],
    )


# ----------------------------------------------------------------------------- numbers


@needs_zoo
@pytest.mark.parametrize("at", ["1_0,0", "\u0661,0", "0,\uff11", "0x1,0"])
def test_at_takes_only_plain_ascii_numbers(zoo, tmp_path, at):
    out_file = tmp_path / "out.wav"
    status, out, err = run("generate", "ae_small_relu", "--at", at, "-o", out_file, "--models", zoo)
    assert status == 2, err
    assert one_line(err) == f"app.py generate: --at {at!r}: a point is two numbers X,Y (e.g. --at 0.5,-1.2)"
    assert not out_file.exists()


@needs_zoo
def test_at_still_takes_signs_decimals_and_exponents(zoo, tmp_path):
    out_file = tmp_path / "out.wav"
    status, out, err = run("generate", "ae_small_relu", "--at=-0.5,+1e-1", "-o", out_file, "--models", zoo)
    assert status == 0, err
    assert out_file.is_file()
