"""Overhead of the HTTP metrics middleware (issue 7), measured side by side in one run.

Two core-api processes (1 uvicorn worker each, multiprocess metrics mode as in production) on the
same Redis and FerretDB: one with METRICS_ENABLED=true, one with false. GET /api/v1/health is
loaded in alternating rounds (on, off, off, on, ...) so drift on a shared machine hits both sides;
the table reports medians over the rounds. A second, in-process measurement calls the ASGI app
directly (no network, no server) to isolate the middleware's own cost per request.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from devstack.servers import free_port, start_ferretdb, start_redis, start_service

from bench.common import LoadResult, load, median, write_section

REQUESTS = int(os.environ.get("BENCH_METRICS_REQUESTS", "1500"))
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "3"))
CONCURRENCY = 8
ASGI_CALLS = int(os.environ.get("BENCH_METRICS_ASGI_CALLS", "3000"))
PATH = "/api/v1/health"


async def http_rounds(urls: dict[str, str]) -> dict[str, list[LoadResult]]:
    results: dict[str, list[LoadResult]] = {"on": [], "off": []}
    for n in range(ROUNDS):
        order = ("on", "off") if n % 2 == 0 else ("off", "on")
        for side in order:
            results[side].append(
                await load(side, urls[side], PATH, requests=REQUESTS, concurrency=CONCURRENCY, warmup=50)
            )
    return results


def asgi_microseconds(enabled: bool) -> float:
    """Median µs per GET /api/v1/health through the app's full middleware stack, in process."""
    os.environ["METRICS_ENABLED"] = "true" if enabled else "false"
    from core_api.server.app import create_app
    from core_api.settings import CoreApiSettings

    app = create_app(CoreApiSettings(environment="test", log_json=False, log_level="WARNING"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"unexpected status {message['status']}")

    async def run() -> list[float]:
        for _ in range(200):  # warm-up
            await app(dict(scope), receive, send)
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(ASGI_CALLS):
                await app(dict(scope), receive, send)
            samples.append((time.perf_counter() - t0) / ASGI_CALLS * 1e6)
        return samples

    return median(asyncio.run(run()))


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp_name:
        tmp = Path(tmp_name)
        redis, mongo = start_redis(tmp / "redis"), start_ferretdb(tmp / "ferretdb")
        servers = []
        try:
            base = {
                "ENVIRONMENT": "test",
                "MONGODB_URL": mongo.url,
                "REDIS_URL": redis.url,
                "CORE_API_MONGODB_DB": "bench_metrics",
                "CORE_API_WORKERS": "1",
                "LOG_LEVEL": "WARNING",
            }
            urls = {}
            for side, enabled in (("on", "true"), ("off", "false")):
                port = free_port()
                env = {
                    **base,
                    "CORE_API_PORT": str(port),
                    "METRICS_ENABLED": enabled,
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"metrics-{side}"),
                }
                servers.append(start_service(f"core-api-{side}", "core_api", port, env, tmp / side))
                urls[side] = f"http://127.0.0.1:{port}"
            results = asyncio.run(http_rounds(urls))
        finally:
            for srv in (*servers, mongo, redis):
                srv.stop()
    previous = os.environ.get("METRICS_ENABLED")
    # as in production: values in memory-mapped files (only possible before prometheus_client loads)
    mode = "in-memory values (prometheus_client was already imported)"
    multiproc = tempfile.TemporaryDirectory(prefix="bench-metrics-asgi-")
    if "prometheus_client" not in sys.modules and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc.name
        mode = "multiprocess mode, as served"
    try:
        asgi = {"on": asgi_microseconds(True), "off": asgi_microseconds(False)}
    finally:
        if previous is None:
            os.environ.pop("METRICS_ENABLED", None)
        else:
            os.environ["METRICS_ENABLED"] = previous
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == multiproc.name:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        multiproc.cleanup()

    def med(side: str, attr: str) -> float:
        return median([getattr(r, attr) for r in results[side]])

    rows = {side: {k: med(side, k) for k in ("rps", "p50", "p99")} for side in ("on", "off")}
    errors = sum(r.errors for side in results.values() for r in side)
    on, off = rows["on"], rows["off"]
    body = f"""`python -m bench metrics_bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; two core-api processes (1 uvicorn worker each, multiprocess metrics mode) on the same Redis and FerretDB, `GET {PATH}`, {CONCURRENCY} concurrent keep-alive clients, {ROUNDS} alternating rounds of {REQUESTS} requests per side, medians over rounds; {errors} errors.

| over HTTP (uvicorn) | requests/s | p50 ms | p99 ms |
|---|---|---|---|
| metrics off (`METRICS_ENABLED=false`) | {off["rps"]:.0f} | {off["p50"]:.2f} | {off["p99"]:.2f} |
| metrics on | {on["rps"]:.0f} | {on["p50"]:.2f} | {on["p99"]:.2f} |
| on / off | {on["rps"] / off["rps"]:.3f}× | {on["p50"] / off["p50"]:.3f}× | {on["p99"] / off["p99"]:.3f}× |

| in process (ASGI app called directly, {ASGI_CALLS} calls × 5, median; {mode}) | µs per request |
|---|---|
| metrics off | {asgi["off"]:.1f} |
| metrics on | {asgi["on"]:.1f} |
| middleware cost | {asgi["on"] - asgi["off"]:.1f} µs ({asgi["on"] / asgi["off"]:.2f}×) |

The middleware (Litestar's `PrometheusMiddleware` with `group_path=True`, plus Litestar's exception handler inside it so errors raised by inner middleware are recorded with their real status) updates a counter, a histogram and an in-progress gauge per request; in multiprocess mode each update is a write to a memory-mapped file under a lock. The HTTP rows include the load generator (Python httpx) sharing the same 2 CPUs, so their ratio is the figure to read, not the absolute numbers."""
    write_section("Metrics overhead", body)
    return body


if __name__ == "__main__":
    print(main())
