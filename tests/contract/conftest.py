"""Black-box fixtures: both services as real uvicorn processes behind the real Traefik binary."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from devstack.gateway import render_gateway
from devstack.nginx import render_nginx_runtime, set_pdf_share, start_nginx
from devstack.polling import wait_until_sync
from devstack.routes import NginxSettings, limits_from_env
from devstack.servers import (
    Server,
    free_port,
    start_gateway_errors,
    start_redis,
    start_service,
    start_traefik,
)

#: every backend the gateway fronts; black-box tests iterate this list
SERVICES = {
    "core-api": {"module": "core_api", "port_env": "CORE_API_PORT", "url_env": "CORE_API_URL"},
    "pdf-service": {"module": "pdf_service", "port_env": "PDF_SERVICE_PORT", "url_env": "PDF_SERVICE_URL"},
}


@dataclass
class Stack:
    gateway: str
    internal: str
    services: dict[str, Server]
    env: dict[str, str]
    runtime_dir: Path
    workers: dict[str, Server] = field(default_factory=dict)

    def wait_routed(self, path: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(self.gateway + path).status_code == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"gateway never answered 200 on {path}")


#: rate limits of the shared `stack` gateway (the defaults in gateway/dynamic/routes.yml are stricter)
SHARED_STACK_LIMITS = {
    "GATEWAY_RATE_AVERAGE": "100000",
    "GATEWAY_RATE_BURST": "100000",
    "GATEWAY_LOGIN_RATE_AVERAGE": "100000",
    "GATEWAY_LOGIN_RATE_BURST": "100000",
}


@pytest.fixture(scope="session")
def gateway_errors(test_tmp: Path) -> Iterator[str]:
    """The server behind Traefik's gateway-errors middleware (the bodies of its own 413/429)."""
    srv = start_gateway_errors(test_tmp / "gateway-errors")
    os.environ["GATEWAY_ERRORS_URL"] = srv.url
    yield srv.url
    srv.stop()


@pytest.fixture(scope="session")
def stack(mongodb_url: str, redis_url: str, test_tmp: Path, gateway_errors: str) -> Iterator[Stack]:
    yield from run_stack(test_tmp / "stack", {"MONGODB_URL": mongodb_url, "REDIS_URL": redis_url})


@pytest.fixture(scope="session")
def rabbitmq_stack(
    mongodb_url: str, rabbitmq_url: str, test_tmp: Path, gateway_errors: str
) -> Iterator[Stack]:
    """The same stack with its events on RabbitMQ (BROKER_URL=amqp://...): own Redis, own databases."""
    redis = start_redis(test_tmp / "rabbitmq-stack-redis")
    try:
        yield from run_stack(
            test_tmp / "rabbitmq-stack",
            {
                "MONGODB_URL": mongodb_url,
                "REDIS_URL": redis.url,
                "BROKER_URL": rabbitmq_url,
                "CORE_API_MONGODB_DB": "contract_core_rmq",
                "PDF_SERVICE_MONGODB_DB": "contract_pdf_rmq",
            },
        )
    finally:
        redis.stop()


