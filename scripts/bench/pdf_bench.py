# ruff: noqa: ASYNC110 - polling loops keep the measuring code obvious; their granularity is far below what is measured
"""PDF rendering and the async PDF path, measured side by side in one run.

    PYTHONPATH=scripts .venv/bin/python -m bench.pdf_bench [--write] [--jobs 24]

Starts its own Redis and FerretDB (or uses BENCH_REDIS_URL / BENCH_MONGODB_URL), real
`pdf-service worker` processes, and prints: render time per page (1-page PI, 3-page contrato) in
process and in the per-document child process the worker uses; PDFs/s with 1 and 2 worker
processes; end-to-end job latency (publish pdf.requested → pdf.generated received) against the raw
render time; peak memory per worker (the event bus: `bench.events_bench`). `--write` replaces its section
in docs/benchmarks.md (`make bench` runs it through `python -m bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.servers import Server, start_ferretdb, start_redis, start_service

from bench import common

TITLE = "## PDF rendering, async PDF jobs and the EventBus"
EMPRESA = "665f00000000000000000001"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


# --- rendering ------------------------------------------------------------------------------------
def bench_render(repeat: int) -> dict[str, Any]:
    from shared.documents.isolated import IsolatedRenderer, render_blocking
    from shared.documents.render import render_document
    from shared.documents.samples import sample_snapshot

    pi = sample_snapshot("pi", placas=4)
    contrato = sample_snapshot("contrato", placas=10)
    out: dict[str, Any] = {}
    IsolatedRenderer.warm_up()
    for name, kind, snap in (("pi", "pi", pi), ("contrato", "contrato", contrato)):
        render_document(kind, snap)  # warm this process
        inproc, isolated = [], []
        pages = 0
        for _ in range(repeat):
            t = time.perf_counter()
            pages = render_document(kind, snap).pages
            inproc.append(time.perf_counter() - t)
            t = time.perf_counter()
            render_blocking(kind, snap, 60)
            isolated.append(time.perf_counter() - t)
        out[name] = {"pages": pages, "inproc": median(inproc), "isolated": median(isolated)}
    return out


# --- workers --------------------------------------------------------------------------------------
def worker_env(redis_url: str, mongodb_url: str, db: str, prefix: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "REDIS_URL": redis_url,
        "MONGODB_URL": mongodb_url,
        "PDF_SERVICE_MONGODB_DB": db,
        "EVENT_STREAM_PREFIX": prefix,
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def bench_workers(
    redis_url: str, mongodb_url: str, workdir: Path, n_workers: int, jobs: int
) -> dict[str, Any]:
    from pdf_service.settings import PdfServiceSettings
    from shared.documents.samples import sample_snapshot
    from shared.events import PDF_GENERATED, PDF_REQUESTED, PdfRequestedV1, bus_from_settings, new_event

    prefix = f"bench{uuid.uuid4().hex[:6]}:"
    db = f"bench_pdf_{uuid.uuid4().hex[:6]}"
    env = worker_env(redis_url, mongodb_url, db, prefix)
    settings = PdfServiceSettings(
        environment="test", redis_url=redis_url, mongodb_url=mongodb_url, event_stream_prefix=prefix,
        service_name="core-api",
    )  # fmt: skip
    bus = bus_from_settings(settings)
    received: dict[str, float] = {}
    got_one = asyncio.Event()

    async def on_generated(event: Any) -> None:
        received[event.data.job_id] = time.perf_counter()
        got_one.set()

    bus.subscribe(PDF_GENERATED, on_generated)
    workers: list[Server] = []
    snap = sample_snapshot("pi", placas=4, empresa_id=EMPRESA)

    def request(job_id: str) -> Any:
        payload = PdfRequestedV1(job_id=job_id, kind="pi", source_id=snap.source_id, snapshot=snap)
        return new_event(payload, empresa_id=EMPRESA)

    try:
        async with bus:
            for i in range(n_workers):
                workers.append(
                    start_service(
                        f"bench-worker-{n_workers}-{i}",
                        "pdf_service",
                        0,
                        env,
                        workdir,
                        args=("worker",),
                        health_path=None,
                    )
                )
            # wait until every worker consumes (its first job done)
            warm = [uuid.uuid4().hex for _ in range(n_workers * 2)]
            for job_id in warm:
                await bus.publish(PDF_REQUESTED, request(job_id))
            while not all(j in received for j in warm):
                await asyncio.sleep(0.05)
            # end-to-end latency of single jobs on idle workers
            latencies = []
            for _ in range(8 if n_workers == 1 else 0):
                job_id = uuid.uuid4().hex
                t = time.perf_counter()
                await bus.publish(PDF_REQUESTED, request(job_id))
                while job_id not in received:
                    await asyncio.sleep(0.002)
                latencies.append(received[job_id] - t)
            # throughput: a batch
            batch = [uuid.uuid4().hex for _ in range(jobs)]
            t0 = time.perf_counter()
            for job_id in batch:
                await bus.publish(PDF_REQUESTED, request(job_id))
            while not all(j in received for j in batch):
                await asyncio.sleep(0.01)
            elapsed = max(received[j] for j in batch) - t0
            rss = [peak_rss_mb(w.proc.pid) for w in workers]
    finally:
        for w in workers:
            w.stop(signal.SIGTERM, timeout=20)
    return {
        "workers": n_workers,
        "jobs": jobs,
        "pdfs_per_s": jobs / elapsed,
        "e2e_latency": median(latencies) if latencies else None,
        "peak_rss_mb": max(rss),
    }


# --- report ---------------------------------------------------------------------------------------
def report(render: dict, workers: list[dict], args: argparse.Namespace) -> str:
    pi, ct = render["pi"], render["contrato"]
    w1 = next(w for w in workers if w["workers"] == 1)
    w2 = next((w for w in workers if w["workers"] == 2), None)
    lines = [
        TITLE,
        "",
        f"`python -m bench.pdf_bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; Redis and FerretDB started by the script; "
        f"medians of {args.repeat} renders, {args.jobs}-job batches, {args.events} events.",
        "",
        "| rendering (WeasyPrint) | pages | in process | per page | per-document child process | per page | child / in process |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in (("PI", pi), ("contrato", ct)):
        lines.append(
            f"| {name} | {r['pages']} | {ms(r['inproc'])} | {ms(r['inproc'] / r['pages'])} | {ms(r['isolated'])} | "
            f"{ms(r['isolated'] / r['pages'])} | {r['isolated'] / r['inproc']:.2f}× |"
        )
    lines += [
        "",
        "| async PDF jobs (1-page PI, real `pdf-service worker` processes) | value | ratio |",
        "|---|---|---|",
        f"| 1 worker: PDFs/s | {w1['pdfs_per_s']:.2f} | 1.00× |",
    ]
    if w2:
        lines.append(
            f"| 2 workers: PDFs/s | {w2['pdfs_per_s']:.2f} | {w2['pdfs_per_s'] / w1['pdfs_per_s']:.2f}× of 1 worker |"
        )
    lines += [
        f"| raw render, in process (PI) | {ms(pi['inproc'])} | 1.00× |",
        f"| end-to-end job latency (publish pdf.requested → pdf.generated received) | {ms(w1['e2e_latency'])} | "
        f"{w1['e2e_latency'] / pi['inproc']:.2f}× of the raw render |",
        f"| peak RSS per worker process (VmHWM, render children excluded) | {w1['peak_rss_mb']:.0f} MB | |",
        "",
        "The worker's per-document child process costs the difference between the two render columns; "
        "it buys the time limit and a clean heap per document. The event bus has its own section "
        "(`bench.events_bench`).",
    ]
    return "\n".join(lines)


def write_section(text: str) -> Path:
    """Replace (or append) this benchmark's section of docs/benchmarks.md (`text` starts with TITLE)."""
    common.write_section(TITLE.removeprefix("## "), text.removeprefix(TITLE))
    return common.RESULTS


