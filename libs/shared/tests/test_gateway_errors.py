"""shared.gateway_errors: the bodies Traefik's errors middleware puts on the gateway's own 413/429."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import ThreadingHTTPServer

import pytest
from shared.errors import normalize_extra
from shared.gateway_errors import RETRY_AFTER_SECONDS, Handler


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, dict(r.headers), json.loads(r.read())


@pytest.mark.parametrize("status", [413, 429])
def test_the_api_error_shape_for_the_gateways_statuses(server, status):
    code, headers, body = get(f"{server}/{status}")
    assert code == 200  # Traefik keeps the original status; only the body and headers are taken
    assert headers["Content-Type"] == "application/json"
    # `extra` in the shape the services give the same kind (shared.errors)
    assert body == {"statusCode": status, "detail": body["detail"], "extra": body["extra"]}
    assert body["extra"] == normalize_extra(status, body["detail"], body["extra"])
    assert body["extra"] == ({"retryAfter": RETRY_AFTER_SECONDS} if status == 429 else {"maxBytes": None})
    assert "too" in body["detail"]
    assert ("Retry-After" in headers) is (status == 429)
    assert "Server" not in headers


def test_an_unknown_path_is_a_404_body(server):
    assert get(f"{server}/not-a-status")[2]["statusCode"] == 404
    assert get(f"{server}/not-a-status")[2]["extra"] == {"resource": None, "ids": []}
    assert get(f"{server}/200")[2]["statusCode"] == 404  # not an error status
    assert get(f"{server}/503?url=/api/v1/x")[2] == {
        "statusCode": 503,
        "detail": "Service Unavailable",
        "extra": None,
    }