def run_stack(runtime: Path, overrides: dict[str, str]) -> Iterator[Stack]:
    """core-api, pdf-service, the PDF worker and Traefik on free ports; yields once all answer."""
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "CORE_API_MONGODB_DB": "contract_core",
        "PDF_SERVICE_MONGODB_DB": "contract_pdf",
        "CORE_API_WORKERS": "1",
        "PDF_SERVICE_WORKERS": "1",
        "PDF_WORKER_METRICS_PORT": "0",  # any free port, never 4101 (a running `make up` has it)
        **overrides,
    }
    ports = {name: free_port() for name in SERVICES}
    for name, spec in SERVICES.items():
        env[spec["port_env"]] = str(ports[name])
        env[spec["url_env"]] = f"http://127.0.0.1:{ports[name]}"
    # core-api's internal listener (service-to-service routes): pdf-service calls it, Traefik never does
    internal_api_port = free_port()
    env["CORE_API_INTERNAL_PORT"] = str(internal_api_port)
    env["CORE_API_INTERNAL_URL"] = f"http://127.0.0.1:{internal_api_port}"
    started: dict[str, Server] = {}
    #: background processes without HTTP (not in `Stack.services`, which tests iterate for /metrics)
    workers: dict[str, Server] = {}
    traefik: Server | None = None
    try:
        for name, spec in SERVICES.items():
            started[name] = start_service(
                name,
                spec["module"],
                ports[name],
                env,
                runtime / name,
                internal_port=internal_api_port if name == "core-api" else None,
            )
        # the PDF job consumer (`make up`'s pdf-worker): renders what POST .../pdf-jobs requested
        workers["pdf-worker"] = start_service(
            "pdf-worker", "pdf_service", 0, env, runtime / "pdf-worker", args=("worker",), health_path=None
        )
        web, internal = free_port(), free_port()
        static = render_gateway(runtime / "gateway", web_port=web, internal_port=internal, keep_rollout=False)
        os.environ.update({spec["url_env"]: env[spec["url_env"]] for spec in SERVICES.values()})
        # many contract tests log in from 127.0.0.1: the shared gateway gets limits no test reaches;
        # the limits themselves are tested on private gateways (gateway_factory)
        os.environ.update(SHARED_STACK_LIMITS)
        traefik = start_traefik(static, runtime / "gateway", web)
        s = Stack(f"http://127.0.0.1:{web}", f"http://127.0.0.1:{internal}", started, env, runtime, workers)
        s.wait_routed("/api/v1/health")
        s.wait_routed("/api/v1/pdf-service/health")
        # on RabbitMQ a queue only takes what is published once it exists: the worker must be consuming
        worker = workers["pdf-worker"]
        wait_until_sync(
            lambda: "pdf worker consuming" in worker.log_tail(400) or worker.proc.poll() is not None,
            timeout=300,
            what="the PDF worker consuming",
        )
        assert worker.proc.poll() is None, worker.log_tail()
        yield s
    finally:
        if traefik:
            traefik.stop()
        for srv in [*workers.values(), *started.values()]:
            srv.stop()


