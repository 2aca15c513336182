"""Read path cache (issues 4 and 16): hits, tenant separation, admin bypass, invalidation owned by
the areas and across app instances, ETag/304 stored with the entry, Redis commands per hit, expiry
under concurrent clients, and fail-open with Redis stopped — all on real Redis/FerretDB.

A "hit" is proven by changing MongoDB behind the API's back (no invalidation): a cached answer still
shows the old value, a fresh one shows the new value.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pymongo
import pytest
from bson import ObjectId
from core_api.lib.cache import CachedResponse
from core_api.server.app import create_app
from devstack.servers import Server, free_port, start_redis, start_service
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from .test_pis import MAR


@pytest.fixture
def db(mongodb_url, core_settings) -> Iterator[pymongo.database.Database]:
    client = pymongo.MongoClient(mongodb_url)
    yield client[core_settings.mongodb_db]
    client.close()


async def _seed(client, tenant, n: int = 3) -> tuple[str, list[str]]:
    r = await client.post("/api/v1/regioes", json={"nome": "Centro"}, headers=tenant.admin_headers)
    assert r.status_code == 201, r.text
    regiao_id = r.json()["id"]
    ids = []
    for i in range(n):
        r = await client.post(
            "/api/v1/placas",
            json={
                "numero": f"P-{i:03d}",
                "regiaoId": regiao_id,
                "endereco": f"Rua {i}",
                "valorMensalCentavos": 1000,
            },
            headers=tenant.admin_headers,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return regiao_id, ids


def _rename_behind_api(db, placa_id: str, endereco: str) -> None:
    assert (
        db.placas.update_one({"_id": ObjectId(placa_id)}, {"$set": {"endereco": endereco}}).modified_count
        == 1
    )


def _enderecos(response) -> set[str]:
    return {p["endereco"] for p in response.json()["items"]}


async def test_list_is_served_from_cache_until_a_write(core_client, make_tenant, db):
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t)
    first = await core_client.get("/api/v1/placas?pageSize=50", headers=t.user_headers)
    assert first.status_code == 200
    _rename_behind_api(db, ids[0], "Changed behind the API")
    cached = await core_client.get("/api/v1/placas?pageSize=50", headers=t.user_headers)
    assert "Changed behind the API" not in _enderecos(cached)  # a hit: MongoDB was not read
    assert cached.json() == first.json()
    # another query string is another entry
    other = await core_client.get("/api/v1/placas?pageSize=49", headers=t.user_headers)
    assert "Changed behind the API" in _enderecos(other)
    # a write of another area leaves the placas cached (the areas own their invalidation) ...
    r = await core_client.post("/api/v1/regioes", json={"nome": "Norte"}, headers=t.user_headers)
    assert r.status_code == 201
    still = await core_client.get("/api/v1/placas?pageSize=50", headers=t.user_headers)
    assert "Changed behind the API" not in _enderecos(still)
    # ... a placa write invalidates every list of the empresa at once
    r = await core_client.patch(f"/api/v1/placas/{ids[1]}", json={"descricao": "x"}, headers=t.user_headers)
    assert r.status_code == 200
    fresh = await core_client.get("/api/v1/placas?pageSize=50", headers=t.user_headers)
    assert "Changed behind the API" in _enderecos(fresh)


async def test_a_pdf_job_or_a_pi_does_not_invalidate_placas(core_client, make_tenant, make_inventario, db):
    """Before, URL-prefix tables in lib made every write under /pis bump the placas generation."""
    t = await make_tenant("A")
    inv = make_inventario(t, placas=2)
    first = await core_client.get("/api/v1/placas", headers=t.user_headers)
    assert first.status_code == 200
    _rename_behind_api(db, inv.placa_ids[0], "Changed behind the API")
    pi = await core_client.post(
        "/api/v1/pis",
        json={
            "clienteId": inv.cliente_ids[0],
            "placaIds": inv.placa_ids,
            **MAR,
            "valorTotalCentavos": 100_000,
            "produto": "Campanha",
        },
        headers=t.user_headers,
    )
    assert pi.status_code == 201, pi.text
    job = await core_client.post(f"/api/v1/pis/{pi.json()['id']}/pdf-jobs", headers=t.user_headers)
    assert job.status_code == 202, job.text
    cached = await core_client.get("/api/v1/placas", headers=t.user_headers)
    assert cached.json() == first.json()


async def test_admins_bypass_the_cache(core_client, make_tenant, db):
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t)
    await core_client.get("/api/v1/placas", headers=t.user_headers)
    _rename_behind_api(db, ids[1], "Admin sees this")
    lookups = _http_lookups()
    admin = await core_client.get("/api/v1/placas", headers=t.admin_headers)
    assert "Admin sees this" in _enderecos(admin)
    assert _http_lookups() == lookups  # an admin's request does not even look in Redis
    assert admin.headers["cache-control"] == "no-store"
    user = await core_client.get("/api/v1/placas", headers=t.user_headers)
    assert "Admin sees this" not in _enderecos(user)


async def test_cached_entries_are_separated_by_tenant(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    await _seed(core_client, a, n=2)
    ra = await core_client.get("/api/v1/placas", headers=a.user_headers)
    rb = await core_client.get("/api/v1/placas", headers=b.user_headers)
    assert ra.json()["total"] == 2
    assert rb.json()["total"] == 0
    rb2 = await core_client.get("/api/v1/regioes", headers=b.user_headers)
    assert rb2.json()["items"] == []


async def test_etag_revalidation_gives_304(core_client, make_tenant):
    t = await make_tenant("A")
    await _seed(core_client, t, n=1)
    r = await core_client.get("/api/v1/regioes", headers=t.user_headers)
    etag = r.headers["etag"]
    again = await core_client.get("/api/v1/regioes", headers={**t.user_headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await core_client.post("/api/v1/regioes", json={"nome": "Sul"}, headers=t.user_headers)
    changed = await core_client.get("/api/v1/regioes", headers={**t.user_headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_the_etag_is_stored_with_the_entry_not_recomputed_per_hit(core_client, make_tenant):
    t = await make_tenant("A")
    await _seed(core_client, t, n=1)
    r = await core_client.get("/api/v1/placas", headers=t.user_headers)
    (key,) = await _redis_keys(core_client, f"cache:http:{t.empresa_id}:placas:*")
    redis = core_client.app.state.cache.redis
    entry = CachedResponse.decode(core_client.blocking_portal.call(redis.get, key))
    assert entry is not None and entry.etag.decode() == r.headers["etag"]
    # a hit sends what is stored: an ETag computed per hit would follow the altered body
    entry.body = entry.body.replace(b"Rua 0", b"Rua X")
    core_client.blocking_portal.call(redis.set, key, entry.encode())
    hit = await core_client.get("/api/v1/placas", headers=t.user_headers)
    assert b"Rua X" in hit.content and hit.headers["etag"] == r.headers["etag"]
    assert hit.headers["content-type"] == r.headers["content-type"]
    not_modified = await core_client.get(
        "/api/v1/placas", headers={**t.user_headers, "If-None-Match": r.headers["etag"]}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""


async def test_placa_cache_aside_and_invalidation(core_client, make_tenant, db):
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t, n=1)
    url = f"/api/v1/placas/{ids[0]}"
    assert (await core_client.get(url, headers=t.user_headers)).status_code == 200
    _rename_behind_api(db, ids[0], "Behind")
    assert (await core_client.get(url, headers=t.user_headers)).json()["endereco"] != "Behind"
    r = await core_client.patch(url, json={"descricao": "iluminada"}, headers=t.user_headers)
    assert r.status_code == 200
    fresh = (await core_client.get(url, headers=t.user_headers)).json()
    assert fresh["endereco"] == "Behind" and fresh["descricao"] == "iluminada"
    # the key layout the seed names
    redis_keys = [k for k in (await _redis_keys(core_client, f"placa:{ids[0]}:empresa:{t.empresa_id}"))]
    assert redis_keys


async def _redis_keys(client: AsyncTestClient, pattern: str) -> list[bytes]:
    cache = client.app.state.cache
    return client.blocking_portal.call(cache.redis.keys, pattern)


@pytest.fixture
def second_instance(core_settings, workdir: Path) -> Iterator[str]:
    """Another core-api on the same MongoDB and Redis, as a real uvicorn process (a replica)."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": core_settings.mongodb_url,
        "REDIS_URL": core_settings.redis_url,
        "CORE_API_MONGODB_DB": core_settings.mongodb_db,
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": "1",
    }
    srv = start_service("core-api-replica", "core_api", port, env, workdir / "replica")
    yield srv.url
    srv.stop()


