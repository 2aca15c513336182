"""One winner for every conditional write, raced through a real server on the real FerretDB.

The requests go over real TCP connections to a real `core-api serve` with two worker processes,
each with its own MongoDB connection pool, so they interleave at FerretDB the way a deployment's
replicas do (FerretDB v1's updates are read-modify-write: without the lease several would "win").
Every test sends at least 20 requests at once and checks that exactly one wins and that the stored
state agrees with the answers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from core_api.domain.alugueis.booking import TZ
from core_api.domain.users.models import User
from devstack.servers import free_port, start_service
from shared.auth import issue_token

N = 20


@pytest.fixture(scope="module")
def live_server(_shared_core, test_tmp: Path) -> Iterator[str]:
    """`core-api serve` with 2 worker processes on the worker's test database (a real uvicorn server),
    started once for the module: `core_settings` empties that database before each test."""
    core_settings = _shared_core.settings
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": core_settings.mongodb_url,
        "REDIS_URL": core_settings.redis_url,
        "CORE_API_MONGODB_DB": core_settings.mongodb_db,
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": "2",
    }
    srv = start_service(
        "core-api-live", "core_api", port, env, test_tmp / f"live-{uuid.uuid4().hex[:8]}", timeout=120
    )
    yield srv.url
    srv.stop()


@pytest.fixture
async def http(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=N * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=live_server, timeout=120, limits=limits) as client:
        yield client


async def at_once(
    client: httpx.AsyncClient, calls: list[tuple[str, str, Any, dict[str, str]]]
) -> list[httpx.Response]:
    """Send every call at the same moment, each on its own connection."""
    start = asyncio.Event()

    async def one(method: str, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        await start.wait()
        return await client.request(method, url, json=body, headers=headers)

    tasks = [asyncio.create_task(one(*c)) for c in calls]
    await asyncio.sleep(0.05)
    start.set()
    return await asyncio.gather(*tasks)


def periodo(dia: int, dias: int) -> dict[str, str]:
    inicio = datetime(2027, 3, 1, tzinfo=TZ) + timedelta(days=dia)
    return {"inicio": inicio.isoformat(), "fim": (inicio + timedelta(days=dias)).isoformat()}


async def new_pi(
    http: httpx.AsyncClient,
    inv: Any,
    headers: dict[str, str],
    placas: list[int],
    valor: int = 90_000,
    periodo_: dict[str, str] | None = None,
) -> dict:
    r = await http.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": [inv.placa_ids[i] for i in placas],
            "valorTotalCentavos": valor,
            "produto": "Campanha",
            **(periodo_ or periodo(0, 30)),
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def codes(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def test_pi_status_race_one_transition_wins(http, make_tenant, make_inventario, raw_db):
    """The issue's own reproduction: 10 × PATCH concluida + 10 × POST cancel of one PI (one whose
    period is over, so that both moves are allowed: a running PI cannot be concluded)."""
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    passado = {"inicio": "2020-03-01T00:00:00-03:00", "fim": "2020-03-31T00:00:00-03:00"}
    pi = await new_pi(http, inv, t.user_headers, [0, 1], periodo_=passado)
    assert pi["status"] == "vencida"
    url = f"/api/v1/pis/{pi['id']}"
    calls = [
        ("PATCH", url, {"status": "concluida"}, t.user_headers)
        if i % 2
        else ("POST", f"{url}/cancel", None, t.user_headers)
        for i in range(N)
    ]
    responses = await at_once(http, calls)
    assert codes(responses) == {200: 1, 409: N - 1}, [(r.status_code, r.text) for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    final = (await http.get(url, headers=t.user_headers)).json()
    assert final["status"] == winner["status"]
    stored = await raw_db["pis"].find_one({"_id": PydanticObjectId(pi["id"])})
    assert stored["concluida_em"] is None or stored["cancelada_em"] is None
    # writes of the PI: its confirmation, its number, the one transition, (for a cancel) the release flag
    assert stored["version"] == (4 if final["status"] == "cancelada" else 3)
    alugueis = await raw_db["alugueis"].find({"pi_id": PydanticObjectId(pi["id"])}).to_list()
    slots = await raw_db["placa_ocupacoes"].count_documents({"reserva_id": PydanticObjectId(pi["id"])})
    if final["status"] == "cancelada":
        assert {a["status"] for a in alugueis} == {"cancelado"}
        assert slots == 0
    else:
        assert {a["status"] for a in alugueis} == {"ativo"}
        assert slots == 2 * 30


async def test_pi_approval_race_one_approval_then_sign_or_reopen_one_wins(
    http, make_tenant, make_inventario, raw_db
):
    """Issue 15's draft → approved → signed flow under racing requests on real FerretDB: of 20
    approvals of one draft exactly one is recorded; of 10 signatures racing 10 reopenings of the
    approved PI exactly one move wins (each makes the other impossible)."""
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    r = await http.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": [inv.placa_ids[0]],
            "produto": "Campanha",
            "status": "rascunho",
            **periodo(0, 30),
        },
        headers=t.user_headers,
    )
    assert r.status_code == 201 and r.json()["status"] == "rascunho", r.text
    url = f"/api/v1/pis/{r.json()['id']}"
    oid = PydanticObjectId(r.json()["id"])

    responses = await at_once(http, [("PATCH", url, {"status": "aprovada"}, t.admin_headers)] * N)
    assert codes(responses) == {200: 1, 409: N - 1}, [(r.status_code, r.text) for r in responses]
    stored = await raw_db["pis"].find_one({"_id": oid})
    assert stored["status"] == "aprovada" and [h["para"] for h in stored["historico"]] == ["aprovada"]
    assert stored["aprovada_por"] == t.admin_id

    calls = [
        ("PATCH", url, {"status": "assinada"}, t.user_headers)
        if i % 2
        else ("PATCH", url, {"status": "rascunho"}, t.admin_headers)
        for i in range(N)
    ]
    responses = await at_once(http, calls)
    assert codes(responses) == {200: 1, 409: N - 1}, [(r.status_code, r.text) for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    stored = await raw_db["pis"].find_one({"_id": oid})
    assert stored["status"] == winner["status"] in ("assinada", "rascunho")
    assert [h["para"] for h in stored["historico"]] == ["aprovada", winner["status"]]


async def test_aluguel_cancel_race_one_winner_and_the_days_freed_once(
    http, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    body = {
        "placaId": inv.placa_ids[0],
        "clienteId": inv.cliente_ids[0],
        "valorCentavos": 1000,
        **periodo(0, 10),
    }
    aluguel = (await http.post("/api/v1/alugueis", json=body, headers=t.user_headers)).json()
    url = f"/api/v1/alugueis/{aluguel['id']}"
    calls = [
        ("POST", f"{url}/cancel", None, t.user_headers) if i % 2 else ("DELETE", url, None, t.user_headers)
        for i in range(N)
    ]
    responses = await at_once(http, calls)
    ok = [r for r in responses if r.status_code in (200, 204)]
    assert len(ok) == 1 and codes(responses)[409] == N - 1, [(r.status_code, r.text) for r in responses]
    stored = await raw_db["alugueis"].find_one({"_id": PydanticObjectId(aluguel["id"])})
    assert stored["status"] == "cancelado" and stored["version"] >= 1
    assert await raw_db["placa_ocupacoes"].count_documents({}) == 0
    # the days are free again: exactly one new booking of them succeeds
    again = await at_once(http, [("POST", "/api/v1/alugueis", body, t.user_headers)] * N)
    assert codes(again) == {201: 1, 409: N - 1}


async def test_pi_value_edits_race_contrato_creation_and_never_disagree(
    http, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=2)
    pi = await new_pi(http, inv, t.user_headers, [0, 1], valor=100_000)
    url = f"/api/v1/pis/{pi['id']}"
    calls = [
        ("PATCH", url, {"valorTotalCentavos": 100_000 + i}, t.user_headers)
        if i % 2
        else ("POST", "/api/v1/contratos", {"piId": pi["id"]}, t.user_headers)
        for i in range(N)
    ]
    responses = await at_once(http, calls)
    contratos = [r for r in responses if r.request.url.path.endswith("contratos")]
    assert codes(contratos) == {201: 1, 409: len(contratos) - 1}, [r.text for r in contratos]
    contrato = next(r.json() for r in contratos if r.status_code == 201)
    final = (await http.get(url, headers=t.user_headers)).json()
    # whatever the interleaving, the contrato carries the PI's value, and the aluguéis add up to it
    assert contrato["valorTotalCentavos"] == final["valorTotalCentavos"]
    alugueis = await raw_db["alugueis"].find({"pi_id": PydanticObjectId(pi["id"])}).to_list()
    assert sum(a["valor_centavos"] for a in alugueis) == final["valorTotalCentavos"]
    edits = [r for r in responses if r.request.method == "PATCH"]
    accepted = [r for r in edits if r.status_code == 200]
    print(f"race figures: contratos {dict(codes(contratos))}, value edits {dict(codes(edits))}")
    assert all(r.status_code in (200, 409) for r in edits)
    # an accepted edit happened before the contrato: the last of them is the contrato's value
    if accepted:
        assert final["valorTotalCentavos"] in {r.json()["valorTotalCentavos"] for r in accepted}
    later = await http.patch(url, json={"valorTotalCentavos": 1}, headers=t.user_headers)
    assert later.status_code == 409 and "contrato" in later.json()["detail"]
    assert await raw_db["contratos"].count_documents({}) == 1


async def test_contrato_cancel_race_one_winner(http, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    pi = await new_pi(http, inv, t.user_headers, [0])
    contrato = (await http.post("/api/v1/contratos", json={"piId": pi["id"]}, headers=t.user_headers)).json()
    url = f"/api/v1/contratos/{contrato['id']}/cancel"
    responses = await at_once(http, [("POST", url, None, t.user_headers)] * N)
    assert codes(responses) == {200: 1, 409: N - 1}, [(r.status_code, r.text) for r in responses]
    stored = await raw_db["contratos"].find_one({"_id": PydanticObjectId(contrato["id"])})
    assert stored["status"] == "cancelado" and stored["version"] == 1


async def test_20_racing_contratos_get_distinct_gapless_numbers(http, make_tenant, make_inventario, raw_db):
    t = await make_tenant()
    inv = make_inventario(t, placas=N)
    pis = [await new_pi(http, inv, t.user_headers, [i]) for i in range(N)]
    responses = await at_once(
        http, [("POST", "/api/v1/contratos", {"piId": p["id"]}, t.user_headers) for p in pis]
    )
    assert codes(responses) == {201: N}, [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["numero"] for r in responses) == list(range(1, N + 1))
    assert await raw_db["contratos"].count_documents({}) == N


async def test_concurrent_patches_of_different_placa_fields_lose_nothing(
    http, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    changes = {
        "endereco": "Rua Nova, 1",
        "cidade": "Campinas",
        "uf": "RJ",
        "tipo": "frontlight",
        "larguraCm": 1200,
        "alturaCm": 400,
        "valorMensalCentavos": 777_700,
        "descricao": "Perto do metrô",
        "ativa": False,
        "numero": f"N-{uuid.uuid4().hex[:6]}",
    }
    fields = list(changes)
    url = f"/api/v1/placas/{inv.placa_ids[0]}"
    calls = [
        ("PATCH", url, {fields[i % len(fields)]: changes[fields[i % len(fields)]]}, t.user_headers)
        for i in range(N)
    ]
    responses = await at_once(http, calls)
    assert codes(responses) == {200: N}, [r.text for r in responses if r.status_code != 200]
    final = (await http.get(url, headers=t.admin_headers)).json()
    assert {k: final[k] for k in changes} == changes
    stored = await raw_db["placas"].find_one({"_id": PydanticObjectId(inv.placa_ids[0])})
    assert stored["version"] == N, "every acknowledged PATCH is one write"


async def test_two_admins_demoting_each_other_leave_exactly_one(
    http, make_tenant, core_settings, in_app_loop, raw_db
):
    t = await make_tenant()

    async def second_admin() -> str:
        user = await User(
            empresa_id=PydanticObjectId(t.empresa_id),
            nome="Outra Admin",
            email=f"admin2-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="!unusable",
            role="admin",
        ).insert()
        return str(user.id)

    other = in_app_loop(second_admin)
    token, _ = issue_token(core_settings, user_id=other, empresa_id=t.empresa_id, role="admin", typ="access")
    other_headers = {"Authorization": f"Bearer {token}"}
    # half of each side's requests demote, the other half deactivate
    calls = []
    for i in range(N):
        change = {"role": "user"} if i % 4 < 2 else {"active": False}
        if i % 2:
            calls.append(("PATCH", f"/api/v1/users/{other}", change, t.admin_headers))
        else:
            calls.append(("PATCH", f"/api/v1/users/{t.admin_id}", change, other_headers))
    responses = await at_once(http, calls)
    admins = (
        await raw_db["users"]
        .find({"empresa_id": PydanticObjectId(t.empresa_id), "role": "admin", "active": True})
        .to_list()
    )
    assert len(admins) == 1, [(r.status_code, r.text) for r in responses]
    survivor = str(admins[0]["_id"])
    # only requests against the loser were answered 200; every one against the survivor failed
    against_survivor = [r for r in responses if r.request.url.path.endswith(survivor)]
    assert against_survivor and all(r.status_code in (401, 403, 409) for r in against_survivor), [
        (r.status_code, r.text) for r in against_survivor
    ]
    assert any(r.status_code == 200 for r in responses)


async def test_20_concurrent_posts_with_one_idempotency_key_create_once(
    http, make_tenant, make_inventario, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    body = {
        "placaId": inv.placa_ids[0],
        "clienteId": inv.cliente_ids[0],
        "valorCentavos": 1000,
        **periodo(0, 10),
    }
    headers = {**t.user_headers, "Idempotency-Key": str(uuid.uuid4())}
    responses = await at_once(http, [("POST", "/api/v1/alugueis", body, headers)] * N)
    assert codes(responses) == {201: N}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1, "20 identical answers"
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == N - 1
    assert await raw_db["alugueis"].count_documents({}) == 1
    # later: the same key replays, the same key with another body is refused
    again = await http.post("/api/v1/alugueis", json=body, headers=headers)
    assert again.status_code == 201 and again.content == responses[0].content
    other = await http.post("/api/v1/alugueis", json={**body, "valorCentavos": 5}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # another empresa's identical key is its own
    t2 = await make_tenant("Outra")
    foreign = await http.post(
        "/api/v1/alugueis",
        json=body,
        headers={**t2.user_headers, "Idempotency-Key": headers["Idempotency-Key"]},
    )
    assert foreign.status_code == 404  # t2 cannot see t's placa: it ran, nothing replayed
    assert await raw_db["alugueis"].count_documents({}) == 1


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from beanie import init_beanie
    from pymongo import AsyncMongoClient
    from core_api.domain.placas.models import Placa
    from core_api.lib.repository import TenantRepository

    async def main():
        client = AsyncMongoClient(sys.argv[1], tz_aware=True)
        await init_beanie(database=client[sys.argv[2]], document_models=[Placa], skip_indexes=True)
        repo = TenantRepository(Placa, sys.argv[3], "placa")
        async with repo.locked(sys.argv[4]) as placa:
            print("HELD", placa.version, flush=True)
            await asyncio.sleep(3600)  # dies here, between its claim and its write

    asyncio.run(main())
    """
)


