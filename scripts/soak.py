"""`make soak`: a bounded soak with chaos against the local stack (`make up`), local addresses only.

Steady, open-loop mixed load through the gateway (three tenants: 40 % list placas, 15 % list
aluguéis, 15 % list clientes, 5 % availability search, 10 % bookings, 5 % PDF jobs, 10 % PDF job
status) while one
fault a minute rotates through:

  kill-core-api-worker   SIGKILL one uvicorn worker of core-api (its `serve` parent replaces it)
  kill-pdf-worker        SIGKILL the PDF job consumer (supervisord restarts it)
  kill-pdf-api-worker    SIGKILL one uvicorn worker of pdf-service
  term-core-api-parent   SIGTERM core-api's `serve` parent (it drains and exits; supervisord restarts it)
  stop-redis-10s         SIGSTOP Redis for 10 s, then SIGCONT
  stop-ferretdb-5s       SIGSTOP FerretDB for 5 s, then SIGCONT

It reports the success ratio (2xx, and 409 for a booking that collides: the right answer), the
longest outage per fault, p50/p99 in calm and fault windows, PDF jobs created/done/failed/lost/
duplicated, booking-integrity violations (two live aluguéis of one placa on the same day, or a
booking answered 201 that is not listed) and whether every killed process came back by itself.
Results go to docs/soak.md; the exit status is 1 below target (99.9 %, 0 lost/duplicated jobs,
0 violations, every process back).

If the stack is not running, the soak starts it (scripts/stack.py) and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from devstack.servers import ROOT, worker_pids
from devstack.supervisor import program_pid

DATA = Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data"))
CONF = DATA / "supervisor" / "supervisord.conf"
TARGET_SUCCESS = 99.9
#: a fault's window: from the fault until this long after it (the rest of the run is "calm")
FAULT_WINDOW_S = 30.0
FAULTS = (
    "kill-core-api-worker",
    "kill-pdf-worker",
    "kill-pdf-api-worker",
    "term-core-api-parent",
    "stop-redis-10s",
    "stop-ferretdb-5s",
)
TZ = "-03:00"


# ------------------------------------------------------------------ records
@dataclass
class Sample:
    op: str
    start: float
    end: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    ok: bool
    error: str = ""


@dataclass
class FaultRecord:
    name: str
    at: float
    detail: str = ""
    back_after_s: float | None = None  # None: did not come back within the bound
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Tenant:
    name: str
    email: str
    password: str
    token: str = ""
    token_at: float = 0.0
    placas: list[str] = field(default_factory=list)
    clientes: list[str] = field(default_factory=list)
    pis: list[str] = field(default_factory=list)
    booked: list[str] = field(default_factory=list)  # aluguel ids answered 201
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> PI id


# ------------------------------------------------------------------ processes
def children(pid: int) -> list[int]:
    """uvicorn's workers of a `serve` parent."""
    return worker_pids(pid)


def pid_of(program: str) -> int | None:
    return program_pid(CONF, program)


async def wait_until(predicate, timeout: float) -> float | None:  # noqa: ANN001
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await asyncio.to_thread(predicate):
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    return None


