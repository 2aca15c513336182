"""Each service's OpenAPI `servers` + paths reach that service through the real gateway (issue 10:
pdf-service's docs sent "Try it out" to core-api)."""

from __future__ import annotations

import httpx

OID = "65f000000000000000000000"


def _spec(stack, path: str) -> dict:
    r = httpx.get(stack.gateway + path, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _token(stack) -> str:
    import uuid

    email = f"servers-{uuid.uuid4().hex[:10]}@example.com"
    body = {
        "empresa": {"nome": "Servers"},
        "admin": {"nome": "Servers Admin", "email": email, "password": "pass-phrase-1234"},
    }
    assert httpx.post(stack.gateway + "/api/v1/auth/register", json=body, timeout=30).status_code == 202
    r = httpx.post(
        stack.gateway + "/api/v1/auth/login",
        json={"email": email, "password": "pass-phrase-1234"},
        timeout=30,
    )
    return r.json()["accessToken"]


def test_pdf_service_paths_under_its_servers_url_reach_pdf_service(stack):
    spec = _spec(stack, "/api/v1/pdf-service/docs/openapi.json")
    (server,) = spec["servers"]
    base = stack.gateway + server["url"]
    headers = {"Authorization": f"Bearer {_token(stack)}"}
    assert httpx.get(base + "/health").json()["service"] == "pdf-service"
    assert httpx.get(base + "/health/ready").json()["service"] == "pdf-service"
    doc = httpx.get(base + f"/documents/{OID}", headers=headers)
    assert doc.status_code == 404 and "no document" in doc.json()["detail"], doc.text
    # every documented path is routed by the gateway (no 404 from an unmatched route)
    for path in spec["paths"]:
        r = httpx.get(base + path.replace("{", "").replace("}", ""), headers=headers)
        assert r.status_code != 405 and r.headers.get("content-type", "").startswith(
            ("application/", "text/")
        ), path


def test_core_api_paths_under_its_servers_url_reach_core_api(stack):
    spec = _spec(stack, "/api/v1/docs/openapi.json")
    assert [s["url"] for s in spec["servers"]] == ["/"]
    r = httpx.get(stack.gateway + "/api/v1/health")
    assert r.json()["service"] == "core-api"
