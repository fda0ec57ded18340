"""The batch and the command: every file reported, bad ones with reasons, parallel = serial,
re-runs skip what is up to date, originals untouched, exit statuses."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import app
from drums import hat, kick, snare
from preprocessing import manifest as mf
from preprocessing import workers
from preprocessing.pipeline import NoAudioError, preprocess
from preprocessing.settings import PreprocessSettings

ROOT = Path(__file__).resolve().parents[1]
SMALL = PreprocessSettings(length=2048)

KIT_XML = """<drumkit_info><name>Pearl Test</name><instrumentList>
<instrument><id>0</id><name>Kick</name>
  <layer><filename>kick-soft.wav</filename><min>0</min><max>0.5</max></layer>
  <layer><filename>kick-hard.wav</filename><min>0.5</min><max>1</max></layer></instrument>
<instrument><id>1</id><name>Snare</name><layer><filename>sn.flac</filename><min>0</min><max>1</max></layer></instrument>
</instrumentList></drumkit_info>"""


def make_library(root, broken=True):
    """Three kits of good one-shots, and (optionally) a folder of every kind of bad file."""
    pearl = root / "Pearl Test"
    pearl.mkdir(parents=True)
    (pearl / "drumkit.xml").write_text(KIT_XML)
    sf.write(pearl / "kick-soft.wav", 0.4 * kick(seed=1), 44100, subtype="PCM_16")
    sf.write(pearl / "kick-hard.wav", kick(seed=2), 44100, subtype="PCM_24")
    sf.write(pearl / "sn.flac", np.stack([snare(seed=3), snare(seed=4)], axis=1), 44100)
    loose = root / "Lösé Sämples"
    loose.mkdir()
    sf.write(loose / "Snare drüm 1 ✓.wav", snare(seed=5, sr=48000), 48000, subtype="FLOAT")
    sf.write(loose / "open hat.wav", hat(seed=6), 44100)
    sf.write(loose / "take 7.aiff", snare(seed=7), 44100)
    (loose / "README.txt").write_text("read me\n")
    third = root / "third"
    third.mkdir()
    for i in range(4):
        sf.write(third / f"hat_{i}.wav", hat(seed=10 + i, sr=96000), 96000)
    if broken:
        make_broken(root / "broken")
    return root


def make_broken(folder):
    """One file of each bad kind, named by its kind."""
    folder.mkdir(parents=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "not audio.wav").write_text("hello\n" * 50)
    sf.write(folder / "truncated.wav", snare(seed=1), 44100)
    data = (folder / "truncated.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    nan = snare(seed=2)
    nan[10] = np.nan
    sf.write(folder / "nan.wav", nan, 44100, subtype="FLOAT")
    sf.write(folder / "silence.wav", np.zeros(4410, dtype=np.float32), 44100)
    sf.write(folder / "one sample.wav", np.array([0.5], dtype=np.float32), 44100)
    sf.write(folder / "six channels.wav", np.tile(snare(seed=3, seconds=0.1)[:, None], (1, 6)), 44100)
    sf.write(folder / "8k.wav", snare(seed=4, sr=8000), 8000)
    sf.write(folder / "192k.wav", snare(seed=5, sr=192000, seconds=0.2), 192000, subtype="PCM_24")  # fine
    with sf.SoundFile(folder / "ten minutes.wav", "w", 22050, 1, subtype="PCM_U8") as handle:
        handle.write(np.zeros(22050 * 600, dtype=np.int16))
    return folder


BAD_KINDS = {
    "empty.wav": "empty",
    "not audio.wav": "not audio",
    "truncated.wav": "truncated",
    "nan.wav": "not finite",
    "silence.wav": "silent",
    "one sample.wav": "too short",
    "six channels.wav": "too many channels",
    "8k.wav": "sample rate too low",
    "ten minutes.wav": "too long",
}


def rows_by_name(out):
    return {Path(r["source"]).name: r for r in mf.read_manifest(out)}


def digest_tree(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_batch_reports_every_file_and_carries_on(tmp_path):
    lib = make_library(tmp_path / "lib")
    report = preprocess([lib], tmp_path / "out", SMALL, jobs=1)
    rows = rows_by_name(tmp_path / "out")
    every_file = [p for p in lib.rglob("*") if p.is_file()]
    assert len(mf.read_manifest(tmp_path / "out")) == len(every_file)  # one row per file seen
    for name in BAD_KINDS:
        row = rows[name]
        assert row["status"] == "failed" and row["output"] == "" and row["error"], name
        assert "\n" not in row["error"]
    assert dict(report.failure_kinds) == {kind: 1 for kind in BAD_KINDS.values()}
    assert rows["192k.wav"]["status"] == "ok" and rows["192k.wav"]["source_rate"] == "192000"
    assert rows["ten minutes.wav"]["duration"] == "600.0000"  # header facts kept for failures
    assert rows["README.txt"]["status"] == rows["drumkit.xml"]["status"] == "skipped"
    ok = [r for r in rows.values() if r["status"] == "ok"]
    assert len(ok) == 11
    for row in ok:
        data, rate = sf.read(tmp_path / "out" / row["output"], always_2d=True)
        assert rate == 22050 and data.shape == (2048, 1) and int(np.argmax(np.abs(data))) == 220
        assert sf.info(tmp_path / "out" / row["output"]).subtype == "FLOAT"
    assert rows["kick-soft.wav"]["instrument"] == "Kick" and rows["kick-soft.wav"]["velocity_layer"] == "1/2"
    assert rows["kick-soft.wav"]["kit"] == "Pearl Test" and rows["open hat.wav"]["kit"] == "Lösé Sämples"
    assert rows["take 7.aiff"]["family"] == "unknown" and rows["sn.flac"]["channels"] == "2"
    summary = report.summary()
    assert "11 of 20 audio files ready" in summary and "9 failed" in summary and "2 skipped" in summary
    assert "\n" not in summary
    assert not list((tmp_path / "out").glob(".*tmp"))  # no temporary files left behind


def test_summary_counts_families_and_reasons(tmp_path):
    lib = make_library(tmp_path / "lib")
    summary = preprocess([lib], tmp_path / "out", SMALL, jobs=1).summary()
    # "take 7.aiff" and "broken/192k.wav" carry no name that says what they are
    assert "| kick 2, snare 2, hat 5, unknown 2 |" in summary
    for kind in BAD_KINDS.values():
        assert f"{kind} 1" in summary.split("| failed: ")[1].split(" |")[0]


def test_parallel_output_equals_serial_output(tmp_path, monkeypatch):
    lib = make_library(tmp_path / "lib")
    pools = []

    class CountingPool(workers.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(workers, "ProcessPoolExecutor", CountingPool)
    preprocess([lib], tmp_path / "serial", SMALL, jobs=1)
    assert pools == []
    preprocess([lib], tmp_path / "parallel", SMALL, jobs=2)
    assert pools == [2]
    serial, parallel = mf.read_manifest(tmp_path / "serial"), mf.read_manifest(tmp_path / "parallel")
    assert serial == parallel
    for row in serial:
        if row["status"] == "ok":
            a, _ = sf.read(tmp_path / "serial" / row["output"])
            b, _ = sf.read(tmp_path / "parallel" / row["output"])
            np.testing.assert_array_equal(a, b)


def test_rerun_skips_what_is_up_to_date(tmp_path):
    lib = make_library(tmp_path / "lib", broken=False)
    out = tmp_path / "out"
    first = preprocess([lib], out, SMALL, jobs=1)
    assert (first.made, first.reused) == (10, 0)
    manifest = (out / "manifest.csv").read_bytes()
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}
    second = preprocess([lib], out, SMALL, jobs=1)
    assert (second.made, second.reused) == (0, 10)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")} == stamps
    assert (out / "manifest.csv").read_bytes() == manifest

    # a changed source is made again, and only it
    sf.write(lib / "third" / "hat_0.wav", hat(seed=99, sr=96000), 96000)
    os.utime(lib / "third" / "hat_0.wav", ns=(1, 1))
    third = preprocess([lib], out, SMALL, jobs=1)
    assert (third.made, third.reused) == (1, 9)

    # other settings make everything again
    fourth = preprocess([lib], out, PreprocessSettings(length=1024), jobs=1)
    assert (fourth.made, fourth.reused) == (10, 0)
    assert mf.read_settings(out) == PreprocessSettings(length=1024)

    # a source that went away takes its output with it
    gone = rows_by_name(out)["hat_1.wav"]["output"]
    (lib / "third" / "hat_1.wav").unlink()
    preprocess([lib], out, PreprocessSettings(length=1024), jobs=1)
    assert not (out / gone).exists() and "hat_1.wav" not in rows_by_name(out)


def test_output_of_a_source_that_turned_bad_is_removed(tmp_path):
    lib = make_library(tmp_path / "lib", broken=False)
    out = tmp_path / "out"
    preprocess([lib], out, SMALL, jobs=1)
    name = rows_by_name(out)["open hat.wav"]["output"]
    (lib / "Lösé Sämples" / "open hat.wav").write_bytes(b"")
    preprocess([lib], out, SMALL, jobs=1)
    assert rows_by_name(out)["open hat.wav"]["status"] == "failed" and not (out / name).exists()


def test_originals_are_never_written(tmp_path):
    lib = make_library(tmp_path / "lib")
    before = digest_tree(lib)
    stamps = {p: p.stat().st_mtime_ns for p in before}
    preprocess([lib], tmp_path / "out", SMALL, jobs=2)
    preprocess([lib], tmp_path / "out", SMALL, jobs=1)
    assert digest_tree(lib) == before
    assert {p: p.stat().st_mtime_ns for p in before} == stamps


def test_names_with_spaces_and_non_ascii_work(tmp_path):
    lib = make_library(tmp_path / "lib", broken=False)
    preprocess([lib], tmp_path / "out", SMALL, jobs=1)
    row = rows_by_name(tmp_path / "out")["Snare drüm 1 ✓.wav"]
    assert row["status"] == "ok" and row["source"].endswith("Lösé Sämples/Snare drüm 1 ✓.wav")
    assert row["output"] == "Lose_Samples__Snare_drum_1.wav" and row["family"] == "snare"
    names = [r["output"] for r in mf.read_manifest(tmp_path / "out") if r["output"]]
    assert all(n.isascii() and " " not in n for n in names) and len(set(names)) == len(names)


def test_output_folder_inside_sources_is_not_read_back(tmp_path):
    lib = make_library(tmp_path / "lib", broken=False)
    preprocess([lib], lib / "dataset", SMALL, jobs=1)
    again = preprocess([lib], lib / "dataset", SMALL, jobs=1)
    assert not any("/dataset/" in r["source"] for r in again.rows)
    assert again.reused == 10


def test_folder_without_audio_raises_no_audio(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("no sounds here")
    with pytest.raises(NoAudioError, match="no audio files in"):
        preprocess([tmp_path / "docs"], tmp_path / "out", SMALL)
    assert not (tmp_path / "out").exists()


# The command line -----------------------------------------------------------------------


def cli(*argv):
    return app.main(["preprocess", *map(str, argv)])


def test_cli_success_prints_summary_and_failures(tmp_path, capsys):
    lib = make_library(tmp_path / "lib")
    assert cli(lib, "-o", tmp_path / "out", "--length", 2048, "--jobs", 2) == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1 and "11 of 20 audio files ready" in captured.out
    for name in BAD_KINDS:
        assert f"broken/{name}: " in captured.err
    assert "Traceback" not in captured.err


def test_cli_no_audio_folder_exits_1(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli(tmp_path / "empty", "-o", tmp_path / "out") == 1
    assert "app.py preprocess: no audio files in" in capsys.readouterr().err


def test_cli_all_files_bad_exits_1(tmp_path, capsys):
    make_broken(tmp_path / "broken")
    (tmp_path / "broken" / "192k.wav").unlink()
    assert cli(tmp_path / "broken", "-o", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "none of the 9 audio files could be used" in err
    assert (tmp_path / "out" / "manifest.csv").is_file()  # the reasons are kept


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--length", "0"], "--length: must be a whole number of samples between 256 and 661500 (30 s at 22050 Hz)"),
        (["--attack", "1.0"], "--attack: must be a number of seconds from 0 to less than 0.743"),
        (["--sr", "-5"], "--sr: must be a whole number of Hz between 8000 and 192000 (got -5)"),
        (["--channel", "-1"], "--channel: must be a whole number between 0 and 255 (got -1)"),
        (["--jobs", "0"], "--jobs: must be a whole number between 1 and 256 (got 0)"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path, capsys, extra, message):
    make_library(tmp_path / "lib", broken=False)
    assert cli(tmp_path / "lib", "-o", tmp_path / "out", *extra) == 2
    assert message in capsys.readouterr().err


def test_cli_bad_paths_exit_2(tmp_path, capsys):
    lib = make_library(tmp_path / "lib", broken=False)
    assert cli(tmp_path / "missing", "-o", tmp_path / "out") == 2
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert cli(lib, "-o", tmp_path / "file") == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli(lib, "-o", lib) == 2
    assert "cannot be a source folder" in capsys.readouterr().err


def test_cli_preview_writes_png(tmp_path, capsys):
    lib = make_library(tmp_path / "lib", broken=False)
    assert cli(lib, "-o", tmp_path / "out", "--length", 2048, "--jobs", 1, "--preview", tmp_path / "p.png") == 0
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "preview: " in capsys.readouterr().out


def test_broken_folder_in_a_real_process_gives_reasons_and_no_traceback(tmp_path):
    make_broken(tmp_path / "broken")
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "preprocess", str(tmp_path / "broken"), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # 192k.wav is fine, so something was done
    assert "Traceback" not in done.stderr
    assert done.stderr.count("failed: ") == len(BAD_KINDS)
    assert "1 of 10 audio files ready" in done.stdout


def test_file_names_that_are_not_utf8_work(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    odd = os.fsdecode(os.fsencode(folder) + b"/snare \xff take.wav")
    sf.write(os.fsencode(odd), snare(seed=1), 44100)
    sf.write(folder / "kick.wav", kick(seed=1), 44100)
    out = tmp_path / os.fsdecode(b"out \xfe")
    report = preprocess([folder], out, SMALL, jobs=1)
    assert report.made == 2 and not report.failures
    rows = {r["source"]: r for r in mf.read_manifest(out)}
    assert rows[odd]["output"] == "lib__snare_take.wav" and rows[odd]["family"] == "snare"
    for cache in out.glob("cache-*.npy"):
        cache.unlink()
    from preprocessing.dataset import load_dataset
    from preprocessing.preview import pick_examples

    assert load_dataset(out).audio.shape == (2, 2048)  # read back from the WAVs
    assert len(pick_examples(out, report.rows, SMALL)) == 2


def test_leftovers_of_a_stopped_run_are_cleaned_up(tmp_path):
    lib = make_library(tmp_path / "lib", broken=False)
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid whose process is gone: what a killed run leaves
    (out / f".Pearl_Test__Kick__kick-hard.wav.{dead.pid}.0badcafe.tmp").write_bytes(b"half a file")  # safeio's name
    (out / "mine.txt").write_text("not ours")
    preprocess([lib], out, SMALL, jobs=1)
    assert not list(out.glob(".*.tmp")) and (out / "mine.txt").read_text() == "not ours"
