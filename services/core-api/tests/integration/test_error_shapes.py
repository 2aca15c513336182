"""One `extra` shape per kind of error (issue 15), checked on live answers against the OpenAPI.

Each kind is provoked for real (validation, authentication, role, not found, conflicts of several
reasons, body size, media type, idempotency, rate limit) and the body must validate against the
component schema its operation documents for that status — the schema a client codes against.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from core_api.server.app import create_app
from litestar.testing import AsyncTestClient
from shared.errors import normalize_extra

SHAPES = {
    400: "ValidationError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    409: "ConflictError",
    413: "TooLargeError",
    415: "UnsupportedMediaTypeError",
    422: "IdempotencyError",
    429: "RateLimitError",
}


@pytest.fixture
async def spec(core_client):
    return (await core_client.get("/api/v1/docs/openapi.json")).json()


def check(spec: dict[str, Any], method: str, path: str, r: httpx.Response) -> dict[str, Any]:
    """The answer validates against the schema documented for (operation, status), which is the
    status's one shape."""
    status = str(r.status_code)
    documented = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    assert documented == {"$ref": f"#/components/schemas/{SHAPES[r.status_code]}"}, (method, path, status)
    validator = jsonschema.Draft202012Validator({**documented, "components": spec["components"]})
    body = r.json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, (method, path, body, errors)
    assert body["statusCode"] == r.status_code and body["detail"]
    return body


async def test_validation_is_a_list_of_key_message_source(core_client, make_tenant, spec):
    t = await make_tenant()
    r = await core_client.post("/api/v1/regioes", json={"descricao": 5}, headers=t.admin_headers)
    assert r.status_code == 400
    extra = check(spec, "post", "/api/v1/regioes", r)["extra"]
    assert {e["key"] for e in extra} >= {"nome"} and all(e["source"] == "body" for e in extra), extra
    # a rule of the domain (not of the schema) answers the same shape
    r = await core_client.get(
        "/api/v1/ocupacao", params={"inicio": "2027-03-10", "fim": "2027-03-01"}, headers=t.user_headers
    )
    assert r.status_code == 400
    assert check(spec, "get", "/api/v1/ocupacao", r)["extra"] == [
        {"key": "fim", "message": "fim is before inicio", "source": "query"}
    ]
    # a bad header too
    r = await core_client.post(
        "/api/v1/regioes", json={"nome": "X"}, headers={**t.admin_headers, "Idempotency-Key": "a b"}
    )
    assert r.status_code == 400
    assert check(spec, "post", "/api/v1/regioes", r)["extra"][0] == {
        "key": "Idempotency-Key",
        "message": r.json()["detail"],
        "source": "header",
    }


