"""Read-path benchmark (issues 4 and 16), side by side in one run on the same FerretDB and Redis.

`GET /api/v1/placas?page=1&pageSize=50`, 500 placas in one empresa, as a plain user (cached):

- core-api (2 uvicorn workers), direct and through the project's Traefik;
- the seed's twin (scripts/bench/twin: Express + Mongoose + ioredis, `node:cluster` 2 workers, JWT
  verified with a KeyObject made once, cache-aside in Redis), installed with `npm ci`;
- a bare Litestar app returning the same stored body (2 workers): the Python ceiling.

Rounds are interleaved (every side once per round) and the load comes from autocannon (the twin's
dev dependency; Node, so the generator is not the Python bottleneck). Also: Redis commands per hit
(Redis INFO commandstats deltas), MongoDB reads of a 90 % read / 10 % write mix with the cache on vs
off, and uncached page latency against the collection's size (500 / 5,000 / 20,000 placas).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pymongo
from bson import ObjectId
from devstack.gateway import render_gateway
from devstack.servers import (
    ROOT,
    Server,
    _spawn,
    free_port,
    start_ferretdb,
    start_redis,
    start_service,
    start_traefik,
)
from redis import Redis

from bench.common import write_section

TWIN = ROOT / "scripts" / "bench" / "twin"

PLACAS = 500
PAGE_SIZE = 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = 32
HIT_PROBES = 200
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "500,5000,20000").split(","))
MIX_OPS = int(os.environ.get("BENCH_MIX_OPS", "400"))
METRICS_AUTH = ("metrics", "dev-metrics-password")


async def seed(base: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """An empresa with 5 regiões and 500 placas; returns a user's and an admin's header, placa ids."""
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
        return user, admin, ids


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


def npm_ci() -> None:
    """Install the twin exactly as locked (skipped when node_modules matches the lock file)."""
    stamp = TWIN / "node_modules" / ".package-lock.json"
    lock = TWIN / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TWIN, check=True)


def start_twin(env: dict[str, str], port: int, workdir: Path) -> Server:
    proc, log = _spawn("twin", ["node", str(TWIN / "server.js")], workdir, env={**env, "PORT": str(port)})
    srv = Server("twin", port, proc, workdir, log, {"url": f"http://127.0.0.1:{port}"})
    wait_http(f"{srv.url}/health", srv)
    return srv


def start_bare(body: bytes, port: int, workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "body.json").write_bytes(body)
    env = {"BARE_BODY_FILE": str(workdir / "body.json"), "PYTHONPATH": str(ROOT / "scripts")}
    python = str(ROOT / ".venv" / "bin" / "python")
    args = [python, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--workers", "2"]
    proc, log = _spawn("bare", [*args, "--log-level", "warning", "--no-access-log"], workdir, env=env)
    srv = Server("bare", port, proc, workdir, log, {"url": f"http://127.0.0.1:{port}"})
    wait_http(f"{srv.url}/health", srv)
    return srv


def wait_http(url: str, srv: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.name} exited:\n{srv.log_tail()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{srv.name} not up:\n{srv.log_tail()}")


def autocannon(url: str, headers: dict[str, str]) -> dict[str, float]:
    """req/s, p50, p99 (ms) and errors of SECONDS of load with CONNECTIONS keep-alive connections."""
    exe = str(TWIN / "node_modules" / ".bin" / "autocannon")
    args = [exe, "-j", "-c", str(CONNECTIONS), "-d", str(SECONDS)]
    for name, value in headers.items():
        args += ["-H", f"{name}={value}"]
    out = subprocess.run([*args, url], capture_output=True, check=True, text=True).stdout
    data = json.loads(out)
    return {
        "rps": data["requests"]["average"],
        "p50": data["latency"]["p50"],
        "p99": data["latency"]["p99"],
        "errors": data["errors"] + data["non2xx"],
    }


def redis_calls(redis: Redis) -> int:
    """Commands Redis has executed so far, without INFO itself and stream/pub-sub housekeeping of
    background consumers (not part of a request)."""
    stats = redis.info("commandstats")
    skip = ("cmdstat_info", "cmdstat_x", "cmdstat_ping", "cmdstat_publish", "cmdstat_subscribe")
    return sum(int(v["calls"]) for k, v in stats.items() if not k.startswith(skip))


def commands_per_hit(redis: Redis, url: str, headers: dict[str, str]) -> float:
    with httpx.Client(headers=headers, timeout=30) as c:
        for _ in range(3):
            c.get(url).raise_for_status()  # warm: entry stored, user state kept
        before = redis_calls(redis)
        for _ in range(HIT_PROBES):
            c.get(url).raise_for_status()
        return (redis_calls(redis) - before) / HIT_PROBES


def page_latency(url: str, headers: dict[str, str], n: int = 5) -> float:
    """Median ms of `n` sequential uncached (admin) page requests."""
    times = []
    with httpx.Client(headers=headers, timeout=120) as c:
        for _ in range(n):
            t0 = time.perf_counter()
            c.get(url).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def grow_collection(mongo_url: str, db: str, to: int) -> None:
    """Other empresas' placas until the collection holds `to` documents (FerretDB v1 scans them all)."""
    client: pymongo.MongoClient = pymongo.MongoClient(mongo_url)
    try:
        coll = client[db]["placas"]
        missing = to - coll.count_documents({})
        now = datetime.datetime.now(datetime.UTC)
        other, regiao = ObjectId(), ObjectId()
        for start in range(0, missing, 1000):
            docs = [
                {
                    "empresa_id": other,
                    "numero": f"O-{start + i:06d}",
                    "regiao_id": regiao,
                    "endereco": f"Rua de outra empresa, {start + i}",
                    "cidade": "Campinas",
                    "valor_mensal_centavos": 100_000,
                    "ativa": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(min(1000, missing - start))
            ]
            coll.insert_many(docs, ordered=False)
    finally:
        client.close()


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def run(tmp: Path) -> str:
    npm_ci()
    redis = start_redis(tmp / "redis")
    mongo = start_ferretdb(tmp / "ferretdb")
    procs: list[Server] = [redis, mongo]
    try:
        db = "bench_core"
        common = {
            **os.environ,
            "ENVIRONMENT": "development",
            "MONGODB_URL": mongo.url,
            "REDIS_URL": redis.url,
            "CORE_API_MONGODB_DB": db,
            "CORE_API_WORKERS": "2",
            "LOG_LEVEL": "WARNING",
            "ACCESS_TOKEN_TTL_SECONDS": "14400",
            "LOGIN_MAX_ATTEMPTS_PER_ADDRESS": "1000",
            "GATEWAY_RATE_AVERAGE": "1000000",
            "GATEWAY_RATE_BURST": "1000000",
        }
        urls: dict[str, str] = {}
        for name, enabled in (("off", "false"), ("on", "true")):
            port = free_port()
            env = {**common, "CORE_API_PORT": str(port), "CORE_API_CACHE_ENABLED": enabled}
            env["CORE_API_URL"] = f"http://127.0.0.1:{port}"
            procs.append(start_service(f"core-api-cache-{name}", "core_api", port, env, tmp / f"api-{name}"))
            urls[name] = f"http://127.0.0.1:{port}"
            if name == "on":
                web, internal = free_port(), free_port()
                static = render_gateway(tmp / "gw", web_port=web, internal_port=internal, keep_rollout=False)
                procs.append(start_traefik(static, tmp / "gw", web, env=env))
                urls["gateway"] = f"http://127.0.0.1:{web}"
        user, admin, ids = await seed(urls["on"])
        secret = os.environ.get("JWT_SECRET") or _dev_secret()
        twin_env = {
            "MONGODB_URL": mongo.url,
            "MONGODB_DB": db,
            "REDIS_URL": redis.url,
            "JWT_SECRET": secret,
            "JWT_ISSUER": os.environ.get("JWT_ISSUER", "outdoor-core-api"),
            "WORKERS": "2",
        }
        procs.append(start_twin(twin_env, free_port(), tmp / "twin"))
        urls["twin"] = procs[-1].url
        path = f"/api/v1/placas?page=1&pageSize={PAGE_SIZE}"
        async with httpx.AsyncClient(headers=user, timeout=30) as c:
            body = (await c.get(urls["on"] + path)).content
        procs.append(start_bare(body, free_port(), tmp / "bare"))
        urls["bare"] = procs[-1].url
        await wait_gateway(urls["gateway"] + path, user)

        probe = Redis.from_url(redis.url)
        per_hit = {
            "core-api": commands_per_hit(probe, urls["on"] + path, user),
            "twin": commands_per_hit(probe, urls["twin"] + path, user),
        }

        sides = {
            "core-api cached, direct": urls["on"],
            "twin cached (KeyObject JWT)": urls["twin"],
            "bare Litestar (stored body)": urls["bare"],
            "core-api cached, through Traefik": urls["gateway"],
        }
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for _ in range(ROUNDS):  # interleaved: machine noise hits every side alike
            for name, base in sides.items():
                rounds[name].append(autocannon(base + path, user))

        def ratios(a: str, b: str, field: str) -> float:
            return med([x[field] / y[field] for x, y in zip(rounds[a], rounds[b], strict=True) if y[field]])

        core, twin, bare, gw = sides
        table = "\n".join(_row(name, rs) for name, rs in rounds.items())

        commands = {}
        for name in ("off", "on"):
            commands[name], errors = await mix(urls[name], user, ids, seed_value=42)
            assert errors == 0, f"{errors} errors in the read/write mix ({name})"
        fewer_reads = 100 * (1 - commands["on"][1] / commands["off"][1])

        sizes = []
        for size in SIZES:
            grow_collection(mongo.url, db, size)
            sizes.append(
                (
                    size,
                    page_latency(urls["on"] + path, admin),
                    page_latency(urls["twin"] + path, _admin_for_twin(admin)),
                )
            )
        size_rows = "\n".join(f"| {n:,} | {c:.0f} | {t:.0f} |" for n, c, t in sizes)
        probe.close()

        return f"""
`python -m bench cache_bench` on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} — {platform.machine()},
{os.cpu_count()} CPUs, **shared with five other engineers' test runs** (noisy: read the ratios, not the
absolute numbers). `GET {path}`, {PLACAS} placas in one empresa, as a plain user (cached; admins
bypass every cache). Every server has 2 worker processes on the same FerretDB and Redis; autocannon,
{CONNECTIONS} keep-alive connections, {SECONDS} s per side per round, {ROUNDS} interleaved rounds.

| side | req/s per round | p50 ms | p99 ms | errors |
|---|---|---|---|---|
{table}

| ratio (median of per-round ratios) | value | target |
|---|---|---|
| core-api cached vs twin, req/s | {ratios(core, twin, "rps"):.2f}× | ≥ 1.5× |
| core-api cached vs bare Litestar, req/s | {100 * ratios(core, bare, "rps"):.0f} % | ≥ 30 % |
| core-api p50 vs twin p50 | {ratios(core, twin, "p50"):.2f}× | |
| core-api p99 vs twin p99 | {ratios(core, twin, "p99"):.2f}× | |
| through Traefik vs direct, p50 | {ratios(gw, core, "p50"):.2f}× | ≤ 1.3× |
| through Traefik vs direct, req/s | {ratios(gw, core, "rps"):.2f}× | |

Redis commands per cache hit (Redis `INFO commandstats` deltas over {HIT_PROBES} sequential hits,
every command counted except INFO itself and background stream consumers): core-api
**{per_hit["core-api"]:.2f}** (target ≤ 2: one MGET of the token version, the entry and its area
generation), twin **{per_hit["twin"]:.2f}** (its GET; the twin checks no revocation).

Reading it: both sides now send one Redis command per hit, so the hit ratio to the twin is the
difference of everything else. The bare Litestar app has no Redis round trip and no middleware: under
this machine's load a round trip to Redis (a context switch to another process) costs more wall time
than the rest of the hit (an in-process profile of a core-api hit, without HTTP parsing: about
0.85 ms, most of it in the Redis socket write/poll; the request-id/logging, Prometheus, auth and
idempotency middlewares make most of the rest).

MongoDB commands for the same {MIX_OPS}-operation mix (90 % reads: list pages 1–10 and single
placas; 10 % PATCH of a placa), counted by pymongo command monitoring in each core-api:

| | all MongoDB commands | per operation | read commands (find/count/aggregate) |
|---|---|---|---|
| cache disabled | {commands["off"][0]:.0f} | {commands["off"][0] / MIX_OPS:.2f} | {commands["off"][1]:.0f} |
| cache on | {commands["on"][0]:.0f} | {commands["on"][0] / MIX_OPS:.2f} | {commands["on"][1]:.0f} |
| reduction | {100 * (1 - commands["on"][0] / commands["off"][0]):.0f} % fewer | | **{fewer_reads:.0f} % fewer reads** (target ≥ 90 %) |

With the cache off, core-api also keeps no user state (each request loads its user). What remains
with the cache on: every PATCH makes every cached list page of the empresa stale (any page may show
the placa, and its position may change), so with 10 % writes spread over pages 1–10 most list reads
between two writes are misses (one find each; the total is counted once per generation), plus the
PATCHes' own reads. Single placas are checked against their own version and mostly hit.

Uncached page (an admin: no cache), median of 5 sequential requests, the same {PLACAS}-placa empresa's
first page while other empresas' placas fill the collection (FerretDB v1 pushes neither the tenant
filter nor the sort down: every page scans the whole collection):

| placas in the collection | core-api ms | twin ms |
|---|---|---|
{size_rows}
"""
    finally:
        for p in reversed(procs):
            p.stop()


async def wait_gateway(url: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(headers=headers, timeout=5) as c:
        while time.monotonic() < deadline:
            try:
                if (await c.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the gateway does not route to core-api")


def _row(name: str, rs: list[dict[str, float]]) -> str:
    per_round = " – ".join(f"{r['rps']:.0f}" for r in rs)
    p50, p99 = med([r["p50"] for r in rs]), med([r["p99"] for r in rs])
    return f"| {name} | {per_round} | {p50:.1f} | {p99:.1f} | {sum(r['errors'] for r in rs):.0f} |"


def _admin_for_twin(admin: dict[str, str]) -> dict[str, str]:
    return admin  # the same token: the twin bypasses its cache for admins too


def _dev_secret() -> str:
    from shared.settings import DEV_JWT_SECRET

    return DEV_JWT_SECRET


def main() -> str:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node and npm are needed for the twin (Debian: nodejs npm)")
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        body = asyncio.run(run(Path(tmp)))
    write_section("Read path cache (issue 4)", body)
    return body


if __name__ == "__main__":
    print(main())
