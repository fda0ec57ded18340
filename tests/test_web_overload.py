"""``app.py serve`` under more load than its decoders can take, and under a low open-file limit.

The real server on loopback. Overload is made without timing: the decoding process is held
(SIGSTOP), so every sound asked for waits, and the queue's depth is read from ``/metrics``.
Clients come from many loopback addresses (127.0.0.x), as the per-client limits are per address.
"""

import json
import os
import resource
import signal
import socket
import time

import pytest

from tests.test_web_operate import leaf_processes
from tests.web_server import Server, get, parse_answer, serving, zoo_of
from web.decoding import QUEUE_PER_DECODER, cgroup_cpu_quota, default_decoders
from web.limits import FILES_PER_DECODER, RESERVED_FILES, Limits, fit_to_file_limit


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh")


def metric(server, name):
    for line in get(server.url + "/metrics")[2].decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"/metrics has no {name}")


def wait_for(condition, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def ask(server, path, source):
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=60, source_address=(source, 0))
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return connection


def received(connection):
    """Everything the server sent before it closed the connection."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    connection.close()
    return data


def answer(connection):
    return parse_answer(received(connection))


def test_overload_is_shed_at_once_with_503_and_readiness_stays_200(zoo, tmp_path):
    with serving(["--models", str(zoo), "--decoders", "1"], tmp_path) as server:
        assert metric(server, "sample_generator_decoders_alive") == 1
        sound = server.models()["models"][0]["sound_url"]
        held = leaf_processes(server.process.pid)
        for pid in held:
            os.kill(pid, signal.SIGSTOP)
        try:
            # a full queue: 4 sounds from each of 8 addresses (the per-client limit is 4)
            queued = [ask(server, f"{sound}?x={i / 100:.2f}&y=0", f"127.0.0.{10 + i // 4}") for i in range(QUEUE_PER_DECODER)]
            wait_for(
                lambda: metric(server, "sample_generator_decodes_waiting") == QUEUE_PER_DECODER, f"{QUEUE_PER_DECODER} sounds waiting"
            )
            # readiness is the decoders' liveness, not a place in their queue
            status, _, body = get(server.url + "/readyz", timeout=5)
            assert status == 200, body
            # one more sound is turned away at once, with a short Retry-After
            status, headers, body = get(f"{server.url}{sound}?x=0.9&y=0", source="127.0.0.50", timeout=5)
            assert status == 503, body
            assert headers["retry-after"] == "1" and headers["cache-control"] == "no-store"
            assert json.loads(body)["error"].startswith(f"too busy right now ({QUEUE_PER_DECODER} sounds are waiting")
            assert metric(server, "sample_generator_decodes_shed_total") == 1
        finally:
            for pid in held:
                os.kill(pid, signal.SIGCONT)
        statuses = [answer(connection)[0] for connection in queued]
        assert statuses == [200] * QUEUE_PER_DECODER
        wait_for(lambda: metric(server, "sample_generator_decodes_waiting") == 0, "an empty queue")


def test_readiness_is_503_while_a_killed_decoder_is_replaced_then_200(zoo, tmp_path):
    with serving(["--models", str(zoo), "--decoders", "1"], tmp_path) as server:
        decoders = [pid for pid in leaf_processes(server.process.pid) if "resource_tracker" not in open(f"/proc/{pid}/cmdline").read()]
        assert len(decoders) == 1
        os.kill(decoders[0], signal.SIGKILL)
        seen = []

        def ready_again():
            seen.append(get(server.url + "/readyz", timeout=5)[0])
            return seen[-1] == 200 and 503 in seen

        wait_for(ready_again, f"503 then 200 from /readyz (saw {seen[-5:]})")


def limited_to(files):
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    return limit


def test_under_a_low_open_file_limit_the_cap_leaves_room_and_idle_sockets_lock_no_one_out(zoo, tmp_path):
    """With ``ulimit -n`` at 200 (1,024 in the issue: the same mechanism, fewer sockets), 300 idle
    sockets from 10 addresses: a normal client is still answered."""
    files = 200
    server = Server(["--models", str(zoo), "--decoders", "1", "--header-timeout", "60"], tmp_path, preexec_fn=limited_to(files))
    idle = []
    try:
        server.wait_ready()
        cap = files - RESERVED_FILES - FILES_PER_DECODER
        assert (
            f"--max-connections 1000: lowered to {cap}, which the open-file limit of {files} leaves room "
            "for (raise it with ulimit -n, or LimitNOFILE= in a systemd unit)"
        ) in server.output()
        for i in range(300):
            try:
                idle.append(
                    socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(f"127.0.0.{20 + i // 30}", 0))
                )
            except OSError:
                break
        for attempt in range(5):
            status, _, body = get(server.url + "/api/models", source=f"127.0.0.{60 + attempt}", timeout=10)
            assert status == 200, body
        assert server.process.poll() is None
    finally:
        for connection in idle:
            connection.close()
        server.kill()


def test_the_file_limit_is_raised_to_the_hard_one_before_the_cap_is_lowered():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        limits, said = fit_to_file_limit(Limits(max_connections=100), decoders=2)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard
        assert limits.max_connections == 100 and said == ""
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_decoder_count_follows_a_cgroup_cpu_quota_and_the_override(tmp_path):
    root = tmp_path / "cgroup"
    (root / "kubepods" / "pod1").mkdir(parents=True)
    (root / "cpu.max").write_text("max 100000\n")
    (root / "kubepods" / "cpu.max").write_text("300000 100000\n")
    (root / "kubepods" / "pod1" / "cpu.max").write_text("150000 100000\n")
    membership = tmp_path / "self-cgroup"
    membership.write_text("0::/kubepods/pod1\n")
    assert cgroup_cpu_quota(str(root), str(membership)) == 1.5
    membership.write_text("0::/\n")
    assert cgroup_cpu_quota(str(root), str(membership)) is None
    assert default_decoders(1, {"SAMPLE_GENERATOR_DECODERS": "3"}) == 3
    for bad in ("0", "9", "１", "2.5", "x"):
        with pytest.raises(ValueError, match="give a whole number from 1 to 8"):
            default_decoders(1, {"SAMPLE_GENERATOR_DECODERS": bad})


def test_a_model_replaced_on_disk_is_refused_at_its_old_url_not_served_with_other_bytes(tmp_path):
    zoo = zoo_of(tmp_path / "zoo", "ae_small_tanh", "ae_small_relu", copy=True)
    with serving(["--models", str(zoo), "--decoders", "1"], tmp_path) as server:
        listed = server.models()
        other = next(m for m in listed["models"] if m["name"] != listed["default"])  # loaded on first use
        before = (zoo / other["name"] / "decoder.keras").read_bytes()
        replacement = next(m["name"] for m in listed["models"] if m["name"] != other["name"])
        (zoo / other["name"] / "decoder.keras").write_bytes((zoo / replacement / "decoder.keras").read_bytes())
        status, headers, body = get(f"{server.url}{other['sound_url']}?x=0.1&y=0.2")
        assert status == 503, body[:200]
        assert json.loads(body)["error"].startswith(
            f"{other['name']} cannot be served right now: its files changed on disk since the server started"
        )
        assert "immutable" not in headers.get("cache-control", "")
        # put back, it is served again at the same URL
        (zoo / other["name"] / "decoder.keras").write_bytes(before)
        wait_for(lambda: get(f"{server.url}{other['sound_url']}?x=0.1&y=0.2")[0] == 200, "served again")


def test_an_ipv6_client_is_its_64_network_and_an_ipv4_mapped_one_its_ipv4_address():
    from web.limits import client_key

    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" == client_key("192.0.2.7")
    assert client_key("not an address") == "not an address" and client_key(None) is None


def test_sounds_decoding_are_counted_per_ipv6_64_network():
    import asyncio

    from web.limits import ClientDecodes, ClientLimited

    decodes = ClientDecodes(Limits(decodes_per_client=2, proxies="127.0.0.1"))

    async def hold_two_then_ask_a_third():
        async with decodes.slot("2001:db8::1"), decodes.slot("2001:db8::2"):
            with pytest.raises(ClientLimited):
                async with decodes.slot("2001:db8::3"):
                    pass
            async with decodes.slot("2001:db8:0:1::1"):  # another /64: another client
                pass

    asyncio.run(hold_two_then_ask_a_third())


def test_every_guard_refusal_is_counted_by_reason_and_the_process_is_measured(zoo, tmp_path):
    limits = ["--connections-per-client", "2", "--header-timeout", "1", "--header-bytes", "2048"]
    with serving(["--models", str(zoo), *limits], tmp_path) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.30", 0)) for _ in range(2)]
        third = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.30", 0))
        assert answer(third)[0] == 429
        big = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.31", 0))
        big.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
        assert answer(big)[0] == 431
        slow = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.32", 0))
        slow.sendall(b"GET / HTTP/1.1\r\n")
        assert answer(slow)[0] == 408
        for connection in held:  # idle: closed at the head timeout, without an answer
            assert received(connection) == b""

        def counted(reason):
            return metric(server, f'sample_generator_guard_refusals_total{{reason="{reason}"}}')

        wait_for(lambda: counted("idle_too_long") == 2, "two idle connections counted")
        assert [counted(r) for r in ("client_connections", "head_too_large", "head_too_slow")] == [1, 1, 1]
        assert metric(server, "process_resident_memory_bytes") > 10e6
        assert metric(server, "process_open_fds") > 3


def test_pipelined_requests_in_one_write_are_each_a_head_of_their_own(zoo, tmp_path):
    """The head-size guard counts a head's own bytes: 100 pipelined GET /healthz in one write
    (4 kB, twice the head limit here) are 100 answers, not one 431."""
    with serving(["--models", str(zoo), "--header-bytes", "2048"], tmp_path) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30, source_address=("127.0.0.40", 0)) as connection:
            requests = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 99
            connection.sendall(requests + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
        assert data.count(b"HTTP/1.1 200 ") == 100 and b" 431 " not in data
