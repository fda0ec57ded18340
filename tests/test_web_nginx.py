"""Scale out: two ``app.py serve`` replicas behind Debian's nginx as load
balancer and proxy cache, all started here with a configuration written to the test's
folder (bench/nginx.py, the one docs/deploy.md shows). Sounds are identical through either
replica; a replica killed with SIGKILL under load costs no failed request; one stopped with
SIGTERM drains; a repeated point is served from nginx's cache, unseen by the replicas."""

import os
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.nginx import NGINX, Nginx
from tests.web_server import Server, free_port, get, zoo_of

pytestmark = pytest.mark.skipif(
    not os.path.exists(NGINX) and not shutil.which("nginx"), reason="nginx is not installed (scripts/system-deps.sh test)"
)
CLIENTS = 6


@pytest.fixture
def topology(tmp_path):
    zoo = zoo_of(tmp_path / "zoo", "ae_small_tanh")
    replicas = [Server(["--models", str(zoo)], tmp_path, name=f"replica{i}") for i in range(2)]
    nginx = None
    try:
        for replica in replicas:
            replica.wait_ready()
        nginx = Nginx(tmp_path / "nginx", free_port(), [r.port for r in replicas])
        yield nginx, replicas
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.kill()


def sound_path(nginx, x, y=0.1):
    model = nginx_models(nginx)["models"][0]
    return f"{model['sound_url']}?x={x:.4f}&y={y:.4f}"


def nginx_models(nginx):
    import json

    return json.loads(get(nginx.url + "/api/models")[2])


def seen_by(replica, path):
    """How many times the replica's access log shows ``path``."""
    return sum(f'"GET {path} HTTP/1.1"' in line for line in replica.output().splitlines())


def under_load(nginx, during, seconds_before=0.8):
    """CLIENTS clients asking distinct points through nginx until ``during()`` has run and a
    moment more; every answer's status."""
    statuses, stop, lock = [], threading.Event(), threading.Lock()
    model = nginx_models(nginx)["models"][0]

    def client(k):
        i = 0
        while not stop.is_set():
            i += 1
            x = ((k * 7919 + i * 104729) % 20000) / 10000 - 1
            try:
                status = get(f"{nginx.url}{model['sound_url']}?x={x:.4f}&y={k / 10:.4f}", timeout=20)[0]
            except OSError as error:
                status = type(error).__name__
            with lock:
                statuses.append(status)

    with ThreadPoolExecutor(CLIENTS) as pool:
        for k in range(CLIENTS):
            pool.submit(client, k)
        stop.wait(seconds_before)
        during()
        stop.wait(seconds_before)
        stop.set()
    return statuses


def test_identical_sounds_through_either_replica(topology):
    nginx, replicas = topology
    path = sound_path(nginx, 0.25)
    direct = [get(r.url + path) for r in replicas]
    assert direct[0][0] == direct[1][0] == 200
    assert direct[0][2] == direct[1][2] and direct[0][1]["etag"] == direct[1][1]["etag"]
    through = get(nginx.url + path)
    assert through[0] == 200 and through[2] == direct[0][2] and through[1]["etag"] == direct[0][1]["etag"]


def test_a_repeated_point_is_served_from_nginx_cache(topology):
    nginx, replicas = topology
    path = sound_path(nginx, -0.4321)
    answers = [get(nginx.url + path) for _ in range(5)]
    assert [a[1]["x-cache-status"] for a in answers] == ["MISS"] + ["HIT"] * 4
    assert len({a[2] for a in answers}) == 1
    # a replica writes its log line once its answer is sent: wait for the line, then count
    deadline = time.monotonic() + 10
    while sum(seen_by(r, path) for r in replicas) < 1:
        assert time.monotonic() < deadline, "no replica logged the request"
        time.sleep(0.05)
    assert sum(seen_by(r, path) for r in replicas) == 1


def test_a_replica_killed_under_load_costs_no_failed_request(topology):
    nginx, replicas = topology
    victim = replicas[0]

    def kill():
        os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)

    statuses = under_load(nginx, kill)
    assert len(statuses) > 20
    assert set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    assert victim.process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_a_replica_stopped_with_sigterm_drains(topology):
    nginx, replicas = topology
    stopping = replicas[1]
    codes = []

    def terminate():
        stopping.process.send_signal(signal.SIGTERM)
        codes.append(stopping.process.wait(timeout=30))

    statuses = under_load(nginx, terminate)
    assert len(statuses) > 20
    assert set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    assert codes == [0]
    assert "Traceback" not in stopping.output()
