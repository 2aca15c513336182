"""Black-box fixtures: both services as real uvicorn processes behind the real Traefik binary."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from devstack.gateway import render_gateway
from devstack.servers import Server, free_port, start_service, start_traefik

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

    def wait_routed(self, path: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(self.gateway + path).status_code == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"gateway never answered 200 on {path}")


@pytest.fixture(scope="session")
def stack(mongodb_url: str, redis_url: str, test_tmp: Path) -> Iterator[Stack]:
    runtime = test_tmp / "stack"
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": "contract_core",
        "PDF_SERVICE_MONGODB_DB": "contract_pdf",
        "CORE_API_WORKERS": "1",
        "PDF_SERVICE_WORKERS": "1",
    }
    ports = {name: free_port() for name in SERVICES}
    for name, spec in SERVICES.items():
        env[spec["port_env"]] = str(ports[name])
        env[spec["url_env"]] = f"http://127.0.0.1:{ports[name]}"
    started: dict[str, Server] = {}
    traefik: Server | None = None
    try:
        for name, spec in SERVICES.items():
            started[name] = start_service(name, spec["module"], ports[name], env, runtime / name)
        web, internal = free_port(), free_port()
        static = render_gateway(runtime / "gateway", web_port=web, internal_port=internal, keep_rollout=False)
        os.environ.update({spec["url_env"]: env[spec["url_env"]] for spec in SERVICES.values()})
        traefik = start_traefik(static, runtime / "gateway", web)
        s = Stack(f"http://127.0.0.1:{web}", f"http://127.0.0.1:{internal}", started, env, runtime)
        s.wait_routed("/api/v1/health")
        s.wait_routed("/api/v1/pdf-service/health")
        yield s
    finally:
        if traefik:
            traefik.stop()
        for srv in started.values():
            srv.stop()
