"""``app.py serve`` as a user runs it: bad options exit 2 and a folder with nothing to serve
exits 1, each with one line; with --workers 2 the API answers from worker processes; Ctrl+C
stops the server and every process it started."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def serve(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "app.py", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (["--port", "0"], "--port 0: a port is a number from 1 to 65535"),
        (["--port", "70000"], "a port is a number"),
        (["--workers", "0"], "--workers 0: choose from 1 to"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, words):
    result = serve(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"app.py serve: {words}" or words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_folder_exits_1_with_one_line(tmp_path):
    result = serve("--models", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"app.py serve: {tmp_path / 'nowhere'}: no such folder of models"


def test_folder_without_models_exits_1_and_says_why(tmp_path):
    result = serve("--models", str(tmp_path))
    assert result.returncode == 1
    assert "no model can be served" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_two_workers_serve_the_api(tmp_path):
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "ae_small_tanh").symlink_to(ROOT / "trained" / "ae_small_tanh", target_is_directory=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "app.py", "serve", "--port", str(port), "--models", str(zoo), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=2).read())
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
                time.sleep(0.3)
        assert body["default"] == "ae_small_tanh"
        wav = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models/ae_small_tanh/sound.wav?x=0&y=0").read()
        assert wav[:4] == b"RIFF"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Serving 1 model (default ae_small_tanh)" in output
    assert "default ae_small_tanh: the only evaluated model (MR-STFT 1.353, Fréchet 47.6)" in output
    assert "Traceback" not in output


def test_port_in_use_exits_1_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == f"app.py serve: cannot listen on 127.0.0.1:{port} (Address already in use)"
    assert result.stdout == ""


def test_a_server_process_runs_blas_on_one_thread():
    code = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "from web.server import one_blas_thread\n"
        "one_blas_thread()\n"
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "2"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1]"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_api(process, port, deadline_s=90):
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=2).read())
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.3)


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{each}/task/{each}/children").read_text().split()]
        except OSError:
            continue
        found += children
        todo += children
    return found


def assert_all_gone(pids, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def serve_in_a_terminal(tmp_path):
    """``app.py serve`` of ae_small_tanh in its own process group, as a terminal gives it (Ctrl+C
    is SIGINT to the whole group): (process, port)."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "ae_small_tanh").symlink_to(ROOT / "trained" / "ae_small_tanh", target_is_directory=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "app.py", "serve", "--port", str(port), "--models", str(zoo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    return process, port


@pytest.mark.slow
def test_ctrl_c_stops_the_server_and_its_decoding_processes_quietly(tmp_path):
    process, port = serve_in_a_terminal(tmp_path)
    try:
        wait_for_api(process, port)
        wav = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models/ae_small_tanh/sound.wav?x=0.5&y=0").read()
        assert wav[:4] == b"RIFF"
        started = descendants(process.pid)
        assert len(started) >= 2  # the decoding processes (and multiprocessing's resource tracker)
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output and "leaked" not in output, output
    assert_all_gone(started)


def decodes_waiting(port):
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return next(float(line.split()[1]) for line in metrics.splitlines() if line.startswith("sample_generator_decodes_waiting "))


def hold_sounds_in_flight(port, decoders, count, connections, *, timeout):
    """Stop (SIGSTOP) the ``decoders``, ask for ``count`` sounds, each on a new connection kept
    in ``connections``, and wait until all of them wait for the held decoders (the server's own
    gauge: counting its sockets raced with the readiness check's connection closing)."""
    for pid in decoders:
        os.kill(pid, signal.SIGSTOP)
    for i in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        connection.sendall(f"GET /api/models/ae_small_tanh/sound.wav?x=0.{i}&y=0 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        connections.append(connection)
    deadline = time.monotonic() + 30
    while (waiting := decodes_waiting(port)) < count:
        assert time.monotonic() < deadline, f"only {waiting} of the {count} sounds reached the decoders"
        time.sleep(0.05)


@pytest.mark.slow
def test_ctrl_c_twice_with_requests_in_flight_stops_at_once_without_a_traceback(tmp_path):
    process, port = serve_in_a_terminal(tmp_path)
    connections = []
    try:
        wait_for_api(process, port)
        started = descendants(process.pid)
        # the decoding processes are held, so the requests stay in flight until the second Ctrl+C
        hold_sounds_in_flight(port, started, 5, connections, timeout=30)
        os.killpg(process.pid, signal.SIGINT)
        # the second Ctrl+C once the first is under way (the server stops listening), as a
        # user's second press comes: two signals sent at once arrive as one
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "the server still listens after Ctrl+C"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        for pid in started:
            os.kill(pid, signal.SIGCONT)
        output = process.communicate(timeout=60)[0]
    finally:
        for connection in connections:
            connection.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert "Traceback" not in output and "CancelledError" not in output and "Error" not in output, output
    assert_all_gone(started)


@pytest.mark.slow
def test_sigterm_to_the_whole_group_drains_on_the_same_decoding_processes(tmp_path):
    """systemd stops a service by SIGTERM to every process of its group (KillMode=control-group):
    the decoding processes, which the server stops itself, ignore it, so the requests in flight
    are answered by them, not by new ones started in the middle of the drain."""
    process, port = serve_in_a_terminal(tmp_path)
    connections = []
    try:
        wait_for_api(process, port)
        started = [pid for pid in descendants(process.pid) if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
        # held, so the requests are still in flight when SIGTERM comes
        hold_sounds_in_flight(port, started, 3, connections, timeout=60)
        os.killpg(process.pid, signal.SIGTERM)
        for pid in started:  # the SIGTERM each was sent arrives now
            os.kill(pid, signal.SIGCONT)
        answers = [connection.recv(12) for connection in connections]
        output = process.communicate(timeout=60)[0]
    finally:
        for connection in connections:
            connection.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert answers == [b"HTTP/1.1 200"] * 3, (answers, output)
    assert process.returncode == 0, output
    assert "stopped" not in output and "Traceback" not in output, output
    assert_all_gone(started)


@pytest.mark.slow
def test_a_server_killed_outright_leaves_no_decoding_process_behind(tmp_path):
    process, port = serve_in_a_terminal(tmp_path)
    try:
        wait_for_api(process, port)
        started = [pid for pid in descendants(process.pid) if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
        assert started
        process.kill()  # SIGKILL to the server alone: nothing of it runs to stop them
        process.communicate(timeout=30)
        assert_all_gone(started, timeout_s=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_decoding_that_cannot_start_exits_1_with_one_line(tmp_path):
    # the seam: decoding processes asked to preload a model the zoo lacks
    code = (
        "import sys\n"
        "import web.server\n"
        "from web.decoding import ProcessDecoding\n"
        "web.server.process_decoding = lambda catalogue, folder, workers=1: "
        "ProcessDecoding(folder, 1, preload=['vae_a'])\n"
        "import app\n"
        "if __name__ == '__main__':\n"
        f"    sys.exit(app.main(['serve', '--port', '{free_port()}', '--models', sys.argv[1]]))\n"
    )
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "ae_small_tanh").symlink_to(ROOT / "trained" / "ae_small_tanh", target_is_directory=True)
    script = tmp_path / "serve_with_seam.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, str(script), str(zoo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("app.py serve: cannot start decoding: vae_a: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Serving" not in result.stdout
