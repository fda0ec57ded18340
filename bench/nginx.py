"""Debian's nginx as the load balancer and proxy cache in front of ``app.py serve`` replicas:
the configuration (the same as docs/deploy.md shows), and a running nginx on it.

Used by ``bench web --behind-nginx N`` and by tests/test_web_nginx.py. nginx balances the
replicas round-robin over keep-alive connections, tries the other replica when one refuses,
resets or answers 502/503 (``proxy_next_upstream``: every request of the API is a GET, so a
retry is safe), and keeps the versioned sounds and maps in its cache as their
``Cache-Control`` says (a year, ``immutable``); unversioned answers (``no-cache``) go through.
"""

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {folder}/access.log;
    # a client's keep-alive connection is not closed after nginx's default 1,000 requests
    keepalive_requests 100000;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    proxy_cache_path {folder}/cache levels=1:2 keys_zone=sounds:20m max_size=2g inactive=7d use_temp_path=off;
    upstream replicas {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_cache sounds;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
        location = /metrics {{ return 404; }}
    }}
}}
"""


def nginx_config(folder, port, replica_ports):
    """The configuration text for nginx on ``port`` in front of ``replica_ports``."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in replica_ports)
    # as root, nginx's workers would run as nobody, who cannot write into a private folder
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return CONFIG.format(user=user, folder=folder, port=port, servers=servers)


class Nginx:
    """nginx running on :func:`nginx_config` in ``folder`` (its own temp, cache and logs)."""

    def __init__(self, folder, port, replica_ports):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = self.folder / "nginx.conf"
        config.write_text(nginx_config(self.folder, port, replica_ports))
        self.process = subprocess.Popen(
            [NGINX, "-c", str(config), "-p", str(self.folder), "-e", str(self.folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.errors()}") from None
                time.sleep(0.1)

    def errors(self):
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
