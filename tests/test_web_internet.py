"""``app.py serve`` on the open internet, without a proxy: slow, greedy and hostile clients
against the real server process. Attackers connect from other loopback addresses
(127.0.0.2...), so that each is another client; the one asked to be answered meanwhile is a
third address. Fewer sockets than the issue's 1,030 prove the same mechanism: the limits are
lowered by the server's own options.
"""

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.web_server import get, parse_answer, serving, zoo_of

#: What "every other client is answered" means here (the target).
ANSWERED_WITHIN_S = 1.0
LIMITS = ["--max-connections", "24", "--connections-per-client", "8", "--header-timeout", "2"]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh")


def connect(server, source, timeout=10):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout, source_address=(source, 0))


def accept_queue(port):
    """The connections waiting in the server's listening socket to be taken (the accept queue
    that ``/proc/net/tcp`` shows as a listening socket's receive queue), or None if none listens."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:  # 0A: LISTEN
            return int(fields[4].split(":")[1], 16)
    return None


def wait_until(condition, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def answered_meanwhile(server, source="127.0.0.9"):
    """Another client's GET of the models list: it must come back 200 within a second."""
    start = time.monotonic()
    status, _, body = get(server.url + "/api/models", timeout=ANSWERED_WITHIN_S, source=source)
    assert status == 200 and json.loads(body)["default"] == "ae_small_tanh"
    return time.monotonic() - start


def closed_by_server(connection, within_s=20):
    """What the server sent before closing ``connection`` (b"" for nothing); fails if it stays open."""
    connection.settimeout(within_s)
    data = b""
    try:
        while chunk := connection.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        pytest.fail(f"the server kept the connection open for {within_s} s")
    return data


@pytest.mark.slow
def test_idle_connections_from_many_addresses_do_not_lock_others_out(zoo, tmp_path):
    with serving(["--models", str(zoo), *LIMITS], tmp_path) as server:
        # more idle connections than the server may hold, from four addresses (8 each)
        idle = [connect(server, f"127.0.0.{2 + i // 8}") for i in range(32)]
        wait_until(lambda: accept_queue(server.port) == 0, "the server took every idle connection")
        answered_meanwhile(server)
        # and none of them is kept past the head timeout
        for connection in idle:
            closed_by_server(connection)
            connection.close()
        answered_meanwhile(server)


def test_one_address_cannot_hold_more_than_its_connections(zoo, tmp_path):
    with serving(["--models", str(zoo), *LIMITS], tmp_path) as server:
        held = [connect(server, "127.0.0.2") for _ in range(8)]
        extra = connect(server, "127.0.0.2")
        status, headers, body = parse_answer(closed_by_server(extra, within_s=5))
        assert status == 429 and headers["retry-after"] == "5"
        assert json.loads(body)["error"] == "this address already has 8 connections open (at most 8)"
        answered_meanwhile(server)
        for connection in held:
            connection.close()


@pytest.mark.slow
def test_half_sent_headers_topped_up_byte_by_byte_are_closed(zoo, tmp_path):
    with serving(["--models", str(zoo), *LIMITS], tmp_path) as server:
        slow = [connect(server, f"127.0.0.{2 + i // 8}") for i in range(24)]
        for connection in slow:
            connection.sendall(b"GET /api/models HTTP/1.1\r\nHost: x\r\n")
        stop = threading.Event()

        def top_up():  # a byte a connection every 0.5 s: each stays "active" for the old server
            while not stop.wait(0.5):
                for connection in slow:
                    try:
                        connection.send(b"X")
                    except OSError:
                        pass

        dripping = threading.Thread(target=top_up, daemon=True)
        dripping.start()
        try:
            wait_until(lambda: accept_queue(server.port) == 0, "the server took every slow connection")
            answered_meanwhile(server)
            answers = [closed_by_server(connection) for connection in slow]
        finally:
            stop.set()
            dripping.join()
        # each is closed (what it sent afterwards may have reset the connection before the
        # answer was read: then nothing is seen, else the 408)
        for answer in filter(None, answers):
            status, headers, body = parse_answer(answer)
            assert status == 408 and headers["connection"] == "close"
            assert json.loads(body)["error"] == "the request's headers did not arrive within 2 s"
        answered_meanwhile(server)


