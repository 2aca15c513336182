"""Read-path cache benchmark (issue 4), side by side in one run on the same data.

Two core-api processes on the same MongoDB (FerretDB) and Redis, one with the cache disabled
(CORE_API_CACHE_ENABLED=false) and one with it on, each behind its own Traefik. 500 placas,
50 per page. Measures requests/s and p50/p99 of GET /api/v1/placas direct and through the gateway,
then the number of MongoDB commands for a 90 % read / 10 % write mix with and without the cache.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
from pathlib import Path

import httpx
from devstack.gateway import render_gateway
from devstack.servers import free_port, start_ferretdb, start_redis, start_service, start_traefik

from bench.common import LoadResult, load, ratio, write_section

PLACAS = 500
PAGE_SIZE = 50
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "600"))
MIX_OPS = int(os.environ.get("BENCH_MIX_OPS", "400"))
METRICS_AUTH = ("metrics", "dev-metrics-password")


async def seed(base: str) -> tuple[dict[str, str], list[str]]:
    """An empresa with 5 regiões and 500 placas; returns a plain user's auth header and placa ids."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post(
            "/api/v1/auth/register",
            json={
                "empresa": {"nome": "Bench Outdoor"},
                "admin": {"nome": "Admin", "email": "admin@bench.local", "password": "bench-password-1"},
            },
        )
        r.raise_for_status()
        login = await c.post(
            "/api/v1/auth/login", json={"email": "admin@bench.local", "password": "bench-password-1"}
        )
        admin = {"Authorization": f"Bearer {login.json()['accessToken']}"}
        r = await c.post(
            "/api/v1/users",
            json={
                "nome": "Vendedor",
                "email": "user@bench.local",
                "password": "bench-password-2",
                "role": "user",
            },
            headers=admin,
        )
        r.raise_for_status()
        login = await c.post(
            "/api/v1/auth/login", json={"email": "user@bench.local", "password": "bench-password-2"}
        )
        user = {"Authorization": f"Bearer {login.json()['accessToken']}"}
        regioes = []
        for i in range(5):
            r = await c.post("/api/v1/regioes", json={"nome": f"Região {i}"}, headers=admin)
            regioes.append(r.json()["id"])
        ids: list[str] = []
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                r = await c.post(
                    "/api/v1/placas",
                    json={
                        "numero": f"B-{i:04d}",
                        "regiaoId": regioes[i % 5],
                        "endereco": f"Avenida Paulista, {1000 + i}",
                        "cidade": "São Paulo",
                        "valorMensalCentavos": 150000 + i,
                    },
                    headers=admin,
                )
                r.raise_for_status()
                ids.append(r.json()["id"])

        await asyncio.gather(*(one(i) for i in range(PLACAS)))
        return user, ids


READ_COMMANDS = {"find", "count", "aggregate", "getMore", "distinct"}


def mongo_commands(base: str) -> tuple[float, float]:
    """(all, read) MongoDB commands the process has sent (its /metrics, pymongo command monitoring)."""
    text = httpx.get(f"{base}/metrics", auth=METRICS_AUTH, timeout=10).text
    total = reads = 0.0
    for m in re.finditer(r"^mongodb_command_duration_seconds_count\{([^}]*)\} ([0-9.e+]+)$", text, re.M):
        command = re.search(r'command="([^"]+)"', m.group(1))
        total += float(m.group(2))
        if command and command.group(1) in READ_COMMANDS:
            reads += float(m.group(2))
    return total, reads


async def mix(
    base: str, headers: dict[str, str], ids: list[str], seed_value: int
) -> tuple[tuple[float, float], int]:
    """90 % reads (list pages and single placas) / 10 % writes; returns MongoDB commands used and errors."""
    rng = random.Random(seed_value)
    before = mongo_commands(base)
    errors = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        for i in range(MIX_OPS):
            roll = rng.random()
            if roll < 0.10:
                r = await c.patch(f"/api/v1/placas/{rng.choice(ids)}", json={"descricao": f"rev {i}"})
            elif roll < 0.55:
                r = await c.get(f"/api/v1/placas?page={rng.randint(1, 10)}&pageSize={PAGE_SIZE}")
            else:
                r = await c.get(f"/api/v1/placas/{rng.choice(ids[:50])}")
            errors += r.status_code >= 400
    after = mongo_commands(base)
    return (after[0] - before[0], after[1] - before[1]), errors