async def inject(name: str, rec: FaultRecord) -> None:
    """Do the fault; set rec.back_after_s when the process (or a replacement) is serving again."""
    start = time.monotonic()

    def back(program: str, old: int | None = None, workers_of: int | None = None):  # noqa: ANN202
        def check() -> bool:
            pid = pid_of(program)
            if pid is None or pid == old:
                return False
            return workers_of is None or len(children(pid)) >= workers_of

        return check

    if name in ("kill-core-api-worker", "kill-pdf-api-worker"):
        program = "core-api" if name == "kill-core-api-worker" else "pdf-api"
        parent = pid_of(program)
        workers = children(parent) if parent else []
        if not workers:
            rec.detail = f"no {program} worker found"
            return
        victim = random.choice(workers)
        os.kill(victim, signal.SIGKILL)
        rec.detail = f"SIGKILL {program} worker {victim}"

        def replaced() -> bool:
            now = children(parent)  # type: ignore[arg-type]
            return victim not in now and len(now) >= len(workers)

        took = await wait_until(replaced, 120)
    elif name == "kill-pdf-worker":
        pid = pid_of("pdf-worker")
        if pid is None:
            rec.detail = "pdf-worker not running"
            return
        os.kill(pid, signal.SIGKILL)
        rec.detail = f"SIGKILL pdf-worker {pid}"
        took = await wait_until(back("pdf-worker", pid), 120)
    elif name == "term-core-api-parent":
        pid = pid_of("core-api")
        if pid is None:
            rec.detail = "core-api not running"
            return
        n = len(children(pid)) or 1
        os.kill(pid, signal.SIGTERM)
        rec.detail = f"SIGTERM core-api serve parent {pid}"
        took = await wait_until(back("core-api", pid, workers_of=n), 120)
    else:
        program, seconds = ("redis", 10) if name == "stop-redis-10s" else ("mongodb", 5)
        pid = pid_of(program)
        if pid is None:
            rec.detail = f"{program} not running"
            return
        os.kill(pid, signal.SIGSTOP)
        rec.detail = f"SIGSTOP {program} {pid} for {seconds} s"
        try:
            await asyncio.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)
        took = await wait_until(lambda: pid_of(program) == pid, 30)
    rec.back_after_s = None if took is None else round(time.monotonic() - start, 2)


# ------------------------------------------------------------------ load
class Load:
    def __init__(self, base: str, tenants: list[Tenant], rate: float) -> None:
        self.base = base
        self.tenants = tenants
        self.rate = rate
        self.samples: list[Sample] = []
        self.client = httpx.AsyncClient(
            base_url=base, timeout=httpx.Timeout(60.0), limits=httpx.Limits(max_connections=200)
        )
        self.rng = random.Random(12)
        self.tasks: set[asyncio.Task] = set()

    async def request(
        self, op: str, method: str, path: str, tenant: Tenant | None, **kw
    ) -> httpx.Response | None:  # noqa: ANN003
        headers = {"authorization": f"Bearer {tenant.token}"} if tenant else {}
        if method == "POST":
            # as a well-behaved client does: a POST the gateway replays (its worker died) runs once
            headers["Idempotency-Key"] = str(uuid.uuid4())
        start = time.monotonic()
        try:
            r = await self.client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            self.samples.append(Sample(op, start, time.monotonic(), 0, False, type(exc).__name__))
            return None
        ok = 200 <= r.status_code < 300 or (op == "book" and r.status_code == 409)
        err = "" if ok else r.text[:200]
        self.samples.append(Sample(op, start, time.monotonic(), r.status_code, ok, err))
        return r

    async def one(self) -> None:
        t = self.rng.choice(self.tenants)
        roll = self.rng.random()
        if roll < 0.40:
            await self.request("list-placas", "GET", "/api/v1/placas", t)
        elif roll < 0.45:
            d = date(2031, 1, 1) + timedelta(days=self.rng.randrange(0, 700))
            q = urllib.parse.urlencode(
                {"inicio": f"{d}T00:00:00{TZ}", "fim": f"{d + timedelta(days=14)}T00:00:00{TZ}"}
            )
            await self.request("disponiveis", "GET", f"/api/v1/placas/disponiveis?{q}", t)
        elif roll < 0.60:
            await self.request("list-alugueis", "GET", "/api/v1/alugueis?pageSize=20", t)
        elif roll < 0.70:
            d = date(2031, 1, 1) + timedelta(days=self.rng.randrange(0, 700))
            body = {
                "placaId": self.rng.choice(t.placas),
                "clienteId": self.rng.choice(t.clientes),
                "inicio": f"{d}T00:00:00{TZ}",
                "fim": f"{d + timedelta(days=self.rng.randrange(1, 15))}T00:00:00{TZ}",
                "valorCentavos": 10000,
            }
            r = await self.request("book", "POST", "/api/v1/alugueis", t, json=body)
            if r is not None and r.status_code == 201:
                t.booked.append(r.json()["id"])
        elif roll < 0.75:
            pi = self.rng.choice(t.pis)
            r = await self.request("pdf-job", "POST", f"/api/v1/pis/{pi}/pdf-jobs", t)
            if r is not None and r.status_code == 202:
                t.jobs[r.json()["jobId"]] = pi
        elif roll < 0.85 and t.jobs:
            job = self.rng.choice(list(t.jobs))
            # core-api owns the job from the POST on: a 404 here is a failure
            await self.request("pdf-status", "GET", f"/api/v1/pdf-jobs/{job}", t)
        else:
            await self.request("list-clientes", "GET", "/api/v1/clientes", t)

    async def run(self, seconds: float, on_tick=None) -> None:  # noqa: ANN001
        interval = 1.0 / self.rate
        start = time.monotonic()
        n = 0
        while (now := time.monotonic()) - start < seconds:
            for t in self.tenants:  # tokens live 15 min
                if now - t.token_at > 600:
                    await login(self.client, t)
            task = asyncio.create_task(self.one())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            n += 1
            if on_tick:
                on_tick()
            await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=60)