async def test_a_writer_killed_between_claim_and_write_does_not_freeze_the_document(
    http, make_tenant, make_inventario, core_settings, raw_db
):
    t = await make_tenant()
    inv = make_inventario(t, placas=1)
    placa_id = inv.placa_ids[0]
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once; its output is read off the loop
        [
            sys.executable,
            "-c",
            HOLDER,
            core_settings.mongodb_url,
            core_settings.mongodb_db,
            t.empresa_id,
            placa_id,
        ],
        stdout=subprocess.PIPE,
    )
    try:
        line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
        assert line.startswith(b"HELD"), line
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # recovery is bounded by the lease (15 s): keep asking for ~60 s at most
        killed = time.monotonic()
        deadline = killed + 60
        while True:
            r = await http.patch(
                f"/api/v1/placas/{placa_id}", json={"cidade": "Recuperada"}, headers=t.user_headers
            )
            if r.status_code != 409 or time.monotonic() > deadline:
                break
            assert r.json()["extra"]["reason"] == "busy"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert r.status_code == 200, r.text
    print(f"race figures: writable again {time.monotonic() - killed:.1f}s after the SIGKILL")
    stored = await raw_db["placas"].find_one({"_id": PydanticObjectId(placa_id)})
    assert stored["cidade"] == "Recuperada" and stored["version"] == 1
    ticket = await raw_db["leases"].find_one({"ticket_for": f"placas:{placa_id}"})
    assert ticket is not None, "the dead writer's lease was taken over"