async def test_read_after_write_is_fresh_across_two_app_instances(core_client, make_tenant, second_instance):
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t, n=2)
    async with httpx.AsyncClient(base_url=second_instance) as other:
        for client in (core_client, other):  # both instances have the list and the placa cached
            assert (await client.get("/api/v1/placas", headers=t.user_headers)).status_code == 200
            assert (await client.get(f"/api/v1/placas/{ids[0]}", headers=t.user_headers)).status_code == 200
        r = await other.patch(
            f"/api/v1/placas/{ids[0]}", json={"endereco": "Av. Nova"}, headers=t.user_headers
        )
        assert r.status_code == 200
        listed = await core_client.get("/api/v1/placas", headers=t.user_headers)
        assert "Av. Nova" in _enderecos(listed)
        one = await core_client.get(f"/api/v1/placas/{ids[0]}", headers=t.user_headers)
        assert one.json()["endereco"] == "Av. Nova"
        r = await core_client.delete(f"/api/v1/placas/{ids[1]}", headers=t.user_headers)
        assert r.status_code == 204
        assert (await other.get(f"/api/v1/placas/{ids[1]}", headers=t.user_headers)).status_code == 404
        assert (await other.get("/api/v1/placas", headers=t.user_headers)).json()["total"] == 1


def _http_lookups() -> float:
    return sum(
        REGISTRY.get_sample_value("cache_requests_total", {"cache": "http", "result": r}) or 0.0
        for r in ("hit", "miss", "error")
    )


