"""Gateway policies through a real Traefik: rate limits, body limit, security headers on every route,
internal-only metrics, request ids in the access log, per-service Prometheus series."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

OID = "65a000000000000000000001"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
#: one path per public router of gateway/dynamic/routes.yml
ROUTES = {
    "core-api": ("GET", "/api/v1/health"),
    "core-api (unknown path)": ("GET", "/api/v1/no-such-route"),
    "auth-login": ("POST", "/api/v1/auth/login"),
    "pdf-service": ("GET", "/api/v1/pdf-service/health"),
    "pdf-documents (pi)": ("GET", f"/api/v1/pis/{OID}/pdf"),
    "pdf-documents (contrato)": ("GET", f"/api/v1/contratos/{OID}/pdf"),
    "pdf-jobs": ("GET", f"/api/v1/pdf-jobs/{OID}"),
}


def assert_security_headers(response: httpx.Response) -> None:
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, (header, response.request.url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


@pytest.fixture
def strict_gateway(stack, gateway_factory):
    """A private gateway with small limits: 5 requests burst on the API, 3 logins, 1 KiB bodies."""
    return gateway_factory(
        stack.env["CORE_API_URL"],
        stack.env["PDF_SERVICE_URL"],
        GATEWAY_RATE_AVERAGE="5",
        GATEWAY_RATE_BURST="5",
        GATEWAY_LOGIN_RATE_AVERAGE="3",
        GATEWAY_LOGIN_RATE_BURST="3",
        GATEWAY_MAX_BODY_BYTES="1024",
    )


@pytest.mark.parametrize("route", list(ROUTES))
def test_security_headers_on_every_route(stack, route):
    method, path = ROUTES[route]
    r = httpx.request(method, stack.gateway + path, json={} if method == "POST" else None)
    assert r.status_code != 404 or path.endswith("no-such-route") or "pdf" in path, r.status_code
    assert_security_headers(r)


def test_rate_limit_answers_429_with_retry_after(strict_gateway):
    with httpx.Client(base_url=strict_gateway.url) as client:
        statuses = [client.get("/api/v1/health") for _ in range(30)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert sum(r.status_code == 200 for r in statuses) >= 3  # the burst passes (less the readiness probe)
    retry_after = limited[0].headers.get("retry-after")
    assert retry_after and retry_after.isdigit() and int(retry_after) >= 1
    assert_security_headers(limited[0])


def test_login_has_its_own_stricter_limit(strict_gateway):
    with httpx.Client(base_url=strict_gateway.url) as client:
        logins = [
            client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"}).status_code
            for _ in range(8)
        ]
        other = client.get("/api/v1/pdf-service/health").status_code
    assert logins[:3].count(429) == 0 and logins.count(429) >= 4, logins
    # the login bucket is separate: the rest of the API is still served
    assert other == 200


def test_body_over_the_limit_is_413_before_any_service(strict_gateway):
    big = httpx.post(
        strict_gateway.url + "/api/v1/auth/login",
        content=b'{"email": "' + b"a" * 4096 + b'"}',
        headers={"content-type": "application/json", "X-Request-ID": "too-big"},
    )
    assert big.status_code == 413
    assert_security_headers(big)
    [entry] = strict_gateway.access_entries({"too-big"})
    assert "ServiceName" not in entry or entry.get("OriginStatus", 0) == 0  # never reached a backend
    small = httpx.post(strict_gateway.url + "/api/v1/auth/login", json={"email": "a@b.c", "password": "x"})
    assert small.status_code != 413


@pytest.mark.parametrize("path", ["/metrics", "/metrics/core-api", "/metrics/pdf-service", "/api/v1/metrics"])
def test_metrics_not_reachable_on_the_public_entry_point(stack, path):
    r = httpx.get(stack.gateway + path)
    assert r.status_code == 404
    assert "traefik_" not in r.text and "# TYPE" not in r.text


@pytest.mark.parametrize("service", ["core-api", "pdf-service"])
def test_service_metrics_reachable_on_the_internal_entry_point(stack, gateway_factory, service):
    gw = gateway_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"])
    rid = f"metrics-{uuid.uuid4().hex[:8]}"
    r = httpx.get(f"{gw.internal}/metrics/{service}", headers={"X-Request-ID": rid})
    [entry] = gw.access_entries({rid})
    # answered by the service itself (200 with credentials, 401 without, 404 until it has /metrics)
    assert entry["ServiceName"] == f"{service}@file"
    assert entry["RouterName"] == f"metrics-{service}@file"
    assert entry["entryPointName"] == "internal"
    assert r.status_code in (200, 401, 404)
    assert "traefik_service_requests_total" not in r.text


def test_traefik_metrics_have_per_service_series(stack, gateway_factory):
    gw = gateway_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"])
    gw.served_by(["/api/v1/health", "/api/v1/pdf-service/health", f"/api/v1/pis/{OID}/pdf"])
    text = httpx.get(gw.internal + "/metrics").text
    for service in ("core-api@file", "pdf-service@file"):
        assert re.search(rf'traefik_service_requests_total\{{[^}}]*service="{service}"', text), service
        assert re.search(
            rf'traefik_service_request_duration_seconds_bucket\{{[^}}]*service="{service}"', text
        )
    assert 'router="pdf-documents@file"' in text


def test_request_id_in_the_access_log(stack, gateway_factory):
    gw = gateway_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"])
    given = httpx.get(gw.url + "/api/v1/health", headers={"X-Request-ID": "given-id-1"})
    assert given.headers["x-request-id"] == "given-id-1"
    made = httpx.get(gw.url + "/api/v1/health?no-id")
    made_id = made.headers["x-request-id"]
    assert made_id
    entries = [e for e in gw.access_entries({"given-id-1"})]
    assert entries[0]["downstream_X-Request-Id"] == "given-id-1"
    # without a client id, the service's own id is what the gateway logs (downstream header)
    lines = gw.access_log.read_text().splitlines()
    assert any(made_id in line and '"downstream_X-Request-Id"' in line for line in lines)


def test_swagger_docs_fit_the_content_security_policy(stack):
    for path in ("/api/v1/docs", "/api/v1/pdf-service/docs"):
        page = httpx.get(stack.gateway + path)
        assert page.status_code == 200
        csp = dict(
            part.strip().split(" ", 1)
            for part in page.headers["content-security-policy"].split(";")
            if part.strip()
        )
        # every script and stylesheet comes from this origin ('self'); the init script is inline
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text):
            assert src.startswith("/"), src
            assert httpx.get(stack.gateway + src).status_code == 200, src
        assert "'self'" in csp["script-src"] and "'unsafe-inline'" in csp["script-src"]
        assert re.search(r"<script[^>]*>\s*\S", page.text)  # an inline init script, which CSP must allow
        assert "'self'" in csp["connect-src"]  # Swagger UI fetches openapi.json