async def login(client: httpx.AsyncClient, t: Tenant) -> None:
    for _ in range(30):
        with contextlib.suppress(httpx.HTTPError):
            r = await client.post("/api/v1/auth/login", json={"email": t.email, "password": t.password})
            if r.status_code == 200:
                t.token, t.token_at = r.json()["accessToken"], time.monotonic()
                return
        await asyncio.sleep(2)
    raise RuntimeError(f"cannot log in as {t.email}")


async def setup_tenants(base: str, n: int) -> list[Tenant]:
    run = uuid.uuid4().hex[:8]
    tenants = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for i in range(n):
            t = Tenant(f"soak-{run}-{i}", f"soak-{run}-{i}@soak.local", f"soak-pass-{run}")
            r = await c.post(
                "/api/v1/auth/register",
                json={
                    "empresa": {"nome": f"Soak {run} {i}"},
                    "admin": {"nome": "Soak", "email": t.email, "password": t.password},
                },
            )
            if not 200 <= r.status_code < 300:
                raise RuntimeError(f"register {t.email}: {r.status_code} {r.text[:300]}")
            await login(c, t)
            h = {"authorization": f"Bearer {t.token}"}

            async def post(path: str, body: dict, h: dict = h) -> dict:
                r = await c.post(path, json=body, headers=h)
                if r.status_code != 201:
                    raise RuntimeError(f"setup POST {path}: {r.status_code} {r.text[:300]}")
                return r.json()

            regiao = (await post("/api/v1/regioes", {"nome": "Centro"}))["id"]
            for k in range(8):
                p = await post(
                    "/api/v1/placas",
                    {"numero": f"S-{i}-{k:02d}", "regiaoId": regiao, "endereco": f"Rua Soak, {k + 1}"},
                )
                t.placas.append(p["id"])
            for k in range(2):
                t.clientes.append((await post("/api/v1/clientes", {"nome": f"Cliente Soak {k}"}))["id"])
            for k in range(2):  # PIs for the PDF jobs, on placas and dates the bookings never use
                pi = await post(
                    "/api/v1/pis",
                    {
                        "clienteId": t.clientes[0],
                        "placaIds": [t.placas[k]],
                        "inicio": f"2030-0{k + 1}-01T00:00:00{TZ}",
                        "fim": f"2030-0{k + 1}-15T00:00:00{TZ}",
                        "valorTotalCentavos": 500000,
                        "produto": "Soak",
                    },
                )
                t.pis.append(pi["id"])
            tenants.append(t)
    return tenants


# ------------------------------------------------------------------ checks after the run
async def get_patiently(
    c: httpx.AsyncClient, path: str, headers: dict, tries: int = 10
) -> httpx.Response | None:
    """A check's GET: the stack may still be digesting the load; retry instead of failing the run."""
    for _ in range(tries):
        with contextlib.suppress(httpx.HTTPError):
            r = await c.get(path, headers=headers)
            if r.status_code < 500:
                return r
        await asyncio.sleep(3)
    return None


