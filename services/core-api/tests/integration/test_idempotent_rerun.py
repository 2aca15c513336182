"""A request run again under its Idempotency-Key after its first run saved but never answered (issue 12).

A worker killed between saving and keeping the answer leaves the documents but no stored answer;
the gateway replays the POST (it carries the key) on another worker. Here the first run's answer
is removed by hand — exactly what the kill leaves — and the same request is sent again: it must
find what the first run saved (the ids of documents created under a key derive from it) and
answer with it, never create a second one.
"""

from __future__ import annotations

import uuid

from core_api.lib.idempotency import COLLECTION


async def forget_the_answer(raw_db) -> None:  # noqa: ANN001
    """What a worker killed after saving leaves behind: no kept answer (and its lease expired)."""
    await raw_db[COLLECTION].delete_many({})
    await raw_db["leases"].delete_many({"_id": {"$regex": "^idempotency:"}})


async def test_a_cliente_saved_by_a_run_that_never_answered_is_the_answer_of_the_rerun(
    core_client, make_tenant, raw_db
) -> None:  # noqa: ANN001
    t = await make_tenant()
    headers = {**t.user_headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await core_client.post("/api/v1/clientes", json={"nome": "Uma Vez"}, headers=headers)
    assert first.status_code == 201, first.text
    await forget_the_answer(raw_db)
    rerun = await core_client.post("/api/v1/clientes", json={"nome": "Uma Vez"}, headers=headers)
    assert rerun.status_code == 201, rerun.text
    assert rerun.json()["id"] == first.json()["id"]
    assert await raw_db["clientes"].count_documents({"nome": "Uma Vez"}) == 1
    # another key is another request: a second cliente
    other = await core_client.post(
        "/api/v1/clientes", json={"nome": "Uma Vez"}, headers={**t.user_headers, "Idempotency-Key": "other"}
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_a_booking_saved_by_a_run_that_never_answered_is_the_answer_of_the_rerun(
    core_client, make_tenant, make_inventario, raw_db
) -> None:  # noqa: ANN001
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    body = {
        "placaId": inv.placa_ids[0],
        "clienteId": inv.cliente_ids[0],
        "valorCentavos": 1000,
        "inicio": "2027-05-01T00:00:00-03:00",
        "fim": "2027-05-03T00:00:00-03:00",
    }
    headers = {**t.user_headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await core_client.post("/api/v1/alugueis", json=body, headers=headers)
    assert first.status_code == 201, first.text
    await forget_the_answer(raw_db)
    rerun = await core_client.post("/api/v1/alugueis", json=body, headers=headers)
    # not a 409 "days taken" by its own first run: the booking it made
    assert rerun.status_code == 201, rerun.text
    assert rerun.json() == first.json()
    assert await raw_db["alugueis"].count_documents({}) == 1
