"""Idempotency-Key: replay, refusal of a reused key, expiry, scope and the OpenAPI declaration.

(The 20-concurrent-requests case runs against a real server in test_one_winner.py.)"""

from __future__ import annotations

import uuid
from datetime import timedelta

from core_api.lib.documents import utcnow
from core_api.lib.idempotency import COLLECTION, prune


def aluguel(inv, dia: int = 1) -> dict:
    return {
        "placaId": inv.placa_ids[0],
        "clienteId": inv.cliente_ids[0],
        "valorCentavos": 1000,
        "inicio": f"2027-04-{dia:02d}T00:00:00-03:00",
        "fim": f"2027-04-{dia + 2:02d}T00:00:00-03:00",
    }


async def test_a_retry_replays_the_first_answer_and_creates_nothing(
    core_client, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    headers = {**t.user_headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await core_client.post("/api/v1/alugueis", json=aluguel(inv), headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    retry = await core_client.post("/api/v1/alugueis", json=aluguel(inv), headers=headers)
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert await raw_db["alugueis"].count_documents({}) == 1
    # without a key the same body is a new request: the days are taken now
    again = await core_client.post("/api/v1/alugueis", json=aluguel(inv), headers=t.user_headers)
    assert again.status_code == 409


async def test_an_error_answer_is_replayed_too(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    body = {**aluguel(inv), "placaId": "0" * 24}
    headers = {**t.user_headers, "Idempotency-Key": "k-404"}
    first = await core_client.post("/api/v1/alugueis", json=body, headers=headers)
    second = await core_client.post("/api/v1/alugueis", json=body, headers=headers)
    assert first.status_code == second.status_code == 404
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"


async def test_the_same_key_for_another_request_is_422(core_client, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    headers = {**t.user_headers, "Idempotency-Key": "reused"}
    assert (
        await core_client.post("/api/v1/alugueis", json=aluguel(inv, 1), headers=headers)
    ).status_code == 201
    other = await core_client.post("/api/v1/alugueis", json=aluguel(inv, 10), headers=headers)
    assert other.status_code == 422
    assert other.json()["extra"] == {"header": "Idempotency-Key", "reason": "key_reused"}
    other_path = await core_client.post("/api/v1/clientes", json={"nome": "X"}, headers=headers)
    assert other_path.status_code == 422
    assert await raw_db["alugueis"].count_documents({}) == 1


async def test_keys_are_per_empresa(core_client, make_tenant):
    a, b = await make_tenant("A"), await make_tenant("B")
    body = {"nome": "Centro"}
    ra = await core_client.post(
        "/api/v1/regioes", json=body, headers={**a.admin_headers, "Idempotency-Key": "same"}
    )
    rb = await core_client.post(
        "/api/v1/regioes", json=body, headers={**b.admin_headers, "Idempotency-Key": "same"}
    )
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"] and "idempotent-replayed" not in rb.headers


async def test_an_expired_key_runs_again_and_prune_removes_old_answers(
    core_client, make_tenant, raw_db, in_app_loop
):
    t = await make_tenant()
    headers = {**t.admin_headers, "Idempotency-Key": "old"}
    first = await core_client.post("/api/v1/regioes", json={"nome": "Norte"}, headers=headers)
    assert first.status_code == 201
    await raw_db[COLLECTION].update_many({}, {"$set": {"keep_until": utcnow() - timedelta(seconds=1)}})
    # past its keep_until the key is free: the request runs (409: the name exists now)
    second = await core_client.post("/api/v1/regioes", json={"nome": "Norte"}, headers=headers)
    assert second.status_code == 409 and "idempotent-replayed" not in second.headers
    await raw_db[COLLECTION].update_many({}, {"$set": {"keep_until": utcnow() - timedelta(seconds=1)}})
    assert in_app_loop(lambda: prune(core_client.app.state.db)) == 1
    assert await raw_db[COLLECTION].count_documents({}) == 0


async def test_a_malformed_key_is_a_clear_400(core_client, make_tenant):
    t = await make_tenant()
    r = await core_client.post(
        "/api/v1/regioes", json={"nome": "Sul"}, headers={**t.admin_headers, "Idempotency-Key": "x" * 256}
    )
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]


async def test_openapi_declares_the_header_on_posts_only(core_client):
    schema = (await core_client.get("/api/v1/docs/openapi.json")).json()
    with_header, without = [], []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "header"}
            (with_header if "Idempotency-Key" in names else without).append((method, path))
    assert ("post", "/api/v1/alugueis") in with_header
    assert ("post", "/api/v1/pis/{pi_id}/cancel") in with_header
    assert ("post", "/api/v1/auth/register") in with_header
    assert ("post", "/api/v1/auth/login") in without and ("post", "/api/v1/auth/refresh") in without
    assert all(method == "post" for method, _ in with_header)
