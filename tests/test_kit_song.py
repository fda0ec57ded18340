"""The step pattern exported with a kit as a Hydrogen song, rendered by Hydrogen itself
(h2cli): each hit at its step, played by the instrument made from its lane's favourite."""

import xml.etree.ElementTree as ET

import hydrogen
import numpy as np
import pytest
import soundfile

import drums
from audio.export import FavouritesFolder
from audio.kit import FamilyNamer, favourite_sounds, kit_files, write_h2drumkit
from audio.pattern import CURRENT, Pattern
from audio.song import TICKS_PER_STEP, song_for_kit, song_path, write_song
from safeio import FileExistsRefused

SR = 22050
needs_h2cli = pytest.mark.skipif(hydrogen.H2CLI is None, reason="h2cli (Debian package hydrogen) is not installed")


@pytest.fixture
def favourites(tmp_path):
    """A kick, a snare and a hat saved as favourites (their points are made up)."""
    folder = FavouritesFolder(tmp_path / "favs")
    paths = [
        folder.save(make(seed, sr=SR, seconds=0.12, onset=0.01), SR, model="vae_c", point=(x, 0.5))
        for seed, (make, x) in enumerate(((drums.kick, -1.0), (drums.snare, 0.0), (drums.hat, 1.0)))
    ]
    return folder, paths


def kit_of(folder):
    entries = sorted(folder.entries(), key=lambda f: f.point[0])  # kick, snare, hat
    sounds = favourite_sounds(entries, layers=1, extra_layers=lambda *_: ([], None), family_of=FamilyNamer().family, report=print)
    return kit_files("Beat Kit", sounds)


def beat(paths):
    """Kick on 1 and 3, snare on 2 and 4, hat on the off-beats; the free lane on the current sound."""
    pattern = Pattern().with_tempo(60)
    for lane, steps in ((0, (0, 8)), (1, (4, 12)), (2, (2, 6, 10, 14)), (3, (1,))):
        for step in steps:
            pattern = pattern.toggled(lane, step)
    for lane, path in enumerate(paths):
        pattern = pattern.with_source(lane, path.name)
    return pattern


def test_the_song_names_the_kits_instruments_and_leaves_out_the_current_sound_lane(favourites):
    folder, paths = favourites
    kit = kit_of(folder)
    song = song_for_kit(beat(paths), kit)
    root = ET.fromstring(song.xml)
    names = [e.findtext("name") for e in root.iterfind("instrumentList/instrument")]
    assert names == [lane[1] for lane in song.lanes] and len(names) == 3
    assert root.findtext("bpm") == "60"
    notes = sorted(
        (int(n.findtext("position")), int(n.findtext("instrument"))) for n in root.iterfind("patternList/pattern/noteList/note")
    )
    assert notes == sorted([(0, 0), (8 * 12, 0), (4 * 12, 1), (12 * 12, 1)] + [(s * 12, 2) for s in (2, 6, 10, 14)])
    assert song.left_out == ("free: follows the current sound, which is not in the kit",)


def test_an_existing_song_is_not_replaced_without_the_users_yes(favourites, tmp_path):
    folder, paths = favourites
    target = tmp_path / "Beat Kit.h2song"
    target.write_text("mine")
    song = song_for_kit(beat(paths), kit_of(folder))
    with pytest.raises(FileExistsRefused):
        write_song(target, song)
    assert target.read_text() == "mine"
    write_song(target, song, overwrite=True)
    assert target.read_text() == song.xml


def zero_crossings(audio):
    return int(np.count_nonzero(np.diff(np.signbit(audio))))


@needs_h2cli
@pytest.mark.slow
def test_hydrogen_renders_the_song_with_each_hit_at_its_step(favourites, tmp_path):
    folder, paths = favourites
    kit = kit_of(folder)
    archive = write_h2drumkit(tmp_path / "Beat Kit.h2drumkit", kit)
    pattern = beat(paths).with_source(3, CURRENT)
    song = write_song(song_path(archive), song_for_kit(pattern, kit))
    assert song == tmp_path / "Beat Kit.h2song"
    home = tmp_path / "home"
    installed = hydrogen.h2cli(home, "--install", archive)
    assert installed.returncode == 0, installed.stderr[-2000:]
    rendered = tmp_path / "beat.wav"
    result = hydrogen.h2cli(home, "-s", song, "-k", "Beat Kit", "-o", rendered)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    audio, rate = soundfile.read(rendered)
    mono = audio.mean(axis=1) if audio.ndim > 1 else audio
    step_seconds = 60 / 60 / 4  # 60 BPM: a sixteenth is a quarter of a second
    expected = sorted((step, lane) for step, lane in pattern.hits() if lane < 3)
    found = hydrogen.onsets(audio, rate)
    assert len(found) == len(expected), found
    for (step, _), onset in zip(expected, found):
        assert abs(onset - step * step_seconds - 0.01) < 0.03  # the sample's attack is 10 ms in
    assert TICKS_PER_STEP == 12
    brightness = {}
    for (_step, lane), onset in zip(expected, found):
        start = int(onset * rate)
        brightness.setdefault(lane, []).append(zero_crossings(mono[start : start + int(0.05 * rate)]))
    # the kick's lane plays the kick, the hat's the hat: not one instrument for all
    assert max(brightness[0]) * 4 < min(brightness[2])


def test_exporting_beside_an_existing_song_writes_nothing_and_names_it(tmp_path):
    from test_gui_kits_history import run_job

    from gui import effects as fx
    from gui import events as ev

    (tmp_path / "Beat.h2song").write_text("the user's song")
    kit = tmp_path / "Beat.h2drumkit"
    pattern = Pattern().toggled(0, 0)
    (record,) = run_job(tmp_path, fx.ExportKit(("a.wav",), str(kit), False, pattern=pattern))
    assert record == ev.KitExists(str(kit), ("a.wav",), ("Beat.h2song",))
    assert not kit.exists() and (tmp_path / "Beat.h2song").read_text() == "the user's song"