async def run(args: argparse.Namespace) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    servers: list[Server] = []
    try:
        redis_url = os.environ.get("BENCH_REDIS_URL")
        mongodb_url = os.environ.get("BENCH_MONGODB_URL")
        if not redis_url:
            servers.append(start_redis(tmp / "redis"))
            redis_url = servers[-1].url
        if not mongodb_url:
            servers.append(start_ferretdb(tmp / "ferretdb"))
            mongodb_url = servers[-1].url
        print("rendering …", file=sys.stderr)
        render = await asyncio.to_thread(bench_render, args.repeat)
        workers = []
        for n in (1, 2):
            print(f"{n} worker(s) …", file=sys.stderr)
            workers.append(await bench_workers(redis_url, mongodb_url, tmp / f"w{n}", n, args.jobs))
        return report(render, workers, args)
    finally:
        for srv in reversed(servers):
            srv.stop()


def main(argv: list[str] | None = None) -> str:
    """Run with `argv` (defaults: everything, written to docs/benchmarks.md, as `make bench` does)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    parser.add_argument("--repeat", type=int, default=7, help="renders per measurement")
    parser.add_argument("--jobs", type=int, default=24, help="jobs per throughput batch")
    args = parser.parse_args(["--write"] if argv is None else argv)
    text = asyncio.run(run(args))
    if args.write:
        print(f"written to {write_section(text)}", file=sys.stderr)
    return text


if __name__ == "__main__":
    print(main(sys.argv[1:]))
