"""The text access log cannot be forged: a request's path is written as it was sent, with any
byte that could end a line or hide in it escaped (the real server, its real log)."""

import pytest

from tests.test_web_overload import wait_for
from tests.web_server import raw_get, serving, zoo_of


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh")


def test_an_encoded_newline_or_nul_in_a_path_writes_one_escaped_line(zoo, tmp_path):
    forged = "%0A6.6.6.6%20%22GET%20/admin%20HTTP/1.1%22%20200%201%201.0ms"
    with serving(["--models", str(zoo), "--access-log", "text"], tmp_path) as server:
        status, _, _ = raw_get(f"{server.url}/static/x{forged}", source="127.0.0.7")
        assert status == 404
        status, _, _ = raw_get(f"{server.url}/static/y%00z?q=%0D%0A", source="127.0.0.7")
        assert status == 404
        wait_for(lambda: server.output().count("127.0.0.7 ") == 2, "the two requests' log lines")
        log = server.output()
    lines = [line for line in log.splitlines() if "/static/" in line]
    assert lines[0].startswith(f'127.0.0.7 "GET /static/x{forged} HTTP/1.1" 404 '), lines
    assert lines[1].startswith('127.0.0.7 "GET /static/y%00z?q=%0D%0A HTTP/1.1" 404 '), lines
    assert not any(line.startswith("6.6.6.6") for line in log.splitlines())
    assert "\x00" not in log and "\r" not in log