async def run(tmp: Path) -> str:
    redis = start_redis(tmp / "redis")
    mongo = start_ferretdb(tmp / "ferretdb")
    procs = [redis, mongo]
    try:
        common = {
            **os.environ,
            "ENVIRONMENT": "development",
            "MONGODB_URL": mongo.url,
            "REDIS_URL": redis.url,
            "CORE_API_MONGODB_DB": "bench_core",
            "CORE_API_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            "LOGIN_MAX_ATTEMPTS_PER_ADDRESS": "1000",
            "GATEWAY_RATE_AVERAGE": "1000000",
            "GATEWAY_RATE_BURST": "1000000",
        }
        urls: dict[str, dict[str, str]] = {}
        for name, enabled in (("off", "false"), ("on", "true")):
            port, web, internal = free_port(), free_port(), free_port()
            env = {**common, "CORE_API_PORT": str(port), "CORE_API_CACHE_ENABLED": enabled}
            env["CORE_API_URL"] = f"http://127.0.0.1:{port}"
            procs.append(start_service(f"core-api-cache-{name}", "core_api", port, env, tmp / f"api-{name}"))
            static = render_gateway(
                tmp / f"gw-{name}", web_port=web, internal_port=internal, keep_rollout=False
            )
            procs.append(start_traefik(static, tmp / f"gw-{name}", web, env=env))
            urls[name] = {"direct": f"http://127.0.0.1:{port}", "gateway": f"http://127.0.0.1:{web}"}
        await asyncio.sleep(3)  # Traefik's first health check

        user, ids = await seed(urls["on"]["direct"])
        paths = "/api/v1/placas?page=1&pageSize=50"
        results: dict[tuple[str, str], LoadResult] = {}
        # interleave the configurations so machine noise hits both alike
        for via in ("direct", "gateway"):
            for name in ("off", "on"):
                label = f"cache {'disabled' if name == 'off' else 'warm'}, {via}"
                results[(name, via)] = await load(
                    label, urls[name][via], paths, headers=user, requests=REQUESTS
                )

        commands = {}
        for name in ("off", "on"):
            commands[name], errors = await mix(urls[name]["direct"], user, ids, seed_value=42)
            assert errors == 0, f"{errors} errors in the read/write mix ({name})"

        rows = "\n".join(r.row() for r in results.values())
        d_off, d_on = results[("off", "direct")], results[("on", "direct")]
        g_off, g_on = results[("off", "gateway")], results[("on", "gateway")]
        fewer = 100 * (1 - commands["on"][0] / commands["off"][0])
        fewer_reads = 100 * (1 - commands["on"][1] / commands["off"][1])
        return f"""
`GET /api/v1/placas?page=1&pageSize=50` as a plain user (admins bypass the cache), {PLACAS} placas,
{REQUESTS} requests per row, 8 concurrent clients, one uvicorn worker per core-api, FerretDB
(SQLite) and Redis on the same 2-core machine. Rows were measured interleaved in one run.

| configuration | req/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
{rows}

| ratio (warm cache vs disabled) | direct | through Traefik |
|---|---|---|
| requests/s | {ratio(d_on.rps, d_off.rps)} | {ratio(g_on.rps, g_off.rps)} |
| p50 latency (lower is better) | {ratio(d_off.p50, d_on.p50)} faster | {ratio(g_off.p50, g_on.p50)} faster |
| p99 latency | {ratio(d_off.p99, d_on.p99)} faster | {ratio(g_off.p99, g_on.p99)} faster |

MongoDB commands for the same {MIX_OPS}-operation mix (90 % reads: list pages 1–10 and single
placas; 10 % PATCH of a placa), counted by pymongo command monitoring in each process:

| | all MongoDB commands | per operation | read commands (find/count/aggregate) |
|---|---|---|---|
| cache disabled | {commands["off"][0]:.0f} | {commands["off"][0] / MIX_OPS:.2f} | {commands["off"][1]:.0f} |
| cache on | {commands["on"][0]:.0f} | {commands["on"][0] / MIX_OPS:.2f} | {commands["on"][1]:.0f} |
| reduction | {fewer:.0f} % fewer | | {fewer_reads:.0f} % fewer reads |

Without the cache every request also reads its user (auth); with it that lookup is cached under
the empresa's "users" generation. A PATCH of a placa makes every cached placas list page of the
empresa stale (any page may show it), so list pages are recomputed after each write: that, plus the
writes' own update and read-back, is what remains.
"""
    finally:
        for p in reversed(procs):
            p.stop()


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        body = asyncio.run(run(Path(tmp)))
    write_section("Read path cache (issue 4)", body)
    return body


if __name__ == "__main__":
    print(main())
