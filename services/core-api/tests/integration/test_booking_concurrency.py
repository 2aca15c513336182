"""The invariant: aluguéis of one placa never overlap — under concurrent requests, across app
instances (replicas) and after crashes. Requests are really concurrent: they are gathered on the
app's event loop (see the `concurrently` fixture), so every await interleaves at the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId
from core_api.domain.alugueis.booking import PIS, TZ, Reservas, slot_id
from core_api.domain.pis.models import PI
from core_api.server.app import create_app
from litestar.testing import AsyncTestClient

ALUGUEIS = "/api/v1/alugueis"


def periodo(dia_inicio: int, dias: int) -> dict[str, str]:
    """`dias` whole local days from 2026-03-01 + `dia_inicio` (midnight in São Paulo)."""
    inicio = datetime(2026, 3, 1, tzinfo=TZ) + timedelta(days=dia_inicio)
    return {"inicio": inicio.isoformat(), "fim": (inicio + timedelta(days=dias)).isoformat()}


def pedido(inv, placa: int, dia_inicio: int, dias: int) -> dict:
    return {
        "placaId": inv.placa_ids[placa],
        "clienteId": inv.cliente_ids[0],
        "valorCentavos": 1000,
        **periodo(dia_inicio, dias),
    }


async def assert_one_booking_stored(raw_db, winner_id: str) -> None:
    slots = await raw_db["placa_ocupacoes"].find({}).to_list()
    assert slots, "the winner's slots must exist"
    assert {str(s["aluguel_id"]) for s in slots} == {winner_id}
    assert {s["estado"] for s in slots} == {"confirmado"}
    assert await raw_db["alugueis"].count_documents({}) == 1


async def test_24_concurrent_overlapping_alugueis_exactly_one_wins(
    core_client, make_tenant, make_inventario, concurrently, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    # every period contains day 10 (so they all overlap pairwise), with different starts and ends
    calls = [("POST", ALUGUEIS, pedido(inv, 0, 10 - (i % 6), 6 + i % 5), t.user_headers) for i in range(24)]
    responses = concurrently(calls)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 23, codes
    winner = next(r.json() for r in responses if r.status_code == 201)
    await assert_one_booking_stored(raw_db, winner["id"])
    dias = (datetime.fromisoformat(winner["fim"]) - datetime.fromisoformat(winner["inicio"])).days
    assert await raw_db["placa_ocupacoes"].count_documents({}) == dias


async def test_two_app_instances_on_one_database_race_and_one_wins(
    core_client, core_settings, make_tenant, make_inventario, concurrently, raw_db
):
    """Two replicas (separate apps, separate MongoDB clients and pools) book the same days."""
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    segunda = create_app(core_settings)
    calls = [("POST", ALUGUEIS, pedido(inv, 0, i % 4, 5), t.user_headers) for i in range(20)]
    responses = concurrently(calls, replicas=[segunda])
    assert segunda.state.mongo is not core_client.app.state.mongo
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    winner = next(r.json() for r in responses if r.status_code == 201)
    await assert_one_booking_stored(raw_db, winner["id"])


async def test_concurrent_non_overlapping_bookings_all_succeed(
    core_client, make_tenant, make_inventario, concurrently, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    # back-to-back periods (fim is exclusive) on two placas: no false conflicts
    calls = [
        ("POST", ALUGUEIS, pedido(inv, p, 7 * i, 7), t.user_headers) for i in range(10) for p in range(2)
    ]
    responses = concurrently(calls)
    assert [r.status_code for r in responses] == [201] * 20, [
        r.text for r in responses if r.status_code != 201
    ]
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 2 * 70


async def test_concurrent_pis_sharing_one_placa_exactly_one_wins(
    core_client, make_tenant, make_inventario, concurrently, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=21)
    shared = inv.placa_ids[0]
    calls = [
        (
            "POST",
            "/api/v1/pis",
            {
                "clienteId": inv.cliente_ids[0],
                # half of them list the shared placa last: order in the request must not matter
                "placaIds": [inv.placa_ids[i + 1], shared] if i % 2 else [shared, inv.placa_ids[i + 1]],
                "valorTotalCentavos": 500_000,
                "produto": f"Campanha {i}",
                **periodo(0, 30),
            },
            t.user_headers,
        )
        for i in range(20)
    ]
    responses = concurrently(calls)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    winner = next(r.json() for r in responses if r.status_code == 201)
    loser = next(r.json() for r in responses if r.status_code == 409)
    assert inv.numeros[shared] in loser["detail"]
    # only the winner's two placas are booked; every loser's own placa is free again
    slots = await raw_db["placa_ocupacoes"].find({}).to_list()
    assert {str(s["placa_id"]) for s in slots} == set(winner["placaIds"])
    assert len(slots) == 2 * 30
    assert await raw_db["pis"].count_documents({}) == 1
    assert await raw_db["alugueis"].count_documents({}) == 2


async def test_concurrent_aluguel_and_pis_on_the_same_placa(
    core_client, make_tenant, make_inventario, concurrently, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    pi = {
        "clienteId": inv.cliente_ids[0],
        "placaIds": [inv.placa_ids[1], inv.placa_ids[0]],
        "valorTotalCentavos": 1,
        "produto": "X",
        **periodo(2, 10),
    }
    calls = []
    for i in range(20):
        if i % 2:
            calls.append(("POST", "/api/v1/pis", pi, t.user_headers))
        else:
            # days 2-5, 3-6 or 4-7: every call overlaps every other (and the PI's days 2-11)
            calls.append(("POST", ALUGUEIS, pedido(inv, 0, 2 + (i // 2) % 3, 4), t.user_headers))
    responses = concurrently(calls)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    placa0 = await raw_db["placa_ocupacoes"].find({"placa_id": PydanticObjectId(inv.placa_ids[0])}).to_list()
    assert len({s["reserva_id"] for s in placa0}) == 1


# -- crash recovery ----------------------------------------------------------------------------------


def stale_slots(placa_id: str, empresa_id: str, reserva_id, dias: list[str], *, tipo="aluguel", age=3600):
    criado = datetime.now(UTC) - timedelta(seconds=age)
    return [
        {
            "_id": slot_id(PydanticObjectId(placa_id), dia),
            "empresa_id": PydanticObjectId(empresa_id),
            "placa_id": PydanticObjectId(placa_id),
            "dia": dia,
            "aluguel_id": reserva_id,
            "reserva_tipo": tipo,
            "reserva_id": reserva_id,
            "estado": "pendente",
            "criado_em": criado,
        }
        for dia in dias
    ]


async def test_recovery_removes_stale_pending_slots_and_keeps_fresh_and_committed_ones(
    core_client, make_tenant, make_inventario, raw_db, in_app_loop
):
    t = await make_tenant()
    inv = make_inventario(t, placas=3)
    h = t.user_headers
    body = pedido(inv, 0, 0, 4)
    dias = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    # 1. a crashed request: a pending aluguel owner and half of its slots, an hour old
    crashed = PydanticObjectId()
    await raw_db["alugueis"].insert_one(
        {
            "_id": crashed,
            "empresa_id": PydanticObjectId(t.empresa_id),
            "placa_id": PydanticObjectId(inv.placa_ids[0]),
            "cliente_id": PydanticObjectId(inv.cliente_ids[0]),
            "status": "pendente",
            "created_at": datetime.now(UTC) - timedelta(hours=1),
        }
    )
    await raw_db["placa_ocupacoes"].insert_many(
        stale_slots(inv.placa_ids[0], t.empresa_id, crashed, dias[:2])
    )
    # 2. orphan slots whose owner never got written (PI kind)
    await raw_db["placa_ocupacoes"].insert_many(
        stale_slots(inv.placa_ids[2], t.empresa_id, PydanticObjectId(), dias, tipo="pi")
    )
    # 3. a booking in flight right now (fresh): must survive
    fresh = PydanticObjectId()
    await raw_db["placa_ocupacoes"].insert_many(
        stale_slots(inv.placa_ids[1], t.empresa_id, fresh, dias[:1], age=1)
    )
    assert (await core_client.post(ALUGUEIS, json=body, headers=h)).status_code == 409

    stats = in_app_loop(Reservas(core_client.app.state.db).recuperar, timedelta(seconds=60))
    assert stats["descartada"] == 2, stats
    assert await raw_db["alugueis"].count_documents({"_id": crashed}) == 0
    assert (
        await raw_db["placa_ocupacoes"].count_documents({"placa_id": PydanticObjectId(inv.placa_ids[0])}) == 0
    )
    assert (
        await raw_db["placa_ocupacoes"].count_documents({"placa_id": PydanticObjectId(inv.placa_ids[2])}) == 0
    )
    assert await raw_db["placa_ocupacoes"].count_documents({"reserva_id": fresh}) == 1
    assert (await core_client.post(ALUGUEIS, json=body, headers=h)).status_code == 201
    assert (await core_client.post(ALUGUEIS, json=pedido(inv, 2, 0, 4), headers=h)).status_code == 201


async def test_recovery_rolls_a_committed_pi_forward(
    core_client, make_tenant, make_inventario, raw_db, in_app_loop
):
    """Crash after the PI committed but before its aluguéis/slots were confirmed: keep the booking."""
    assert PI.Settings.name == PIS
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    r = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": inv.placa_ids,
            "valorTotalCentavos": 100,
            "produto": "P",
            **periodo(0, 5),
        },
        headers=t.user_headers,
    )
    pi_id = PydanticObjectId(r.json()["id"])
    old = datetime.now(UTC) - timedelta(hours=1)
    await raw_db["placa_ocupacoes"].update_many({}, {"$set": {"estado": "pendente", "criado_em": old}})
    await raw_db["alugueis"].update_many({}, {"$set": {"status": "pendente", "created_at": old}})
    stats = in_app_loop(Reservas(core_client.app.state.db).recuperar, timedelta(seconds=60))
    assert stats["confirmada"] == 1, stats
    assert (
        await raw_db["placa_ocupacoes"].count_documents({"estado": "confirmado", "reserva_id": pi_id}) == 10
    )
    assert await raw_db["alugueis"].count_documents({"status": "ativo", "pi_id": pi_id}) == 2


async def test_recovery_finishes_an_interrupted_cancel(
    core_client, make_tenant, make_inventario, raw_db, in_app_loop
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    a = (await core_client.post(ALUGUEIS, json=pedido(inv, 0, 0, 5), headers=t.user_headers)).json()
    # the crash: status already cancelado, slots still there
    await raw_db["alugueis"].update_one(
        {"_id": PydanticObjectId(a["id"])}, {"$set": {"status": "cancelado", "slots_liberados": False}}
    )
    assert (
        await core_client.post(ALUGUEIS, json=pedido(inv, 0, 0, 5), headers=t.user_headers)
    ).status_code == 409
    stats = in_app_loop(Reservas(core_client.app.state.db).recuperar, timedelta(seconds=60))
    assert stats["liberada"] == 1
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
    assert (
        await core_client.post(ALUGUEIS, json=pedido(inv, 0, 0, 5), headers=t.user_headers)
    ).status_code == 201


async def test_startup_recovery_and_periodic_sweep_run_in_the_lifespan(
    core_client, core_settings, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    dias = ["2026-05-01", "2026-05-02"]
    await raw_db["placa_ocupacoes"].insert_many(
        stale_slots(inv.placa_ids[0], t.empresa_id, PydanticObjectId(), dias)
    )
    settings = core_settings.model_copy(
        update={"booking_pending_timeout_seconds": 1.0, "booking_sweep_interval_seconds": 0.2}
    )
    async with AsyncTestClient(create_app(settings)) as client:
        # start-up recovery already removed the hour-old slots
        assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
        # a "crash" now: fresh pending slots, removed by the periodic sweep once older than 1 s
        await raw_db["placa_ocupacoes"].insert_many(
            stale_slots(inv.placa_ids[1], t.empresa_id, PydanticObjectId(), dias, age=0)
        )
        await asyncio.sleep(0.5)
        assert await raw_db["placa_ocupacoes"].count_documents({}) == 2
        for _ in range(40):
            await asyncio.sleep(0.1)
            if await raw_db["placa_ocupacoes"].count_documents({}) == 0:
                break
        assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
        r = await client.post(
            ALUGUEIS,
            json={
                "placaId": inv.placa_ids[1],
                "clienteId": inv.cliente_ids[0],
                "valorCentavos": 1,
                "inicio": "2026-05-01T00:00:00-03:00",
                "fim": "2026-05-03T00:00:00-03:00",
            },
            headers=t.user_headers,
        )
        assert r.status_code == 201, r.text
        assert client.app.state.booking_sweeper is not None
    assert client.app.state.booking_sweeper is None


async def test_a_booking_abandoned_by_the_sweep_cannot_commit_afterwards(
    core_client, make_tenant, make_inventario, raw_db, in_app_loop
):
    """The decision document arbitrates: once the sweep abandoned a slow booking, its request's
    commit fails (503 for the client) instead of keeping days whose slots are gone."""
    import pytest
    from core_api.domain.alugueis.booking import ReservaExpirada

    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    crashed = PydanticObjectId()
    await raw_db["placa_ocupacoes"].insert_many(
        stale_slots(inv.placa_ids[0], t.empresa_id, crashed, ["2026-09-01"])
    )
    reservas = Reservas(core_client.app.state.db)
    assert in_app_loop(reservas.recuperar, timedelta(seconds=60))["descartada"] == 1
    with pytest.raises(ReservaExpirada):
        in_app_loop(reservas.efetivar, "aluguel", crashed)
    assert (await raw_db["reserva_decisoes"].find_one({"_id": crashed}))["decisao"] == "abandonada"
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
