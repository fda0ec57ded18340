"""``app.py serve --workers 2`` as an operator runs it, the real server on loopback: one
``/metrics`` for all its worker processes, and SIGTERM without a reset connection."""

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.test_web_operate import leaf_processes
from tests.web_server import Server, get, parse_answer, zoo_of
from web.decoding import default_decoders


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh")


def wait_for(condition, what, timeout_s=30):
    """``condition()``'s value once it is true; fails naming ``what`` and the last value seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"never: {what} (last seen: {value!r})"
        time.sleep(0.05)


def scrape(server):
    """``/metrics`` as {sample with its labels: value}."""
    status, _, body = get(server.url + "/metrics")
    assert status == 200
    return {
        name: float(value)
        for name, value in (line.rsplit(" ", 1) for line in body.decode().splitlines() if line and not line.startswith("#"))
    }


def is_counted(sample):
    """A counter's sample, or a histogram's count, sum or bucket: these may never go down."""
    return re.match(r"^[a-z_]+_(total|count|sum|bucket)(\{|$)", sample) is not None


@pytest.mark.slow
def test_metrics_of_workers_2_are_both_workers_and_never_go_back_across_10_scrapes(zoo, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = Server(
        ["--models", str(zoo), "--workers", "2", "--access-log", "off"], tmp_path, env={"TMPDIR": str(temporary)}
    ).wait_ready()
    try:
        shared = list(temporary.glob("sample-generator-metrics-*"))
        assert len(shared) == 1, shared
        sound_url = server.models()["models"][0]["sound_url"]
        for i in range(20):  # each on a connection of its own: both workers answer some
            assert get(f"{server.url}{sound_url}?x={i / 40:.3f}&y=0")[0] == 200
        # each worker writes its gauges (by pid) and its decoders alive within a second
        per_worker = 'sample_generator_worker_resident_memory_bytes{pid="'
        wait_for(lambda: sum(1 for s in scrape(server) if s.startswith(per_worker)) == 2, "two workers' gauges")
        # and each worker's decoders, once its gauges are written (a busy machine takes its time)
        wait_for(
            lambda: scrape(server).get("sample_generator_decoders_alive") == 2 * default_decoders(2), "both workers' decoders alive"
        )
        scrapes = [scrape(server) for _ in range(10)]
    finally:
        returncode = server.stop()
    for before, after in zip(scrapes, scrapes[1:]):
        went_back = {s: (v, after.get(s)) for s, v in before.items() if is_counted(s) and after.get(s, 0) < v}
        assert not went_back, went_back
    last = scrapes[-1]
    # every sound counted once, whichever worker answered it: the workers' sum
    assert last['sample_generator_requests_total{route="sound",status="200"}'] == 20
    assert last["sample_generator_decode_seconds_count"] == 20
    assert last['sample_generator_sound_cache_total{result="miss"}'] == 20
    assert last["sample_generator_decoders_alive"] == 2 * default_decoders(2)
    assert last['sample_generator_guard_refusals_total{reason="head_too_large"}'] == 0
    # and the scrapes themselves, 10 and the wait's, each counted once
    assert last['sample_generator_requests_total{route="metrics_page",status="200"}'] >= 10
    # the private folder of the shared values goes with the server
    assert returncode == 0, server.output()
    assert not shared[0].exists()


def one_answer(connection):
    """(status, headers, body) of the next answer on a keep-alive connection, read whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    status, headers, body = parse_answer(data)
    while len(body) < int(headers["content-length"]):
        body += connection.recv(65536)
    return status, headers, body


@pytest.mark.slow
def test_sigterm_of_workers_2_closes_keep_alive_clients_cleanly_and_refuses_their_reconnects(zoo, tmp_path):
    server = Server(["--models", str(zoo), "--workers", "2", "--access-log", "off"], tmp_path).wait_ready()
    held = []
    try:
        # both workers have started (a worker writes its gauges once its decoders are up)
        wait_for(lambda: scrape(server).get("sample_generator_decoders_alive") == 2 * default_decoders(2), "both workers' decoders up")
        clients = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
        for client in clients:  # each answered once, then idle on its keep-alive connection
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert one_answer(client)[0] == 200
        # the decoding processes are held (SIGSTOP), so each worker, its connections closed,
        # waits for them at the end of its drain: the window in which uvicorn's supervisor still
        # listened, its listen queue read by no one, until it exited and reset what was there
        held = [
            pid for pid in leaf_processes(server.process.pid) if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert len(held) == 2 * default_decoders(2)
        for pid in held:
            os.kill(pid, signal.SIGSTOP)
        server.process.send_signal(signal.SIGTERM)
        outcomes = []
        for client in clients:
            try:
                closed = client.recv(65536) == b""  # the server's FIN, after a grace for a request on its way
            except OSError as error:
                closed = type(error).__name__
            client.close()
            outcomes.append(closed)
            try:  # a browser reconnects at once
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as again:
                    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    outcomes.append(again.recv(65536)[:12] or "closed")
            except ConnectionRefusedError:
                outcomes.append("refused")
            except OSError as error:
                outcomes.append(type(error).__name__)
    finally:
        for pid in held:
            os.kill(pid, signal.SIGCONT)
        returncode = server.stop()
    assert outcomes == [True, "refused"] * 20, outcomes
    assert returncode == 0, server.output()


@pytest.mark.slow
def test_sigterm_of_workers_2_ends_with_status_0_and_no_leaked_semaphore_warning(zoo, tmp_path):
    """Each worker's decoding pool met at a multiprocessing barrier; a worker ended by its
    re-raised SIGTERM left the barrier's semaphores to the resource tracker, which warned of
    "8 leaked semaphore objects" at every stop."""
    server = Server(["--models", str(zoo), "--workers", "2", "--access-log", "off"], tmp_path).wait_ready()
    try:
        wait_for(lambda: scrape(server).get("sample_generator_decoders_alive") == 2 * default_decoders(2), "both workers' decoders up")
        # the tracker writes its warning as it exits, after the server: it is waited for too
        trackers = [
            pid for pid in leaf_processes(server.process.pid) if "resource_tracker" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert trackers
        server.process.send_signal(signal.SIGTERM)
    finally:
        returncode = server.stop()
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in trackers), "the resource trackers gone")
    assert returncode == 0, server.output()
    assert "leaked" not in server.output() and "Traceback" not in server.output(), server.output()