def _mongo_finds(collection: str) -> float:
    value = REGISTRY.get_sample_value(
        "mongodb_command_duration_seconds_count", {"command": "find", "collection": collection}
    )
    return value or 0.0


async def test_stampede_on_a_cold_key_is_one_recomputation(core_client, make_tenant):
    t = await make_tenant("A")
    await _seed(core_client, t, n=3)
    before = _mongo_finds("placas")
    responses = await asyncio.gather(
        *(core_client.get("/api/v1/placas?sort=numero", headers=t.user_headers) for _ in range(32))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert _mongo_finds("placas") - before == 1


async def test_an_entry_expiring_under_32_clients_is_served_stale_and_refreshed_once(
    core_client, make_tenant, db
):
    """Stale-while-revalidate: past its TTL the entry is still answered at once while one request
    recomputes it (before, a lock taken around every request left a whole run without answers)."""
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t, n=3)
    url = "/api/v1/placas?sort=numero"
    first = await core_client.get(url, headers=t.user_headers)
    (key,) = await _redis_keys(core_client, f"cache:http:{t.empresa_id}:placas:*")
    redis = core_client.app.state.cache.redis
    entry = CachedResponse.decode(core_client.blocking_portal.call(redis.get, key))
    assert entry is not None
    entry.fresh_until = 0  # its TTL has passed
    core_client.blocking_portal.call(redis.set, key, entry.encode())
    _rename_behind_api(db, ids[0], "Recomputed")
    before = _mongo_finds("placas")
    responses = await asyncio.gather(*(core_client.get(url, headers=t.user_headers) for _ in range(32)))
    assert [r.status_code for r in responses] == [200] * 32
    assert {r.content for r in responses} <= {first.content, _refreshed(responses)}
    assert _mongo_finds("placas") - before == 1  # one refresh, whatever the concurrency
    after = await core_client.get(url, headers=t.user_headers)
    assert "Recomputed" in _enderecos(after)  # the refresh was stored
    assert not await _redis_keys(core_client, "cache:lock:*")  # and its lock released


def _refreshed(responses) -> bytes:
    fresh = [r.content for r in responses if b"Recomputed" in r.content]
    assert len(fresh) <= 1 or len(set(fresh)) == 1
    return fresh[0] if fresh else b""


async def test_a_cache_hit_is_one_redis_command(core_client, make_tenant, redis_url):
    """Counted by Redis itself (INFO commandstats): one MGET of the token version (revocation), the
    entry and its generation. Before: user, generation, lock SET, store GET, lock GET + DEL."""
    t = await make_tenant("A")
    await _seed(core_client, t, n=3)
    url = "/api/v1/placas?pageSize=20"
    assert (await core_client.get(url, headers=t.user_headers)).status_code == 200
    assert (await core_client.get(url, headers=t.user_headers)).status_code == 200  # user state cached
    hits = 20
    from redis.asyncio import Redis

    probe = Redis.from_url(redis_url)
    try:
        before = await _commands(probe)
        for _ in range(hits):
            r = await core_client.get(url, headers=t.user_headers)
            assert r.status_code == 200
        after = await _commands(probe)
    finally:
        await probe.aclose()
    used = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    used = {name: n for name, n in used.items() if n}
    assert sum(used.values()) <= hits, used  # the bound is 2
    assert used == {"mget": hits}, used