async def check_jobs(base: str, tenants: list[Tenant], grace: float) -> dict[str, int]:
    created = sum(len(t.jobs) for t in tenants)
    final: dict[str, str] = {}
    docs: dict[str, set[str]] = defaultdict(set)
    deadline = time.monotonic() + grace
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        for t in tenants:
            await login(c, t)
        while time.monotonic() < deadline:
            pending = 0
            for t in tenants:
                h = {"authorization": f"Bearer {t.token}"}
                for job in t.jobs:
                    if final.get(job) in ("done", "failed"):
                        continue
                    with contextlib.suppress(httpx.HTTPError):
                        r = await c.get(f"/api/v1/pdf-jobs/{job}", headers=h)
                        if r.status_code == 200:
                            final[job] = r.json()["status"]
                            if r.json().get("documentId"):
                                docs[job].add(r.json()["documentId"])
                    pending += final.get(job) not in ("done", "failed")
            if not pending:
                break
            await asyncio.sleep(3)
        # a job listed twice by core-api, or one job with two documents, is a duplicate
        duplicated = 0
        for t in tenants:
            h = {"authorization": f"Bearer {t.token}"}
            for pi in t.pis:
                r = await get_patiently(c, f"/api/v1/pis/{pi}/pdf-jobs", h)
                if r is not None and r.status_code == 200:
                    ids = Counter(j["jobId"] for j in r.json())
                    duplicated += sum(n - 1 for n in ids.values() if n > 1)
                    for j in r.json():
                        if j.get("documentId"):
                            docs[j["jobId"]].add(j["documentId"])
        duplicated += sum(len(d) - 1 for d in docs.values() if len(d) > 1)
    states = Counter(final.get(j, "unknown") for t in tenants for j in t.jobs)
    return {
        "created": created,
        "done": states["done"],
        "failed": states["failed"],
        "lost": created - states["done"] - states["failed"],
        "duplicated": duplicated,
    }


async def check_bookings(base: str, tenants: list[Tenant]) -> dict[str, int]:
    overlaps = missing = listed = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        for t in tenants:
            await login(c, t)
            h = {"authorization": f"Bearer {t.token}"}
            items: list[dict] = []
            page = 1
            while True:
                r = await get_patiently(c, f"/api/v1/alugueis?page={page}&pageSize=100", h)
                if r is None or r.status_code != 200:
                    raise RuntimeError(f"cannot list aluguéis of {t.email}: {r and r.status_code}")
                body = r.json()
                items += body["items"]
                if page * 100 >= body["total"]:
                    break
                page += 1
            listed += len(items)
            ids = {a["id"] for a in items}
            missing += sum(1 for b in t.booked if b not in ids)
            by_placa: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for a in items:
                if a["status"] != "cancelado":
                    by_placa[a["placaId"]].append((a["diaInicio"], a["diaFim"]))
            for spans in by_placa.values():
                spans.sort()
                overlaps += sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] <= a[1])
    return {"listed": listed, "overlaps": overlaps, "missing": missing}


# ------------------------------------------------------------------ report
def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def longest_outage(samples: list[Sample]) -> float:
    """The longest run of consecutive failed requests (by start time): first start to last end."""
    longest, run_start, run_end = 0.0, None, None
    for s in sorted(samples, key=lambda s: s.start):
        if not s.ok:
            run_start = s.start if run_start is None else run_start
            run_end = max(run_end or s.end, s.end)
            longest = max(longest, run_end - run_start)
        else:
            run_start = run_end = None
    return longest


def summarise(samples: list[Sample]) -> dict:
    lat = [(s.end - s.start) * 1000 for s in samples if s.ok]
    ok = sum(s.ok for s in samples)
    return {
        "requests": len(samples),
        "ok": ok,
        "success": 100.0 * ok / len(samples) if samples else 100.0,
        "p50": pct(lat, 0.50),
        "p99": pct(lat, 0.99),
        "outage": longest_outage(samples),
        "failures": Counter(f"{s.op} {s.status or s.error}" for s in samples if not s.ok),
    }