async def test_authentication_says_nothing_and_role_names_the_role(core_client, make_tenant, spec):
    t = await make_tenant()
    r = await core_client.get("/api/v1/regioes")
    assert r.status_code == 401 and check(spec, "get", "/api/v1/regioes", r)["extra"] is None
    r = await core_client.get("/api/v1/regioes", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and check(spec, "get", "/api/v1/regioes", r)["extra"] is None
    r = await core_client.get("/api/v1/users", headers=t.user_headers)
    assert r.status_code == 403
    assert check(spec, "get", "/api/v1/users", r)["extra"] == {"requiredRole": "admin"}


async def test_not_found_names_the_resource_and_ids(core_client, make_tenant, spec):
    t = await make_tenant()
    missing = "0" * 24
    r = await core_client.get(f"/api/v1/regioes/{missing}", headers=t.user_headers)
    assert r.status_code == 404
    assert check(spec, "get", "/api/v1/regioes/{regiao_id}", r)["extra"] == {
        "resource": "região",
        "ids": [missing],
    }
    r = await core_client.get("/api/v1/pis/not-an-id", headers=t.user_headers)
    assert r.status_code == 404
    assert check(spec, "get", "/api/v1/pis/{pi_id}", r)["extra"] == {"resource": "PI", "ids": ["not-an-id"]}


async def test_conflicts_give_a_reason_and_what_they_collide_with(
    core_client, make_tenant, make_inventario, spec
):
    t = await make_tenant()
    body = {"nome": f"Zona {uuid.uuid4().hex[:6]}"}
    assert (await core_client.post("/api/v1/regioes", json=body, headers=t.admin_headers)).status_code == 201
    r = await core_client.post("/api/v1/regioes", json=body, headers=t.admin_headers)
    assert r.status_code == 409
    assert check(spec, "post", "/api/v1/regioes", r)["extra"] == {
        "reason": "duplicate",
        "conflicts": [
            {"resource": "região", "id": None, "field": "nome", "status": None, "label": None, "count": None}
        ],
    }

    inv = make_inventario(t, placas=2)
    periodo = {"inicio": "2031-03-01", "fim": "2031-03-10"}
    pi = {"clienteId": inv.cliente_ids[0], "placaIds": inv.placa_ids, "produto": "X", **periodo}
    assert (await core_client.post("/api/v1/pis", json=pi, headers=t.user_headers)).status_code == 201
    r = await core_client.post("/api/v1/pis", json=pi, headers=t.user_headers)
    assert r.status_code == 409
    extra = check(spec, "post", "/api/v1/pis", r)["extra"]
    assert extra["reason"] == "taken"
    assert sorted((c["resource"], c["id"], c["label"]) for c in extra["conflicts"]) == sorted(
        ("placa", pid, inv.numeros[pid]) for pid in inv.placa_ids
    )

    r = await core_client.delete(f"/api/v1/regioes/{inv.regiao_ids[0]}", headers=t.admin_headers)
    assert r.status_code == 409
    extra = check(spec, "delete", "/api/v1/regioes/{regiao_id}", r)["extra"]
    assert extra["reason"] == "in_use" and extra["conflicts"][0]["resource"] == "placa"
    assert extra["conflicts"][0]["count"] == 2


async def test_state_conflict_names_the_status(core_client, make_tenant, make_inventario, spec):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    pi = {
        "clienteId": inv.cliente_ids[0],
        "placaIds": inv.placa_ids,
        "produto": "X",
        "inicio": "2031-05-01",
        "fim": "2031-05-10",
    }
    created = (await core_client.post("/api/v1/pis", json=pi, headers=t.user_headers)).json()
    assert (
        await core_client.post(f"/api/v1/pis/{created['id']}/cancel", headers=t.user_headers)
    ).status_code == 200
    r = await core_client.post(f"/api/v1/pis/{created['id']}/cancel", headers=t.user_headers)
    assert r.status_code == 409
    extra = check(spec, "post", "/api/v1/pis/{pi_id}/cancel", r)["extra"]
    assert extra["reason"] == "state"
    assert extra["conflicts"][0] | {"id": None} == {
        "resource": "pi",
        "id": None,
        "field": None,
        "status": "cancelada",
        "label": None,
        "count": None,
    }


async def test_size_media_type_and_idempotency(core_client, make_tenant, make_inventario, spec):
    t = await make_tenant()
    r = await core_client.put(
        "/api/v1/empresa/logo", content=b"hello", headers={**t.admin_headers, "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    assert check(spec, "put", "/api/v1/empresa/logo", r)["extra"] == {"accepted": ["image/jpeg", "image/png"]}
    r = await core_client.put(
        "/api/v1/empresa/logo",
        content=b"\x89PNG" + b"0" * 300_000,
        headers={**t.admin_headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 413
    assert isinstance(check(spec, "put", "/api/v1/empresa/logo", r)["extra"]["maxBytes"], int)

    inv = make_inventario(t, placas=1)
    headers = {**t.user_headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    body = {"clienteId": inv.cliente_ids[0], "placaId": inv.placa_ids[0], "valorCentavos": 1}
    first = {**body, "inicio": "2031-07-01", "fim": "2031-07-02"}
    assert (await core_client.post("/api/v1/alugueis", json=first, headers=headers)).status_code == 201
    r = await core_client.post("/api/v1/alugueis", json={**first, "fim": "2031-07-03"}, headers=headers)
    assert r.status_code == 422
    assert check(spec, "post", "/api/v1/alugueis", r)["extra"] == {
        "header": "Idempotency-Key",
        "reason": "key_reused",
    }


async def test_rate_limit_says_when_to_retry(core_settings, spec):
    settings = core_settings.model_copy(update={"login_max_failures_per_account": 1})
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    async with AsyncTestClient(create_app(settings)) as client:
        statuses = []
        for _ in range(3):
            r = await client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password-1"})
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    extra = check(spec, "post", "/api/v1/auth/login", r)["extra"]
    assert extra["retryAfter"] == int(r.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("status", "given", "expected"),
    [
        (400, None, [{"key": None, "message": "bad", "source": None}]),
        (400, {"inicio": "x"}, [{"key": "inicio", "message": "bad", "source": None}]),
        (401, {"anything": 1}, None),
        (403, None, {"requiredRole": None}),
        (404, None, {"resource": None, "ids": []}),
        (409, {"status": "cancelada"}, {"reason": "conflict", "conflicts": []}),
        (413, None, {"maxBytes": None}),
        (429, None, {"retryAfter": None}),
        (503, {"reason": "transient"}, {"reason": "transient", "retryAfter": None}),
        (503, None, {"reason": "unavailable", "retryAfter": None}),
        (405, {"x": 1}, None),
    ],
)
def test_whatever_a_raise_site_passes_the_answer_has_its_kinds_shape(status, given, expected):
    """The safety net at the exception handler (shared.errors.normalize_extra)."""
    assert normalize_extra(status, "bad", given) == expected
