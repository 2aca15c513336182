"""Process management (SPEC phase 1) on real processes: uvicorn's cluster mode as `shared.cli` runs it.

- several workers: a scrape sums them, a killed worker is replaced, counters never go backwards;
- SIGTERM: stop accepting, finish in-flight requests, close WebSockets, run the lifespan shutdown
  (event consumers, MongoDB, Redis), exit within a bound;
- behind Traefik: SIGTERM to one of two core-api instances under steady load loses no request.

Running this file as a module serves a small app built with `shared.app` that has a slow route and a
WebSocket (core-api has neither): `python -m test_process_management serve`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml
from devstack.servers import Server, free_port, start_service, worker_pids
from litestar import Litestar, WebSocket, get, websocket
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from pydantic import Field
from shared.app import build_app, service_app_config
from shared.cli import run_service_cli
from shared.infra import infra_lifespan
from shared.settings import DEV_METRICS_PASSWORD, BaseServiceSettings

HERE = Path(__file__).resolve().parent
SCRAPE_AUTH = ("metrics", DEV_METRICS_PASSWORD)
log = logging.getLogger("slow-app")


# ------------------------------------------------------------------ the small app served by this module
class SlowAppSettings(BaseServiceSettings):
    service_name: str = "slow-app"
    port: int = Field(default=0, validation_alias="SLOW_APP_PORT")
    workers: int = Field(default=2, validation_alias="SLOW_APP_WORKERS")


def create_slow_app() -> Litestar:
    settings = SlowAppSettings()

    @get("/slow", sync_to_thread=False)
    async def slow(seconds: float) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hello")
        while True:
            await socket.receive_text()

    async def stop_consumers(_: Litestar) -> None:
        log.info("event consumers stopped")

    config = service_app_config(
        settings,
        title="slow app",
        description="",
        route_handlers=[slow, ws],
        lifespan=[infra_lifespan(settings, [], on_close=[stop_consumers])],
    )
    return build_app(config)


if __name__ == "__main__":
    run_service_cli("test_process_management:create_slow_app", SlowAppSettings)


# ------------------------------------------------------------------ helpers
def wait_for(predicate, timeout: float, what: str):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scrape_value(base_url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base_url}/metrics", auth=SCRAPE_AUTH, timeout=5).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def dir_value(multiproc_dir: Path, name: str, **labels: str) -> float:
    """The same sum, read from a (stopped) instance's multiprocess files."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(multiproc_dir))
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@pytest.fixture
def service_env(mongodb_url: str, redis_url: str, unique_name: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": f"t_proc_{unique_name}",
        "LOG_JSON": "false",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1] / "scripts")]),
    }


def start_core_api(
    env: dict[str, str], workdir: Path, workers: int, name: str = "core-api", **extra: str
) -> Server:
    port = free_port()
    env = {
        **env,
        **extra,
        "CORE_API_PORT": str(port),
        "CORE_API_WORKERS": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"{name}-metrics"),
    }
    srv = start_service(name, "core_api", port, env, workdir / name)
    srv.extra["metrics_dir"] = workdir / f"{name}-metrics"
    if workers > 1:
        wait_for(lambda: len(worker_pids(srv.proc.pid)) == workers, 120, f"{workers} workers")
    return srv


def wait_ready(url: str, in_a_row: int = 20, timeout: float = 180) -> None:
    """Live is not ready: each worker creates its indexes first. Wait for many 200s in a row, each on
    a new connection (so on any worker)."""
    streak, last = 0, ""

    def ready() -> bool:
        nonlocal streak, last
        r = httpx.get(f"{url}/api/v1/health/ready", timeout=5)
        streak, last = (streak + 1 if r.status_code == 200 else 0), r.text
        return streak >= in_a_row

    try:
        wait_for(ready, timeout, f"{url} ready")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {last}") from None


