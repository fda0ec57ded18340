"""A real ``app.py serve`` for the web tests: started on a free port as a user starts it,
waited for until it is ready, and stopped (with everything it started) afterwards."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAINED = ROOT / "trained"
START_TIMEOUT_S = 90


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def zoo_of(folder, *names, copy=False):
    """A zoo folder with the shipped models ``names`` (links, or copies a test may damage)."""
    import shutil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if copy:
            shutil.copytree(TRAINED / name, folder / name)
        else:
            (folder / name).symlink_to(TRAINED / name, target_is_directory=True)
    return folder


def get(url, headers=None, timeout=10, source=None):
    """(status, headers, body) of a GET, 4xx and 5xx included; from address ``source`` if given."""
    if source is not None:
        return raw_get(url, headers=headers, timeout=timeout, source=source)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def raw_get(url, headers=None, timeout=10, source=None):
    """A GET over a socket bound to the client address ``source`` (127.0.0.x: another client)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection(
        (parts.hostname, parts.port), timeout=timeout, source_address=(source, 0) if source else None
    ) as connection:
        head = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        connection.sendall((head + "\r\n").encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    return parse_answer(data)


def parse_answer(data):
    """(status, headers with lower-case names, body) of one HTTP/1.1 answer's bytes."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


class Server:
    """One running ``app.py serve`` (its own process group), its port and its output file."""

    def __init__(self, args, tmp_path, env=None, port=None, name="serve", preexec_fn=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tmp_path) / f"{name}-{self.port}.log"
        self._log_file = open(self.log, "w")
        command = [sys.executable, "app.py", "serve", *args]
        if "--port" not in args:
            command += ["--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            start_new_session=True,
            preexec_fn=preexec_fn,
        )

    def wait_ready(self, path="/readyz"):
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                status, _, _ = get(self.url + path, timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"app.py serve did not become ready: {self.output()}")
            time.sleep(0.2)

    def models(self):
        return json.loads(get(self.url + "/api/models")[2])

    def output(self):
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Send ``sig`` to the server process and wait for it; its return code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.process.returncode

    def kill(self):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._log_file.close()


@contextlib.contextmanager
def serving(args, tmp_path, env=None, ready=True, **kwargs):
    server = Server(args, tmp_path, env=env, **kwargs)
    try:
        yield server.wait_ready() if ready else server
    finally:
        server.kill()
