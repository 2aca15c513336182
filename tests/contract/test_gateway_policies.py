"""Gateway policies through a real Traefik and a real nginx (generated from the same route list): rate
limits, body limit, the gateway's own errors in the API's error shape, security headers on every route,
internal-only metrics, request ids in the access log, per-service Prometheus series (Traefik)."""

from __future__ import annotations

import re
import uuid
from collections import Counter

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
    "core-api (pdf-jobs)": ("GET", f"/api/v1/pdf-jobs/{OID}"),
}


def assert_security_headers(response: httpx.Response) -> None:
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, (header, response.request.url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


def assert_error_shape(response: httpx.Response, status: int) -> None:
    """The gateway's own answer in the API's error shape, not the gateway's plain text."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["statusCode"] == status and isinstance(body["detail"], str) and body["detail"]
    assert "extra" in body


@pytest.fixture(params=["traefik", "nginx"])
def strict_gateway(request, stack):
    """A private gateway with small limits: 5 requests burst on the API, 3 logins, 1 KiB bodies."""
    factory = request.getfixturevalue("gateway_factory" if request.param == "traefik" else "nginx_factory")
    return factory(
        stack.env["CORE_API_URL"],
        stack.env["PDF_SERVICE_URL"],
        GATEWAY_RATE_AVERAGE="5",
        GATEWAY_RATE_BURST="5",
        GATEWAY_LOGIN_RATE_AVERAGE="3",
        GATEWAY_LOGIN_RATE_BURST="3",
        GATEWAY_MAX_BODY_BYTES="1024",
    )


@pytest.mark.parametrize("route", list(ROUTES))
def test_security_headers_on_every_route(front, route):
    method, path = ROUTES[route]
    r = httpx.request(method, front.gateway + path, json={} if method == "POST" else None)
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
    assert_error_shape(limited[0], 429)


def test_login_has_its_own_stricter_limit(strict_gateway):
    with httpx.Client(base_url=strict_gateway.url) as client:
        # an account of its own: core-api's per-account throttling (5 failures) must not answer first
        email = f"{uuid.uuid4().hex[:8]}@b.c"
        answers = [
            client.post("/api/v1/auth/login", json={"email": email, "password": "x"}) for _ in range(8)
        ]
        logins = [r.status_code for r in answers]
        last = answers[-1]
        other = client.get("/api/v1/pdf-service/health").status_code
    assert logins[:3].count(429) == 0 and logins.count(429) >= 4, (logins, answers[2].text)
    assert_error_shape(last, 429)
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
    assert_error_shape(big, 413)
    [entry] = strict_gateway.access_entries({"too-big"})
    # never reached a backend
    if strict_gateway.kind == "nginx":
        assert entry["upstream"] == "" and entry["status"] == 413
    else:
        # the only service asked is gateway-errors (for the body of the 413)
        assert entry.get("ServiceName") in (None, "gateway-errors@file"), entry
        assert entry.get("RequestContentSize", 0) == 0 or entry.get("OriginStatus") != 413
    small = httpx.post(strict_gateway.url + "/api/v1/auth/login", json={"email": "a@b.c", "password": "x"})
    assert small.status_code != 413


@pytest.mark.parametrize("path", ["/metrics", "/metrics/core-api", "/metrics/pdf-service", "/api/v1/metrics"])
def test_metrics_not_reachable_on_the_public_entry_point(front, path):
    r = httpx.get(front.gateway + path)
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


def test_swagger_docs_fit_the_content_security_policy(front):
    for path in ("/api/v1/docs", "/api/v1/pdf-service/docs"):
        page = httpx.get(front.gateway + path)
        assert page.status_code == 200
        csp = dict(
            part.strip().split(" ", 1)
            for part in page.headers["content-security-policy"].split(";")
            if part.strip()
        )
        # every script and stylesheet comes from this origin ('self'); the init script is inline
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text):
            assert src.startswith("/"), src
            assert httpx.get(front.gateway + src).status_code == 200, src
        assert "'self'" in csp["script-src"] and "'unsafe-inline'" in csp["script-src"]
        assert re.search(r"<script[^>]*>\s*\S", page.text)  # an inline init script, which CSP must allow
        assert "'self'" in csp["connect-src"]  # Swagger UI fetches openapi.json


@pytest.mark.parametrize("service", ["core-api", "pdf-service"])
def test_nginx_service_metrics_only_on_the_internal_side(stack, nginx_factory, service):
    gw = nginx_factory(stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"])
    rid = f"metrics-{uuid.uuid4().hex[:8]}"
    r = httpx.get(f"{gw.internal}/metrics/{service}", headers={"X-Request-ID": rid})
    [entry] = gw.access_entries({rid})
    port = stack.env["CORE_API_URL" if service == "core-api" else "PDF_SERVICE_URL"].rsplit(":", 1)[1]
    assert entry["upstream"].endswith(f":{port}")  # answered by that service (it checks Basic Auth)
    assert r.status_code in (200, 401)
    assert httpx.get(f"{gw.url}/metrics/{service}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/internal%2Fdocumentos",  # would be /api/v1/internal/... once decoded
        "/api/v1/pdf-service%2F..%2F..%2Fmetrics",
        "/api/v1/auth%2Flogin",
        "/api/v1/health%5C..%5Cinternal",
        "/api/v1/%5cinternal",
    ],
)
def test_encoded_slashes_and_backslashes_in_the_path_are_refused(front, path):
    r = httpx.get(front.gateway + path)
    assert r.status_code == 400, r.text  # Traefik: entryPoints.web.http.encodedCharacters (traefik.yml)
    if front.kind == "nginx":
        assert_error_shape(r, 400)


def test_encoded_slash_in_the_query_string_is_fine(front):
    r = httpx.get(front.gateway + "/api/v1/health?next=%2Fapi%2Fv1%5Cx")
    assert r.status_code == 200


def test_nginx_pdf_split_and_rollback(stack, nginx_factory):
    """The weighted PDF split (split_clients): 0 % all core-api, 100 % all pdf-service, 50 % both; back
    to 0 % (rollback) after a reload without restarting nginx."""
    core = stack.env["CORE_API_URL"].removeprefix("http://")
    pdf = stack.env["PDF_SERVICE_URL"].removeprefix("http://")
    gw = nginx_factory(
        stack.env["CORE_API_URL"],
        stack.env["PDF_SERVICE_URL"],
        GATEWAY_RATE_AVERAGE="100000",
        GATEWAY_RATE_BURST="100000",
    )
    paths = [f"/api/v1/pis/{OID}/pdf", f"/api/v1/contratos/{OID}/pdf"] * 10
    assert gw.upstreams(paths) == {core: 20}

    def wait_for(expected):
        import time

        deadline = time.monotonic() + 15
        while True:
            seen = gw.upstreams(paths)
            if expected(seen) or time.monotonic() > deadline:
                return seen

    gw.set_pdf_share(100)
    assert wait_for(lambda s: s == {pdf: 20}) == {pdf: 20}
    gw.set_pdf_share(50)
    seen = wait_for(lambda s: s[pdf] > 0 and s[core] > 0)
    assert seen[pdf] > 0 and seen[core] > 0, seen
    gw.set_pdf_share(0)  # rollback
    assert wait_for(lambda s: s == {core: 20}) == {core: 20}
    assert gw.nginx.proc.poll() is None  # reloaded, never restarted


def test_nginx_balances_over_every_server_of_a_service(stack, nginx_factory):
    """Round robin over the upstream's servers: core-api's upstream given two servers (core-api and,
    as a stand-in second server, pdf-service — both answer /api/v1/health with their name)."""
    gw = nginx_factory(
        [stack.env["CORE_API_URL"], stack.env["PDF_SERVICE_URL"]],
        stack.env["PDF_SERVICE_URL"],
        GATEWAY_RATE_AVERAGE="100000",
        GATEWAY_RATE_BURST="100000",
    )
    with httpx.Client(base_url=gw.url, timeout=10) as client:
        served = Counter(client.get("/api/v1/health").json()["service"] for _ in range(10))
    assert served == {"core-api": 5, "pdf-service": 5}, served


def test_nginx_skips_a_server_that_is_down(stack, nginx_factory):
    """A dead server (nothing listening) costs no client an error: nginx tries the next one."""
    from devstack.servers import free_port

    gw = nginx_factory(
        [f"http://127.0.0.1:{free_port()}", stack.env["CORE_API_URL"]],
        stack.env["PDF_SERVICE_URL"],
        GATEWAY_RATE_AVERAGE="100000",
        GATEWAY_RATE_BURST="100000",
    )
    with httpx.Client(base_url=gw.url, timeout=10) as client:
        statuses = [client.get("/api/v1/health").status_code for _ in range(6)]
    assert statuses == [200] * 6