def write_report(
    path: Path, args, overall, calm, faults, jobs, bookings, duration, verdict, load_note
) -> None:  # noqa: ANN001
    lines = [
        "# Soak with chaos (`make soak`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {duration / 60:.1f} min, target rate {args.rate} req/s "
        f"through the gateway, 3 tenants, one fault every {args.fault_every:.0f} s "
        f"(fault window: {FAULT_WINDOW_S:.0f} s after each). {load_note}",
        "",
        f"**Verdict: {'PASS' if not verdict else 'FAIL — ' + '; '.join(verdict)}**",
        "",
        "| | requests | success % | p50 ms | p99 ms | longest outage s | back by itself after s | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]

    def row(name: str, s: dict, back: str = "") -> str:
        fails = ", ".join(f"{k} ×{v}" for k, v in s["failures"].most_common(4)) or "—"
        return (
            f"| {name} | {s['requests']} | {s['success']:.2f} | {s['p50']:.0f} | {s['p99']:.0f} | "
            f"{s['outage']:.1f} | {back} | {fails} |"
        )

    lines.append(row("**all**", overall))
    lines.append(row("calm", calm))
    for f in faults:
        back = "not back" if f.back_after_s is None else f"{f.back_after_s:.1f}"
        lines.append(row(f"{f.name} @{f.at:.0f}s ({f.detail})", summarise(f.samples), back))
    lines += [
        "",
        f"PDF jobs: created {jobs['created']}, done {jobs['done']}, failed {jobs['failed']}, "
        f"lost {jobs['lost']}, duplicated {jobs['duplicated']}.",
        f"Bookings: {bookings['listed']} aluguéis listed; overlapping live aluguéis of one placa: "
        f"{bookings['overlaps']}; answered 201 but not listed: {bookings['missing']}.",
        "",
        "Success = 2xx, or 409 for a booking that collides with another (the right answer). A request "
        "with no answer (connection error, 60 s timeout) is a failure. Outage = the longest run of "
        "consecutive failed requests.",
        "",
    ]
    path.write_text("\n".join(lines))


# ------------------------------------------------------------------ main
def ensure_local(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        sys.exit(f"soak: {url} is not a local address; the soak only runs against this machine")


def stack_running() -> bool:
    return CONF.exists() and pid_of("core-api") is not None


def start_stack(log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("w")
    proc = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "stack.py")],
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if "Stack is up." in log.read_text():
            return proc
        if proc.poll() is not None:
            sys.exit(f"soak: make up exited ({proc.returncode}); see {log}")
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)
    sys.exit(f"soak: the stack did not come up within 300 s; see {log}")


