"""The gateway's retry middleware (gateway/dynamic/routes.yml `retry`), on a real Traefik (issue 12).

`make up` restarts a dead process under supervisord; meanwhile its port refuses connections, and a
killed uvicorn worker drops the requests it was handling. Through the gateway:

- a request whose connection is refused waits for the backend to come back (any method: nothing
  reached the backend, so a POST is applied once);
- a GET whose backend connection dies mid-request is retried (idempotent); a POST is not replayed
  (it may have been saved): the client gets the 502.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from devstack.gateway import render_gateway
from devstack.servers import free_port, start_traefik


class Backend:
    """A tiny HTTP backend that can go away, come back and drop a connection mid-request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.hits: Counter[str] = Counter()
        #: a POST to /api/v1/dies dies only on its first attempt (else on every attempt)
        self.dies_once = False
        self.bodies: list[bytes] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def _answer(self, status: int) -> None:
                body = b'{"ok": true}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                backend.bodies.append(self.rfile.read(length) if length else b"")
                key = f"{self.command} {self.path}"
                backend.hits[key] += 1
                dies_every_time = self.command == "POST" and not backend.dies_once
                if self.path == "/api/v1/dies" and (dies_every_time or backend.hits[key] == 1):
                    # a worker killed while handling the request: the connection is reset, no answer
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self._answer(201 if self.command == "POST" else 200)

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def start_gateway(tmp_path: Path, backend_port: int, monkeypatch) -> tuple[str, object]:  # noqa: ANN001
    web, internal = free_port(), free_port()
    static = render_gateway(
        tmp_path / "gw", web_port=web, internal_port=internal, keep_rollout=False, health_checks=False
    )
    monkeypatch.setenv("CORE_API_URL", f"http://127.0.0.1:{backend_port}")
    monkeypatch.setenv("PDF_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("GATEWAY_RATE_AVERAGE", "1000")
    monkeypatch.setenv("GATEWAY_RATE_BURST", "1000")
    traefik = start_traefik(static, tmp_path / "gw", web)
    url = f"http://127.0.0.1:{web}"
    deadline = time.monotonic() + 30
    while httpx.get(f"{url}/api/v1/health", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, traefik.log_tail()
        time.sleep(0.1)
    return url, traefik


def test_a_refused_connection_waits_for_the_backend_and_a_post_is_applied_once(
    tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    backend = Backend(free_port())
    backend.start()
    url, traefik = start_gateway(tmp_path, backend.port, monkeypatch)
    try:
        backend.stop()  # the process died; supervisord brings it back 3 s later
        threading.Timer(3.0, backend.start).start()
        with httpx.Client(base_url=url, timeout=60) as client:
            got = client.post("/api/v1/things", json={"a": 1})
            assert got.status_code == 201, got.text
            assert client.get("/api/v1/things").status_code == 200
        assert backend.hits["POST /api/v1/things"] == 1
    finally:
        backend.stop()
        traefik.stop()


def test_a_get_whose_backend_died_mid_request_is_retried_a_post_is_not(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    backend = Backend(free_port())
    backend.start()
    url, traefik = start_gateway(tmp_path, backend.port, monkeypatch)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            got = client.get("/api/v1/dies")
            assert got.status_code == 200, got.text
            assert backend.hits["GET /api/v1/dies"] == 2  # the first attempt died, the retry answered
            posted = client.post("/api/v1/dies", json={"a": 1})
            assert posted.status_code == 502
            assert backend.hits["POST /api/v1/dies"] == 1  # never replayed: it may have been saved
    finally:
        backend.stop()
        traefik.stop()


def test_a_post_with_an_idempotency_key_whose_backend_died_is_replayed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The key makes the replay safe (core-api runs a key once): the gateway retries such a POST."""
    backend = Backend(free_port())
    backend.start()
    url, traefik = start_gateway(tmp_path, backend.port, monkeypatch)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            backend.dies_once = True
            posted = client.post("/api/v1/dies", json={"a": 1}, headers={"Idempotency-Key": "k-1"})
            assert posted.status_code == 201, posted.text
            assert backend.hits["POST /api/v1/dies"] == 2  # the first attempt died, the replay answered
            assert backend.bodies[-1] == b'{"a":1}'  # the body is sent again, whole
            backend.dies_once = False
            without_key = client.post("/api/v1/dies", json={"a": 1})
            assert without_key.status_code == 502  # no key: still never replayed
            assert backend.hits["POST /api/v1/dies"] == 3
    finally:
        backend.stop()
        traefik.stop()
