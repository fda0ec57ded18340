"""Operating ``app.py serve``, against the real server process: health and
readiness, SIGTERM draining, Prometheus metrics, the access log, settings from the
environment, and a model that fails at request time."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.web_server import ROOT, Server, free_port, get, parse_answer, serving, zoo_of
from web.decoding import available_cpus


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh")


def children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def leaf_processes(pid):
    """The processes under ``pid`` that have none of their own: the decoding processes (and
    multiprocessing's resource tracker), under the server or under its worker processes."""
    below = children(pid)
    if not below:
        return []
    leaves = []
    for child in below:
        leaves += leaf_processes(child) or [child]
    return leaves


def test_health_and_readiness(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        status, headers, body = get(server.url + "/healthz")
        assert status == 200 and json.loads(body) == {"status": "up"} and headers["cache-control"] == "no-store"
        status, _, body = get(server.url + "/readyz")
        assert status == 200 and json.loads(body) == {"status": "ready", "models": 1}


def test_not_ready_while_its_decoding_processes_are_gone_then_ready_again(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        decoders = [pid for pid in children(server.process.pid) if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
        assert decoders
        for pid in decoders:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (
            any(Path(f"/proc/{pid}/stat").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2] for pid in decoders)
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        status, _, body = get(server.url + "/readyz")
        assert status == 503
        assert json.loads(body)["error"] == "not ready: a decoding process stopped; new ones are starting"
        server.wait_ready()  # the new processes answer
        assert get(server.url + "/api/models/ae_small_tanh/sound.wav?x=0&y=0")[0] == 200


def drain_under_sigterm(tmp_path, options, count):
    """Send SIGTERM to ``app.py serve OPTIONS`` with ``count`` sound requests in flight; what
    the clients got back, and the server's exit status."""
    zoo = zoo_of(tmp_path / "zoo", "ddsp_vae")
    server = Server(["--models", str(zoo), "--drain-seconds", "5", *options], tmp_path).wait_ready()
    try:
        sound_url = server.models()["models"][0]["sound_url"]
        # keep-alive connections the server has accepted (a connection still in the listening
        # socket's queue is reset when it closes, by any server), then a request in flight on
        # each (the decoding processes take a while over them), then SIGTERM
        connections = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(count)]
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        # the decoding processes are held (SIGSTOP) while the requests are sent and the signal
        # comes, so every request is still being made then, however fast this machine is (on
        # a loaded CI machine all 40 had been answered before the signal arrived)
        held = leaf_processes(server.process.pid)
        assert held
        for pid in held:
            os.kill(pid, signal.SIGSTOP)
        try:
            for i, connection in enumerate(connections):
                connection.sendall(f"GET {sound_url}?x={i / 50:.2f}&y=0 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            # the requests reach the server and wait for their decodes
            wait_until(lambda: all_read(server.port, connections), "the server read every request")
            server.process.send_signal(signal.SIGTERM)
            # the signal is handled: no new connection is taken (while the decoders are held)
            wait_until(lambda: readiness_probe(server.port, "/healthz") is None, "the server stops taking connections")
        finally:
            for pid in held:
                os.kill(pid, signal.SIGCONT)
        answers = []
        for connection in connections:
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
            answers.append(parse_answer(data))
            connection.close()
        # a readiness probe, on a new connection as a kubelet or a balancer makes it, fails
        # while the server drains: nothing new is sent to a replica that is going away
        assert readiness_probe(server.port) is None
        returncode = server.process.wait(timeout=5 + 15)
    finally:
        server.kill()
    assert "Traceback" not in server.output()
    return answers, returncode, server.output()


def wait_for_output(server, condition, what, timeout_s=30):
    """The server's output once ``condition(output)`` holds: a line is written once its answer
    has been sent, so it may come after the client has the answer."""
    deadline = time.monotonic() + timeout_s
    while not condition(output := server.output()):
        assert time.monotonic() < deadline, f"never: {what}\n{output[-2000:]}"
        time.sleep(0.05)
    return output


def wait_until(condition, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def all_read(port, connections):
    """Whether the server has read all that was sent on ``connections``: the receive queues of
    its ends of them (``/proc/net/tcp``) are empty."""
    ports = {connection.getsockname()[1] for connection in connections}
    unread = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local == port and remote in ports and fields[3] == "01":  # 01: ESTABLISHED
            unread[remote] = int(fields[4].split(":")[1], 16)
    return set(unread) == ports and not any(unread.values())


def readiness_probe(port, path="/readyz"):
    """The status a new connection's ``GET /readyz`` (or ``path``) gets, or None when it is
    refused, reset or not answered."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
            probe.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head = probe.recv(65536)
    except OSError:
        return None
    return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None


def assert_all_answered_in_full(answers, count):
    # each answered in full, and every connection closed by the server after it (the reads
    # end only at its close); an answer finished before the signal came went out as
    # keep-alive, one still being made says ``connection: close`` (all are, the decoders held)
    assert [status for status, _, _ in answers] == [200] * count
    assert all(body[:4] == b"RIFF" and len(body) == int(headers["content-length"]) for _, headers, body in answers)
    assert all(headers.get("connection") == "close" for _, headers, _ in answers)


def test_sigterm_finishes_the_requests_in_flight_stops_accepting_and_exits_0(tmp_path):
    answers, returncode, output = drain_under_sigterm(tmp_path, [], 40)
    assert_all_answered_in_full(answers, 40)
    assert returncode == 0, output


@pytest.mark.slow
def test_sigterm_drains_every_worker_process_of_workers_2(tmp_path):
    # uvicorn's supervisor passes SIGTERM to each worker process, and each drains its own
    # connections: the clients of both get whole answers, and the supervisor exits 0
    # (30 ddsp_vae decodes take over a second on two workers, and the signal follows the
    # requests at once, so most are still being made when it comes)
    answers, returncode, output = drain_under_sigterm(tmp_path, ["--workers", "2"], 30)
    assert [status for status, _, _ in answers] == [200] * 30
    assert all(body[:4] == b"RIFF" and len(body) == int(headers["content-length"]) for _, headers, body in answers)
    assert returncode == 0, output


def test_metrics_count_requests_latency_decodes_cache_and_decoders(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        url = server.models()["models"][0]["sound_url"]
        for _ in range(3):
            assert get(f"{server.url}{url}?x=0.1&y=0.2")[0] == 200
        assert get(f"{server.url}{url}?x=nan&y=0")[0] == 400
        status, headers, body = get(server.url + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    text = body.decode()
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert float(samples['sample_generator_requests_total{route="sound",status="200"}']) == 3
    assert float(samples['sample_generator_requests_total{route="sound",status="400"}']) == 1
    assert float(samples['sample_generator_request_seconds_count{route="sound"}']) == 4
    assert float(samples['sample_generator_sound_cache_total{result="miss"}']) == 1
    assert float(samples['sample_generator_sound_cache_total{result="hit"}']) == 2
    assert float(samples["sample_generator_decode_seconds_count"]) == 1
    assert float(samples["sample_generator_decoders_alive"]) == min(8, available_cpus())


def test_one_access_log_line_per_request_in_json_when_asked(zoo, tmp_path):
    with serving(["--models", str(zoo), "--access-log", "json"], tmp_path) as server:
        before = len(server.output().splitlines())
        get(server.url + "/api/models")
        get(server.url + "/api/models/ae_small_tanh/sound.wav?x=0.5&y=0")
        get(server.url + "/nowhere")
        paths = ('"/api/models"', '"/api/models/ae_small_tanh/sound.wav?x=0.5&y=0"', '"/nowhere"')
        output = wait_for_output(
            server,
            lambda text: all(p in "\n".join(text.splitlines()[before:]) for p in paths),
            "a log line for each of the three requests",
        )
        lines = output.splitlines()[before:]
    # the start-up wait's own /readyz probes may be logged after ``before`` was read
    entries = [e for e in map(json.loads, lines) if e["path"] not in ("/readyz", "/healthz")]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/models", 200),
        ("GET", "/api/models/ae_small_tanh/sound.wav?x=0.5&y=0", 200),
        ("GET", "/nowhere", 404),
    ]
    assert entries[1]["bytes"] > 10000 and entries[1]["client"] == "127.0.0.1" and entries[1]["ms"] > 0


def test_access_log_text_by_default(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        get(server.url + "/api/models")
        output = wait_for_output(server, lambda text: '"GET /api/models ' in text, "the request's log line")
    line = next(line for line in output.splitlines() if "/api/models" in line)
    assert line.startswith('127.0.0.1 "GET /api/models HTTP/1.1" 200 ') and line.endswith("ms")


def test_settings_come_from_the_environment(zoo, tmp_path):
    port = free_port()
    environment = {
        "SAMPLE_GENERATOR_PORT": str(port),
        "SAMPLE_GENERATOR_MODELS": str(zoo),
        "SAMPLE_GENERATOR_ACCESS_LOG": "off",
        "SAMPLE_GENERATOR_HEADER_BYTES": "2048",
    }
    with serving([], tmp_path, env=environment, port=port) as server:
        assert server.models()["default"] == "ae_small_tanh"
        assert get(server.url + "/api/models", headers={"X-Big": "a" * 3000}, source="127.0.0.2")[0] == 431
        output = server.output()
    assert "/api/models" not in output.split("(Ctrl+C stops)")[-1]  # no access log


def test_a_bad_setting_in_the_environment_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py", "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SAMPLE_GENERATOR_HEADER_BYTES": "10"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "app.py serve: --header-bytes: must be between 1024 and 1.04858e+06 (got 10)"


def test_a_model_failing_at_request_time_is_a_503_naming_it_logged_once(tmp_path):
    zoo = zoo_of(tmp_path / "zoo", "ae_small_tanh", "ae_small_relu", copy=True)
    with serving(["--models", str(zoo), "--access-log", "off"], tmp_path) as server:
        # its decoding processes load ae_small_relu on its first request: damage it first
        (zoo / "ae_small_relu" / "decoder.keras").write_bytes(b"not a model")
        answers = [get(server.url + "/api/models/ae_small_relu/sound.wav?x=0&y=0") for _ in range(3)]
        assert get(server.url + "/api/models/ae_small_tanh/sound.wav?x=0&y=0")[0] == 200
        # all it will ever log: the server is stopped (SIGTERM: it finishes and exits)
        server.stop()
        output = server.output()
    for status, headers, body in answers:
        assert status == 503 and headers["retry-after"] == "30"
        reason = json.loads(body)["error"]
        assert reason.startswith("ae_small_relu cannot be served right now: ae_small_relu/decoder.keras")
        assert str(tmp_path) not in reason
    assert "Traceback" not in output
    logged = [line for line in output.splitlines() if "ae_small_relu" in line]
    assert len(logged) == 1 and logged[0].startswith("ae_small_relu cannot be served: ")


@pytest.mark.slow
def test_sigterm_while_idle_exits_0_quickly(zoo, tmp_path):
    server = Server(["--models", str(zoo)], tmp_path).wait_ready()
    keep_alive = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    keep_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    keep_alive.recv(65536)
    done = threading.Event()
    try:
        server.process.send_signal(signal.SIGTERM)
        returncode = server.process.wait(timeout=20)
        done.set()
    finally:
        keep_alive.close()
        server.kill()
    assert returncode == 0 and "Traceback" not in server.output()
