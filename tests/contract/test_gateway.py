"""The gateway routes each service, adds security headers and keeps internals off the public port.
Every test taking `front` runs twice: against Traefik and against nginx (the alternative gateway)."""

import httpx
import pytest

SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}

HEALTH_PATHS = {"core-api": "/api/v1/health", "pdf-service": "/api/v1/pdf-service/health"}


@pytest.mark.parametrize("service", list(HEALTH_PATHS))
def test_health_through_gateway(front, service):
    r = httpx.get(front.gateway + HEALTH_PATHS[service])
    assert r.status_code == 200
    assert r.json()["service"] == service
    ready = httpx.get(front.gateway + HEALTH_PATHS[service] + "/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"mongodb": "ok", "redis": "ok"}


def test_security_headers_and_request_id(front):
    r = httpx.get(front.gateway + "/api/v1/health", headers={"X-Request-ID": "contract-1"})
    for header, value in SECURITY_HEADERS.items():
        assert r.headers.get(header) == value, header
    assert "default-src" in r.headers["content-security-policy"]
    assert r.headers["x-request-id"] == "contract-1"


def test_internals_only_on_the_internal_side(front):
    for path in ("/metrics", "/dashboard/", "/ping", "/metrics/core-api"):
        assert httpx.get(front.gateway + path).status_code == 404, path
    assert httpx.get(front.internal + "/ping").status_code == 200


def test_traefik_internals_only_on_internal_entry_point(stack):
    metrics = httpx.get(stack.internal + "/metrics")
    assert metrics.status_code == 200
    assert "traefik_service_requests_total" in metrics.text


def test_docs_through_gateway(front):
    for path in ("/api/v1/docs", "/api/v1/pdf-service/docs"):
        r = httpx.get(front.gateway + path)
        assert r.status_code == 200, path
        assert "swagger-ui-bundle.js" in r.text