async def soak(args) -> int:  # noqa: ANN001
    base = args.gateway.rstrip("/")
    tenants = await setup_tenants(base, 3)
    print(f"soak: {len(tenants)} tenants ready; {args.minutes} min at {args.rate} req/s", flush=True)
    load = Load(base, tenants, args.rate)
    faults: list[FaultRecord] = []
    t0 = time.monotonic()
    stop = asyncio.Event()

    async def chaos() -> None:
        i = 0
        await asyncio.sleep(args.first_fault)
        while not stop.is_set() and time.monotonic() - t0 < args.minutes * 60 - 5:
            name = FAULTS[i % len(FAULTS)]
            rec = FaultRecord(name, time.monotonic() - t0)
            faults.append(rec)
            print(f"soak: t={rec.at:5.0f}s fault {name}", flush=True)
            await inject(name, rec)
            print(f"soak:          {rec.detail}; back after {rec.back_after_s} s", flush=True)
            i += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, t0 + args.first_fault + i * args.fault_every - time.monotonic())
                )

    chaos_task = asyncio.create_task(chaos())
    await load.run(args.minutes * 60)
    stop.set()
    await chaos_task
    duration = time.monotonic() - t0
    await load.client.aclose()

    samples = load.samples
    calm = []
    for s in samples:
        owner = None
        for f in faults:
            if t0 + f.at <= s.start < t0 + f.at + FAULT_WINDOW_S:
                owner = f
        if owner:
            owner.samples.append(s)
        else:
            calm.append(s)
    overall, calm_s = summarise(samples), summarise(calm)
    print(
        f"soak: load done: {overall['requests']} requests, {overall['success']:.2f} % ok, calm p50/p99 "
        f"{calm_s['p50']:.0f}/{calm_s['p99']:.0f} ms; checking PDF jobs and bookings",
        flush=True,
    )
    jobs = await check_jobs(base, tenants, grace=180)
    bookings = await check_bookings(base, tenants)
    verdict = []
    if overall["success"] < TARGET_SUCCESS:
        verdict.append(f"success {overall['success']:.2f} % < {TARGET_SUCCESS} %")
    if jobs["lost"] or jobs["duplicated"]:
        verdict.append(f"PDF jobs lost {jobs['lost']}, duplicated {jobs['duplicated']}")
    if bookings["overlaps"] or bookings["missing"]:
        verdict.append(f"booking violations {bookings['overlaps'] + bookings['missing']}")
    not_back = [f.name for f in faults if f.back_after_s is None]
    if not_back:
        verdict.append(f"not back by itself: {', '.join(not_back)}")
    achieved = overall["requests"] / duration if duration else 0
    load_note = (
        f"Achieved {achieved:.1f} req/s. Machine: {os.cpu_count()} cores, load average "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} at the end (shared with other work)."
    )
    if args.report:
        write_report(
            Path(args.report), args, overall, calm_s, faults, jobs, bookings, duration, verdict, load_note
        )
        print(f"soak: wrote {args.report}", flush=True)
    print(
        json.dumps(
            {
                "success_pct": round(overall["success"], 3),
                "requests": overall["requests"],
                "req_per_s": round(achieved, 1),
                "p50_ms": {"calm": round(calm_s["p50"]), "all": round(overall["p50"])},
                "p99_ms": {"calm": round(calm_s["p99"]), "all": round(overall["p99"])},
                "faults": [
                    {
                        "fault": f.name,
                        "success_pct": round(summarise(f.samples)["success"], 2),
                        "longest_outage_s": round(summarise(f.samples)["outage"], 2),
                        "p50_ms": round(summarise(f.samples)["p50"]),
                        "p99_ms": round(summarise(f.samples)["p99"]),
                        "back_after_s": f.back_after_s,
                    }
                    for f in faults
                ],
                "pdf_jobs": jobs,
                "bookings": bookings,
                "verdict": verdict or "PASS",
            },
            indent=1,
        ),
        flush=True,
    )
    return 1 if verdict else 0


def main() -> None:
    ap = argparse.ArgumentParser(prog="make soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=15.0, help="length of the load (default 15)")
    ap.add_argument("--rate", type=float, default=10.0, help="requests per second (default 10)")
    ap.add_argument("--fault-every", type=float, default=60.0, help="seconds between faults (default 60)")
    ap.add_argument("--first-fault", type=float, default=30.0, help="seconds of calm before the first fault")
    ap.add_argument(
        "--gateway",
        default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8080')}",
        help="the gateway (a local address)",
    )
    ap.add_argument("--report", default=str(ROOT / "docs" / "soak.md"), help="markdown report ('' for none)")
    args = ap.parse_args()
    ensure_local(args.gateway)
    stack = None
    if not stack_running():
        print("soak: the stack is not running; starting it (scripts/stack.py)", flush=True)
        stack = start_stack(DATA / "logs" / "soak-stack.log")
    try:
        code = asyncio.run(soak(args))
    finally:
        if stack is not None:
            os.killpg(stack.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                stack.wait(timeout=90)
    sys.exit(code)


if __name__ == "__main__":
    main()