# ------------------------------------------------------------------ tests
def test_workers_are_summed_a_dead_worker_is_replaced_and_counters_never_go_back(
    service_env: dict[str, str], workdir: Path
) -> None:
    srv = start_core_api(service_env, workdir, workers=2)
    url, metrics_dir = srv.url, srv.extra["metrics_dir"]
    health = {"path": "/api/v1/health", "method": "GET", "status_code": "200", "app_name": "core-api"}
    try:
        w1, w2 = worker_pids(srv.proc.pid)
        baseline = scrape_value(url, "http_requests_total", **health)

        # freeze one worker at a time, so each one serves a known number of requests
        for frozen, count in ((w2, 5), (w1, 7)):
            os.kill(frozen, signal.SIGSTOP)
            try:
                for _ in range(count):
                    assert httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
            finally:
                os.kill(frozen, signal.SIGCONT)
        assert (metrics_dir / f"counter_{w1}.db").exists() and (metrics_dir / f"counter_{w2}.db").exists()
        assert scrape_value(url, "http_requests_total", **health) == baseline + 12  # both workers summed
        assert (metrics_dir / f"gauge_livesum_{w1}.db").exists()  # its in-progress gauge

        os.kill(w1, signal.SIGKILL)
        pids = wait_for(
            lambda: (p := worker_pids(srv.proc.pid)) and len(p) == 2 and w1 not in p and p,
            120,
            "a new worker",
        )
        (w3,) = set(pids) - {w2}
        # the dead worker's counts stay; its live gauge is dropped by the supervisor
        assert scrape_value(url, "http_requests_total", **health) == baseline + 12
        wait_for(
            lambda: not (metrics_dir / f"gauge_livesum_{w1}.db").exists(), 60, "the dead worker's gauges"
        )

        wait_for(
            lambda: srv.log_path.read_text().count("Application startup complete") == 3, 120, "its startup"
        )
        os.kill(w2, signal.SIGSTOP)  # only the replacement can answer now
        try:
            assert httpx.get(f"{url}/api/v1/health", timeout=3).status_code == 200
        finally:
            os.kill(w2, signal.SIGCONT)
        assert (metrics_dir / f"counter_{w3}.db").exists()
        assert scrape_value(url, "http_requests_total", **health) >= baseline + 13

        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(15) == 0
        assert time.monotonic() - started < 12
        assert not any(Path(f"/proc/{pid}").exists() for pid in (w2, w3))
    finally:
        srv.stop()


def test_sigterm_finishes_in_flight_requests_closes_websockets_and_exits_in_bounded_time(
    service_env: dict[str, str], workdir: Path
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    port = free_port()
    env = {
        **service_env,
        "SLOW_APP_PORT": str(port),
        "SLOW_APP_WORKERS": "2",
        # far above the 2 s request, so "waited for the request, not for the bound" holds on a busy machine
        "GRACEFUL_SHUTDOWN_SECONDS": "30",
    }
    srv = start_service("slow-app", "test_process_management", port, env, workdir / "slow")
    wait_for(lambda: len(worker_pids(srv.proc.pid)) == 2, 120, "2 workers")
    url = srv.url
    try:
        results: dict[str, object] = {}

        def slow_request() -> None:
            try:
                results["slow"] = httpx.get(f"{url}/slow", params={"seconds": 2}, timeout=10)
            except Exception as exc:  # noqa: BLE001
                results["slow"] = exc

        ws = connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5, legacy=True)  # closed by the server below
        assert ws.recv(timeout=5) == "hello"
        in_flight = threading.Thread(target=slow_request)
        in_flight.start()
        time.sleep(0.5)
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)

        # the WebSocket is closed by the server with 1012 (service restart): clients reconnect elsewhere
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        # new connections are not served while the in-flight request finishes: refused, or (when
        # the kernel had queued the handshake on a socket a worker was still closing) reset at once
        time.sleep(0.3)
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(f"{url}/slow", params={"seconds": 0}, timeout=2)

        in_flight.join(30)
        response = results["slow"]
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 200 and response.json() == {"slept": 2}
        assert srv.proc.wait(60) == 0
        elapsed = time.monotonic() - started
        assert 1.0 < elapsed < 25, elapsed  # waited for the request, not for the 30 s bound
        logs = srv.log_path.read_text()
        # each worker ran its lifespan shutdown: consumers first, then MongoDB and Redis closed
        assert logs.count("event consumers stopped") == 2
        assert logs.count("service stopped") == 2
    finally:
        srv.stop()


def test_a_request_longer_than_the_bound_does_not_hold_the_exit(
    service_env: dict[str, str], workdir: Path
) -> None:
    port = free_port()
    env = {
        **service_env,
        "SLOW_APP_PORT": str(port),
        "SLOW_APP_WORKERS": "1",
        "GRACEFUL_SHUTDOWN_SECONDS": "1",
    }
    srv = start_service("slow-app", "test_process_management", port, env, workdir / "slow1")
    try:
        outcome: list[object] = []

        def stuck_request() -> None:
            try:
                outcome.append(httpx.get(f"{srv.url}/slow", params={"seconds": 60}, timeout=30).status_code)
            except Exception as exc:  # noqa: BLE001
                outcome.append(exc)

        t = threading.Thread(target=stuck_request)
        t.start()
        time.sleep(0.5)
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(60)
        # 1 s bound + lifespan shutdown; far below the 60 s the request would take
        assert time.monotonic() - started < 20
        t.join(30)
        # cut at the bound: never the 60 s answer; a 503 with Retry-After (the process is going
        # away: retry), not uvicorn's bare 500 for a cancelled request (shared.transient)
        assert len(outcome) == 1 and outcome[0] == 503, outcome
        print("stuck request ended with", outcome)
        assert "service stopped" in srv.log_path.read_text()
    finally:
        srv.stop()


