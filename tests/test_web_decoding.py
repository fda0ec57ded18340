"""Decoding in processes of their own (what ``app.py serve`` runs): the same bytes as
decoding in the server's own process, models loaded where they are asked for, a killed
process replaced, and a one-line reason when decoding cannot start or keeps failing."""

import asyncio
import os
import signal
import time

import pytest
from starlette.testclient import TestClient

from tests.web_fakes import exit_at_once
from web.catalogue import load_catalogue, load_model
from web.decoding import DecodingFailed, ProcessDecoding
from web.server import create_app
from web.sound import SoundRequest, tagged_wav

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINED = os.path.join(ROOT, "trained")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """Two shipped models: a dense autoencoder and the synthesiser VAE."""
    folder = tmp_path_factory.mktemp("zoo")
    for name in ("ae_small_tanh", "ddsp_vae"):
        (folder / name).symlink_to(os.path.join(TRAINED, name), target_is_directory=True)
    return folder


@pytest.fixture(scope="module")
def decoding(zoo):
    pool = ProcessDecoding(zoo, 2, preload=["ddsp_vae"])
    pool.start()
    yield pool
    pool.close()


class Served:
    """What the pool reads of a ServedModel: its name."""

    def __init__(self, name):
        self.name = name


def wav(pool, name, request):
    return asyncio.run(pool.wav(Served(name), request))


@pytest.mark.parametrize("name", ["ae_small_tanh", "ddsp_vae"])
def test_a_decoding_process_gives_the_bytes_the_server_process_would(decoding, zoo, name):
    model = load_model(name, zoo)
    for x, y in [(0.0, 0.0), (0.75, -1.25), (-1.5, 0.3)]:
        request = SoundRequest.rounded(name, x, y)
        assert wav(decoding, name, request) == tagged_wav(model, request)
    if name == "ddsp_vae":
        request = SoundRequest.rounded(name, 0.4, 0.4, variation=7, rate=48000)
        assert wav(decoding, name, request) == tagged_wav(model, request)


def test_decoding_runs_in_processes_other_than_the_server(decoding):
    pids = decoding.pids()
    assert len(pids) == 2 and os.getpid() not in pids


def test_a_killed_decoding_process_is_replaced_and_the_request_answered(zoo):
    pool = ProcessDecoding(zoo, 1, preload=["ae_small_tanh"])
    pool.start()
    try:
        request = SoundRequest.rounded("ae_small_tanh", 0.2, 0.1)
        first = wav(pool, "ae_small_tanh", request)
        (killed,) = pool.pids()
        os.kill(killed, signal.SIGKILL)
        again = wav(pool, "ae_small_tanh", SoundRequest.rounded("ae_small_tanh", 0.2, 0.1))
        assert again == first
        assert pool.pids() and killed not in pool.pids()
    finally:
        pool.close()


def test_a_model_a_process_cannot_load_stops_the_start_with_its_reason(tmp_path):
    pool = ProcessDecoding(tmp_path, 1, preload=["ae_small_tanh"])
    with pytest.raises(DecodingFailed) as failed:
        pool.start()
    assert str(failed.value).startswith("ae_small_tanh: ") and "\n" not in str(failed.value)
    assert pool.pids() == []


def test_decoding_that_keeps_failing_is_a_503_with_a_one_line_reason(zoo):
    catalogue = load_catalogue(zoo, ["ae_small_tanh"])
    pool = ProcessDecoding(zoo, 1, work=exit_at_once)
    with TestClient(create_app(catalogue, decoding=pool), raise_server_exceptions=False) as client:
        response = client.get("/api/models/ae_small_tanh/sound.wav?x=0&y=0")
        assert response.status_code == 503
        assert response.json() == {"error": "the server cannot decode sounds right now; try again"}
        assert response.headers["retry-after"] == "5"
        assert client.get("/api/models").status_code == 200
    assert pool.pids() == []


def test_decoding_before_the_start_is_refused_with_a_reason(zoo):
    pool = ProcessDecoding(zoo, 1)
    with pytest.raises(DecodingFailed, match="have not been started"):
        wav(pool, "ae_small_tanh", SoundRequest.rounded("ae_small_tanh", 0.0, 0.0))


def test_a_model_gone_from_the_zoo_after_the_start_is_a_503_naming_it_and_the_others_still_play(tmp_path, caplog):
    import logging
    import shutil

    zoo = tmp_path / "zoo"
    for name in ("ae_small_tanh", "ae_small_relu"):
        shutil.copytree(os.path.join(TRAINED, name), zoo / name)
    catalogue = load_catalogue(zoo)
    pool = ProcessDecoding(zoo, 1, preload=["ae_small_tanh"])
    caplog.set_level(logging.ERROR, logger="web")
    with TestClient(create_app(catalogue, decoding=pool, folder=zoo), raise_server_exceptions=False) as client:
        shutil.rmtree(zoo / "ae_small_relu")
        for _ in range(2):
            gone = client.get("/api/models/ae_small_relu/sound.wav?x=0&y=0")
            assert gone.status_code == 503 and gone.headers["retry-after"] == "30"
            reason = gone.json()["error"]
            assert reason.startswith("ae_small_relu cannot be served right now: ae_small_relu/card.json: missing")
            assert str(tmp_path) not in reason
        assert client.get("/api/models/ae_small_tanh/sound.wav?x=0&y=0").status_code == 200
    # logged once, as one line, however many requests met it
    lines = [r for r in caplog.records if "ae_small_relu" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None


class Process:
    def __init__(self, alive):
        self.alive = alive
        self.pid = os.getpid()  # a running process

    def is_alive(self):
        return self.alive


class PoolNotYetBroken:
    """A process pool one of whose processes has died before the pool's own thread noticed
    (so it is not yet marked broken): what a readiness check can meet under load."""

    _broken = False

    def __init__(self):
        self._processes = {1: Process(False), 2: Process(True)}
        self.shut_down = False

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut_down = True


def test_a_process_dead_before_its_pool_noticed_is_the_same_not_ready_and_a_new_pool_starts(zoo):
    pool = ProcessDecoding(zoo, 2, preload=["ae_small_tanh"])
    broken = pool._pool = PoolNotYetBroken()
    try:
        assert asyncio.run(pool.ready()) == "a decoding process stopped; new ones are starting"
        assert broken.shut_down and pool._pool is not broken
        deadline = time.monotonic() + 60
        while asyncio.run(pool.ready()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert asyncio.run(pool.ready()) == ""
    finally:
        pool.close()


class PoolReaped:
    """A pool whose processes its own thread has reaped while a readiness check looked: that
    thread marks the pool broken and joins them, and the check read the mark before."""

    def __init__(self, processes):
        self._processes = dict(enumerate(processes))
        self._broken = False
        self.shut_down = False

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut_down = True


def test_processes_reaped_by_the_pools_thread_are_not_counted_as_running(zoo):
    import multiprocessing

    reaped = []
    for _ in range(2):
        process = multiprocessing.get_context("fork").Process(target=os._exit, args=(0,))
        process.start()
        os.waitpid(process.pid, 0)  # the pool's thread joins it first
        reaped.append(process)
    # what multiprocessing says of a child another thread has reaped (its waitpid: ECHILD)
    assert all(process.is_alive() for process in reaped)
    pool = ProcessDecoding(zoo, 2, preload=["ae_small_tanh"])
    broken = pool._pool = PoolReaped(reaped)
    try:
        assert asyncio.run(pool.ready()) == "a decoding process stopped; new ones are starting"
        assert broken.shut_down and pool._pool is not broken
    finally:
        pool.close()