@dataclass
class Gateway:
    """A private Traefik in front of given backends, with its own config dir and JSON access log."""

    url: str
    internal: str
    traefik: Server
    dynamic_dir: Path
    access_log: Path
    #: the access-log entries of the last `served_by` call
    last_entries: list[dict] = field(default_factory=list)
    kind: str = "traefik"

    def access_entries(self, request_ids: set[str], timeout: float = 60.0) -> list[dict]:
        """The access-log lines of the requests sent with these X-Request-IDs (waits for all of them)."""
        deadline = time.monotonic() + timeout
        while True:
            found = []
            if self.access_log.exists():
                for line in self.access_log.read_text().splitlines():
                    if not line.startswith("{"):
                        continue
                    entry = json.loads(line)
                    if entry.get("request_X-Request-Id") in request_ids:
                        found.append(entry)
            if len(found) >= len(request_ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def served_by(self, paths: list[str], cookies: dict[str, str] | None = None) -> Counter:
        """Send one GET per path and count which Traefik service answered each (from the access log)."""
        run = uuid.uuid4().hex[:8]
        ids = set()
        with httpx.Client(base_url=self.url, timeout=10, cookies=cookies) as client:
            for i, path in enumerate(paths):
                rid = f"{run}-{i}"
                ids.add(rid)
                client.get(path, headers={"X-Request-ID": rid})
        self.last_entries = self.access_entries(ids)
        return Counter(e.get("ServiceName", "-") for e in self.last_entries)


@pytest.fixture
def gateway_factory(test_tmp: Path, gateway_errors: str) -> Iterator[Callable[..., Gateway]]:
    """Start private Traefik processes: `gateway_factory(core_api_url=..., pdf_service_url=..., **env)`.

    Extra keyword arguments become environment variables read by the dynamic config's templates
    (e.g. GATEWAY_HEALTHCHECK_INTERVAL="300ms"), so tests vary timing and limits without changing the
    checked-in defaults.
    """
    started: list[Server] = []

    def start(core_api_url: str, pdf_service_url: str, **env: str) -> Gateway:
        runtime = test_tmp / f"gateway-{uuid.uuid4().hex[:8]}"
        web, internal = free_port(), free_port()
        access_log = runtime / "access.json"
        static = render_gateway(
            runtime, web_port=web, internal_port=internal, keep_rollout=False, access_log=access_log
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CORE_API_URL", core_api_url)
            mp.setenv("PDF_SERVICE_URL", pdf_service_url)
            for name in SHARED_STACK_LIMITS:
                mp.delenv(name, raising=False)  # the checked-in defaults unless the test says otherwise
            for name, value in env.items():
                mp.setenv(name, value)
            traefik = start_traefik(static, runtime, web)
        started.append(traefik)
        gw = Gateway(
            f"http://127.0.0.1:{web}",
            f"http://127.0.0.1:{internal}",
            traefik,
            runtime / "dynamic",
            access_log,
        )
        deadline = time.monotonic() + 120
        while httpx.get(gw.url + "/api/v1/health").status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"private gateway never routed /api/v1/health:\n{traefik.log_tail()}")
            time.sleep(0.1)
        return gw

    yield start
    for traefik in started:
        traefik.stop()


# ---- nginx, the alternative gateway (gateway/nginx/, generated from the same route list) ----


@dataclass
class NginxGateway:
    """A private nginx in front of given backends, with its own config dir and JSON access log."""

    url: str
    internal: str
    nginx: Server
    conf: Path
    access_log: Path
    kind: str = "nginx"

    def access_entries(self, request_ids: set[str], timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = []
            if self.access_log.exists():
                for line in self.access_log.read_text().splitlines():
                    entry = json.loads(line)
                    if entry.get("request_id") in request_ids:
                        found.append(entry)
            if len(found) >= len(request_ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def upstreams(self, paths: list[str]) -> Counter:
        """Send one GET per path and count which upstream address answered each (from the access log)."""
        run = uuid.uuid4().hex[:8]
        ids = set()
        # a connection per request: a reload closes the old workers' idle keep-alive connections, and a
        # request sent on one at that moment is lost (the usual keep-alive race; clients retry)
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for i, path in enumerate(paths):
                rid = f"{run}-{i}"
                ids.add(rid)
                client.get(path, headers={"X-Request-ID": rid, "Connection": "close"})
        return Counter(e["upstream"] for e in self.access_entries(ids))

    def set_pdf_share(self, percent: int) -> None:
        set_pdf_share(self.conf, percent)


@pytest.fixture
def nginx_factory(test_tmp: Path) -> Iterator[Callable[..., NginxGateway]]:
    """Start private nginx processes: `nginx_factory(core_api_url=..., pdf_service_url=..., **env)`.

    Keyword arguments named like the Traefik templates' environment (GATEWAY_RATE_AVERAGE, ...) set the
    limits; pdf_percent the PDF split. Like gateway_factory, for the same tests.
    """
    started: list[Server] = []

    def start(
        core_api_url: str | list[str], pdf_service_url: str, pdf_percent: int = 0, **env: str
    ) -> NginxGateway:
        runtime = test_tmp / f"nginx-{uuid.uuid4().hex[:8]}"
        web, internal = free_port(), free_port()
        settings = NginxSettings(
            listen=f"127.0.0.1:{web}",
            internal_listen=f"127.0.0.1:{internal}",
            core_api=tuple(
                u.removeprefix("http://")
                for u in ([core_api_url] if isinstance(core_api_url, str) else core_api_url)
            ),
            pdf_service=(pdf_service_url.removeprefix("http://"),),
            limits=limits_from_env(env),
            pdf_percent=pdf_percent,
        )
        conf = render_nginx_runtime(runtime, settings)
        nginx = start_nginx(conf, web)
        started.append(nginx)
        return NginxGateway(
            f"http://127.0.0.1:{web}", f"http://127.0.0.1:{internal}", nginx, conf, runtime / "access.json"
        )

    yield start
    for nginx in started:
        nginx.stop()


@dataclass
class Front:
    """One gateway in front of the shared stack's services: what the gateway contract tests talk to."""

    kind: str
    gateway: str
    internal: str


@pytest.fixture(scope="session")
def nginx_front(stack: Stack, test_tmp: Path) -> Iterator[Front]:
    runtime = test_tmp / "nginx-stack"
    web, internal = free_port(), free_port()
    settings = NginxSettings(
        listen=f"127.0.0.1:{web}",
        internal_listen=f"127.0.0.1:{internal}",
        core_api=(stack.env["CORE_API_URL"].removeprefix("http://"),),
        pdf_service=(stack.env["PDF_SERVICE_URL"].removeprefix("http://"),),
        limits=limits_from_env(SHARED_STACK_LIMITS),
    )
    nginx = start_nginx(render_nginx_runtime(runtime, settings), web)
    try:
        yield Front("nginx", f"http://127.0.0.1:{web}", f"http://127.0.0.1:{internal}")
    finally:
        nginx.stop()


@pytest.fixture(params=["traefik", "nginx"])
def front(request: pytest.FixtureRequest, stack: Stack) -> Front:
    """The shared stack's services behind Traefik, then behind nginx (the same tests for both)."""
    if request.param == "traefik":
        return Front("traefik", stack.gateway, stack.internal)
    return request.getfixturevalue("nginx_front")