def test_sigterm_to_one_of_two_instances_behind_traefik_loses_no_request(
    service_env: dict[str, str], workdir: Path, gateway_factory
) -> None:
    # A drains for 1 s on SIGTERM: readiness answers 503 while it still serves, Traefik's readiness
    # health check (every 300 ms) takes it out of rotation, then it stops accepting and finishes
    a = start_core_api(service_env, workdir, workers=2, name="core-api-a", SHUTDOWN_DRAIN_SECONDS="1")
    b = start_core_api(service_env, workdir, workers=1, name="core-api-b")
    try:
        wait_ready(a.url)
        wait_ready(b.url)
        gw = gateway_factory(
            core_api_url=a.url,
            pdf_service_url=f"http://127.0.0.1:{free_port()}",  # nothing: no health checks on A
            GATEWAY_HEALTHCHECK_INTERVAL="300ms",
            GATEWAY_HEALTHCHECK_TIMEOUT="300ms",
            GATEWAY_RATE_AVERAGE="100000",
            GATEWAY_RATE_BURST="100000",
        )
        # this test's gateway: core-api has two servers health-checked on readiness, and a retry for
        # connection errors
        routes_file = gw.dynamic_dir / "routes.yml"
        routes = yaml.safe_load(routes_file.read_text())
        balancer = routes["http"]["services"]["core-api"]["loadBalancer"]
        balancer["servers"] = [{"url": a.url}, {"url": b.url}]
        balancer["healthCheck"]["path"] = "/api/v1/health/ready"
        routes["http"]["middlewares"]["retry-conn"] = {"retry": {"attempts": 3, "initialInterval": "50ms"}}
        routes["http"]["routers"]["core-api"]["middlewares"] = ["retry-conn"]
        routes_file.write_text(yaml.safe_dump(routes, sort_keys=False))

        def two_servers() -> bool:
            r = httpx.get(f"{gw.internal}/api/http/services/core-api@file", timeout=2)
            return r.status_code == 200 and len(r.json().get("loadBalancer", {}).get("servers", [])) == 2

        wait_for(two_servers, 20, "Traefik to load the two-server config")

        live = {"path": "/api/v1/health", "method": "GET", "status_code": "200"}
        probes = {  # earlier liveness probes (start_service, the gateway) count too
            "a": scrape_value(a.url, "http_requests_total", **live),
            "b": scrape_value(b.url, "http_requests_total", **live),
        }
        stop, stopping = threading.Event(), threading.Event()
        request_ids: set[str] = set()
        late_ids: set[str] = set()  # sent after A exited
        ok, failures = [0], []
        lock = threading.Lock()

        def load() -> None:
            with httpx.Client(base_url=gw.url, timeout=10) as client:
                for _ in range(3000):  # bounded
                    if stop.is_set():
                        return
                    rid = uuid.uuid4().hex
                    with lock:
                        request_ids.add(rid)
                        if stopping.is_set():
                            late_ids.add(rid)
                    try:
                        r = client.get("/api/v1/health", headers={"X-Request-ID": rid})
                        with lock:
                            if r.status_code == 200:
                                ok[0] += 1
                            else:
                                failures.append(f"{r.status_code} {r.text[:200]}")
                    except httpx.HTTPError as exc:
                        with lock:
                            failures.append(repr(exc))

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        before_term = ok[0]
        started = time.monotonic()
        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(15) == 0
        a_exit = time.monotonic() - started
        stopping.set()
        time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join(15)

        if failures:
            bad = [line for line in gw.access_log.read_text().splitlines() if '"DownstreamStatus":5' in line]
            raise AssertionError(f"{len(failures)} failed: {failures[:5]}\n" + "\n".join(bad[:5]))
        assert before_term > 20 and ok[0] > before_term + 20, (before_term, ok[0])
        assert 1 <= a_exit < 12  # the drain, then in-flight requests, within the bound
        # who answered, from Traefik's access log (ServiceURL), and from each instance's own metrics
        answered = gw.access_entries(set(request_ids))
        assert len(answered) == ok[0]
        by_server = Counter(e["ServiceURL"] for e in answered)
        assert by_server[a.url] > 0 and by_server[b.url] > 0, by_server
        assert set(by_server) == {a.url, b.url}
        after_term = [e for e in answered if e["request_X-Request-Id"] in late_ids]
        assert after_term and all(e["ServiceURL"] == b.url for e in after_term[-50:])  # A is out
        served_a = dir_value(a.extra["metrics_dir"], "http_requests_total", **live) - probes["a"]
        served_b = scrape_value(b.url, "http_requests_total", **live) - probes["b"]
        assert served_a >= by_server[a.url] and served_b >= by_server[b.url]
    finally:
        a.stop()
        b.stop()
