"""bench/web.py as the user runs it: a live server on one shipped model, a short load, the
table with its figures, and the server's memory counted over all its processes."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench_web(zoo, *options, timeout=180, **run):
    """``app.py bench web --models ZOO OPTIONS`` as the user runs it: the CompletedProcess."""
    command = [sys.executable, "app.py", "bench", "web", "--models", str(zoo), *map(str, options)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, **run)


def zoo_of(tmp_path, *names):
    """A zoo folder holding the shipped ``names`` (linked)."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    for name in names:
        (zoo / name).symlink_to(ROOT / "trained" / name, target_is_directory=True)
    return zoo


@pytest.mark.slow
def test_bench_web_loads_a_live_server_and_prints_one_row_per_client_count(tmp_path):
    zoo = zoo_of(tmp_path, "ae_small_tanh")
    done = bench_web(zoo, "--model", "ae_small_tanh", "--clients", "2", "4", "--seconds", "1", "--warmup", "0.5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    warm = next(line for line in lines if line.startswith("warm-up: "))
    # the server process alone holds ~64 MB with one dense model; its decoding processes
    # (~55 MB each) count too
    assert float(warm.split("RSS ")[1].split(" ->")[0]) > 120
    rows = [line.split() for line in lines if line.split() and line.split()[0] in ("2", "4")]
    assert [row[0] for row in rows] == ["2", "4"]
    for row in rows:
        requests, errors = int(row[1]), int(row[6])
        assert requests > 0 and errors == 0
    assert lines[-1].startswith("targets: 0 errors")


def test_bench_web_names_the_models_served_when_the_model_is_not(tmp_path):
    zoo = zoo_of(tmp_path, "ae_small_tanh")
    done = bench_web(zoo, "--model", "vae_a", "--seconds", "1")
    assert done.returncode == 2
    assert done.stdout.strip().splitlines()[-1] == "app.py bench web: vae_a is not served; served: ae_small_tanh"


@pytest.mark.slow
def test_bench_web_behind_nginx_runs_random_and_cached_points_with_a_replica_killed(tmp_path):
    import shutil

    import pytest

    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (scripts/system-deps.sh test)")
    zoo = zoo_of(tmp_path, "ae_small_tanh")
    done = bench_web(
        zoo,
        "--model",
        "ae_small_tanh",
        "--behind-nginx",
        "2",
        "--kill-halfway",
        "--clients",
        "4",
        "--seconds",
        "2",
        "--warmup",
        "0.5",
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    random_row = next(line for line in lines if line.strip().startswith("random (1 replica SIGKILLed)"))
    cached_row = next(line for line in lines if line.strip().startswith("repeated (nginx cache)"))
    for row in (random_row, cached_row):
        fields = row.split(")")[-1].split()
        assert int(fields[0]) > 0 and int(fields[5]) == 0  # requests, errors


@pytest.mark.slow
def test_bench_web_overload_sheds_with_retry_after_and_readiness_stays_200_under_1024_open_files(tmp_path):
    import resource

    zoo = zoo_of(tmp_path, "ae_small_tanh")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def systemd_default():  # a service manager's limit, for the bench and the server it starts
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    done = bench_web(
        zoo,
        "--model",
        "ae_small_tanh",
        "--overload",
        "3",
        "--decoders",
        "1",
        "--seconds",
        "1.5",
        "--warmup",
        "0.5",
        preexec_fn=systemd_default,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert "(open-file limit 1024)" in lines[0]
    rows = {line.split()[0]: line.split() for line in lines if line.split()[0] in ("saturation", "overload")}
    assert set(rows) == {"saturation", "overload"}
    for row in rows.values():
        # run, load (2 words), offered/s, requests, 200, 503, shed %, p50, p95, p95 503, max 503, no Retry,
        # errors, readyz 200/probes, worst
        requests, answered, shed, without_retry, errors = (int(row[i]) for i in (4, 5, 6, 12, 13))
        assert requests == answered + shed and requests > 0 and errors == 0 and without_retry == 0
        ready, probes = row[14].split("/")
        assert ready == probes and int(probes) > 0
    readiness = next(line for line in lines if line.startswith("readiness: "))
    count = readiness.split()[1]
    assert readiness.startswith(f"readiness: {count} of {count} probes answered 200") and int(count) > 0
    assert next(line for line in lines if line.startswith("overload: ")).startswith(
        "overload: every 503 with Retry-After; p95 of the answered "
    )
    assert lines[-1].startswith("targets: readiness 200 throughout")


@pytest.mark.slow
def test_bench_web_memory_prints_each_process_and_a_pods_request_and_limit(tmp_path):
    zoo = zoo_of(tmp_path, "ae_small_tanh", "ae_small_relu")
    done = bench_web(zoo, "--memory", "--decoders", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("2 models, 1 worker, 2 decoders")
    rows = {
        line.split()[0] + (line.split()[1] if line.startswith("decoder") else ""): line.split()
        for line in lines
        if line.startswith(("server ", "decoder ", "all "))
    }
    assert set(rows) == {"server", "decoder1", "decoder2", "all"}
    pss = [float(rows[name][-2]) for name in ("server", "decoder1", "decoder2")]
    assert all(value > 20 for value in pss)  # a Python process with NumPy and a model loaded
    assert abs(float(rows["all"][1]) - sum(pss)) < 0.5
    import re

    suggested = re.fullmatch(
        r"suggested for a pod of this server \(2 decoders\): memory request (\d+)Mi \(.*\), "
        r"limit (\d+)Mi \(.*\)",
        lines[-1],
    )
    assert suggested, lines[-1]
    request, limit = (int(value) for value in suggested.groups())
    assert request >= sum(pss) and request % 64 == 0 and limit >= 1.5 * sum(pss) and limit % 64 == 0