def test_a_head_over_16_kB_is_refused_431_at_once(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        with connect(server, "127.0.0.2") as connection:
            connection.sendall(b"GET /api/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
            status, headers, body = parse_answer(closed_by_server(connection, within_s=5))
        assert status == 431 and headers["connection"] == "close"
        assert json.loads(body)["error"] == "the request's headers are larger than 16384 bytes"
        # a head just under the limit is answered as before
        status, _, _ = get(server.url + "/api/models", headers={"X-Big": "a" * 15000}, source="127.0.0.3")
        assert status == 200


@pytest.mark.slow
def test_every_refusal_below_the_app_has_the_apps_json_error_shape(zoo, tmp_path):
    with serving(["--models", str(zoo), "--connections-per-client", "1", "--header-timeout", "1"], tmp_path) as server:
        app_status, app_headers, app_body = get(server.url + "/nowhere", source="127.0.0.2")
        refusals = {}
        with connect(server, "127.0.0.3") as connection:  # not HTTP at all
            connection.sendall(b"HELLO THERE\r\n\r\n")
            refusals["invalid"] = parse_answer(closed_by_server(connection, within_s=5))
        with connect(server, "127.0.0.4") as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
            refusals["head too large"] = parse_answer(closed_by_server(connection, within_s=5))
        with connect(server, "127.0.0.5") as connection:
            connection.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more: the head timeout
            refusals["head too slow"] = parse_answer(closed_by_server(connection, within_s=10))
        with connect(server, "127.0.0.6"), connect(server, "127.0.0.6") as second:
            refusals["connections"] = parse_answer(closed_by_server(second, within_s=5))
    assert app_status == 404 and app_headers["content-type"] == "application/json"
    assert {name: status for name, (status, _, _) in refusals.items()} == {
        "invalid": 400,
        "head too large": 431,
        "head too slow": 408,
        "connections": 429,
    }
    for name, (_, headers, body) in refusals.items():
        assert headers["content-type"] == app_headers["content-type"], name
        assert headers["connection"] == "close" and int(headers["content-length"]) == len(body), name
        error = json.loads(body)
        assert list(error) == list(json.loads(app_body)) == ["error"], name
        assert "\n" not in error["error"] and error["error"], name
    assert json.loads(refusals["invalid"][2])["error"] == (
        "not an HTTP/1.1 request this server can read (Invalid HTTP request received)"
    )


def test_a_200_MB_header_is_cut_off_and_others_are_answered_meanwhile(zoo, tmp_path):
    with serving(["--models", str(zoo)], tmp_path) as server:
        sent = {"bytes": 0, "error": None}

        def send_huge_header():
            with connect(server, "127.0.0.2") as connection:
                connection.sendall(b"GET /api/models HTTP/1.1\r\nHost: x\r\nX-Big: ")
                chunk = b"a" * 65536
                try:
                    while sent["bytes"] < 200 * 1024 * 1024:
                        connection.sendall(chunk)
                        sent["bytes"] += len(chunk)
                except OSError as error:
                    sent["error"] = error

        attacker = threading.Thread(target=send_huge_header, daemon=True)
        attacker.start()
        wait_until(lambda: sent["bytes"] > 0 or sent["error"] is not None, "the attacker sending")
        answered_meanwhile(server)
        attacker.join(timeout=60)
        assert not attacker.is_alive()
        # the server closed the connection after the first 16 kB (what was already on its
        # way in the sockets' buffers is all that was sent)
        assert isinstance(sent["error"], (BrokenPipeError, ConnectionResetError)), sent
        assert sent["bytes"] < 16 * 1024 * 1024
        answered_meanwhile(server)


def test_a_client_asking_a_flood_of_points_gets_429_and_others_are_answered(tmp_path):
    zoo = zoo_of(tmp_path / "zoo", "ddsp_vae")
    with serving(["--models", str(zoo), "--decodes-per-client", "2"], tmp_path) as server:
        model = server.models()["models"][0]
        flood = [connect(server, "127.0.0.2") for _ in range(16)]
        for i, connection in enumerate(flood):
            connection.sendall(
                f"GET {model['sound_url']}?x={i / 100:.2f}&y=0.1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
            )
        status, headers, body = get(f"{server.url}{model['sound_url']}?x=-0.3&y=0.2", source="127.0.0.3", timeout=ANSWERED_WITHIN_S)
        assert status == 200 and body[:4] == b"RIFF"
        answers = [parse_answer(closed_by_server(connection)) for connection in flood]
    statuses = [status for status, _, _ in answers]
    assert set(statuses) == {200, 429}, statuses
    refused = next(answer for answer in answers if answer[0] == 429)
    assert refused[1]["retry-after"] == "1"
    assert json.loads(refused[2])["error"] == ("this client already has 2 sounds decoding (at most 2 at once); try again")


def test_trusted_proxies_are_addresses_networks_or_star():
    from web.limits import Limits

    limits = Limits(proxies="10.0.0.0/8, 127.0.0.1")
    assert limits.is_trusted("10.2.3.4") and limits.is_trusted("127.0.0.1")
    assert not limits.is_trusted("11.0.0.1") and not limits.is_trusted("127.0.0.2") and not limits.is_trusted(None)
    assert Limits(proxies="*").is_trusted("203.0.113.9")


def test_the_uvicorn_protocol_the_guards_extend_still_has_what_they_use():
    """web/limits.py subclasses uvicorn's httptools protocol, which is not a public API: a
    release that moves what the guards override or read fails here, by name, before a user
    meets it (the lock pins the uvicorn this was tested with; `make test-latest` tries newer)."""
    import inspect

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    for method in (
        "connection_made",
        "connection_lost",
        "data_received",
        "on_headers_complete",
        "on_message_complete",
        "on_response_complete",
        "shutdown",
        "send_400_response",
    ):
        assert callable(getattr(HttpToolsProtocol, method, None)), f"HttpToolsProtocol.{method} is gone"
    made = inspect.getsource(HttpToolsProtocol.__init__) + inspect.getsource(HttpToolsProtocol.connection_made)
    for attribute in ("self.connections", "self.pipeline", "self.cycle", "self.parser", "self.loop", "self.transport", "self.client"):
        assert attribute in made, f"HttpToolsProtocol no longer sets {attribute}"
    assert "response_complete" in inspect.getsource(HttpToolsProtocol)
    # web.limits.DrainingWorkers: the supervisor of --workers N closes its sockets as it stops
    from uvicorn.supervisors.multiprocess import Multiprocess

    assert callable(getattr(Multiprocess, "terminate_all", None)), "Multiprocess.terminate_all is gone"
    assert "self.sockets" in inspect.getsource(Multiprocess.__init__), "Multiprocess no longer sets self.sockets"
    assert "self.terminate_all()" in inspect.getsource(Multiprocess.run), "Multiprocess.run no longer calls terminate_all"