async def _commands(redis) -> dict[str, int]:
    """Calls per command so far, without the INFO calls of this probe and the event consumers'
    stream reads (background tasks of the app, not part of a request)."""
    stats = await redis.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if not name.startswith(("cmdstat_info", "cmdstat_x", "cmdstat_ping"))
    }


@pytest.fixture
def own_redis(workdir: Path) -> Iterator[Server]:
    srv = start_redis(workdir / "redis")
    yield srv
    srv.stop()


async def test_redis_down_reads_and_writes_still_work_and_caching_resumes(
    core_settings, make_tenant, own_redis, workdir, db
):
    settings = core_settings.model_copy(update={"redis_url": own_redis.url})
    t = await make_tenant("A")
    async with AsyncTestClient(create_app(settings)) as client:
        _, ids = await _seed(client, t, n=2)
        assert (await client.get("/api/v1/placas", headers=t.user_headers)).status_code == 200

        own_redis.stop()
        for _ in range(5):
            r = await client.get("/api/v1/placas", headers=t.user_headers)
            assert r.status_code == 200 and r.json()["total"] == 2
        assert (await client.get(f"/api/v1/placas/{ids[0]}", headers=t.user_headers)).status_code == 200
        r = await client.patch(
            f"/api/v1/placas/{ids[0]}", json={"endereco": "Escrita sem Redis"}, headers=t.user_headers
        )
        assert r.status_code == 200
        r = await client.get("/api/v1/placas", headers=t.user_headers)
        assert "Escrita sem Redis" in _enderecos(r)
        r = await client.get(f"/api/v1/placas/{ids[0]}", headers=t.user_headers)
        assert r.json()["endereco"] == "Escrita sem Redis"
        errors = REGISTRY.get_sample_value("cache_errors_total", {"cache": "http", "operation": "get"})
        assert errors and errors > 0

        # Redis back on the same port (its data survived: the write above was never invalidated there)
        restarted = start_redis(workdir / "redis2", port=own_redis.port)
        try:
            await asyncio.sleep(client.app.state.cache.circuit.cooldown + 0.5)
            first = await client.get("/api/v1/placas", headers=t.user_headers)
            assert "Escrita sem Redis" in _enderecos(first)  # the owed invalidation was replayed
            _rename_behind_api(db, ids[1], "Depois do retorno")
            cached = await client.get("/api/v1/placas", headers=t.user_headers)
            assert "Depois do retorno" not in _enderecos(cached)  # caching resumed by itself
        finally:
            restarted.stop()


def _mongo_counts(collection: str) -> float:
    """count_documents is an aggregate command for pymongo."""
    value = REGISTRY.get_sample_value(
        "mongodb_command_duration_seconds_count", {"command": "aggregate", "collection": collection}
    )
    return value or 0.0


async def test_the_pages_of_a_list_share_one_count_per_generation(core_client, make_tenant):
    t = await make_tenant("A")
    _, ids = await _seed(core_client, t, n=3)
    before = _mongo_counts("placas")
    for page in (1, 2, 3):  # three entries, three misses, one count
        r = await core_client.get(f"/api/v1/placas?page={page}&pageSize=1", headers=t.user_headers)
        assert r.json()["total"] == 3
    assert _mongo_counts("placas") - before == 1
    r = await core_client.delete(f"/api/v1/placas/{ids[0]}", headers=t.user_headers)
    assert r.status_code == 204
    r = await core_client.get("/api/v1/placas?page=2&pageSize=1", headers=t.user_headers)
    assert r.json()["total"] == 2  # a write starts a new generation: counted again
    assert _mongo_counts("placas") - before == 2
    admin = await core_client.get("/api/v1/placas?page=2&pageSize=1", headers=t.admin_headers)
    assert admin.json()["total"] == 2 and _mongo_counts("placas") - before == 3  # admins: fresh
