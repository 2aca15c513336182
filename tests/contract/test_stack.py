"""`make up` (scripts/stack.py) end to end, on free ports (issue 12).

- the README's first-look steps work as soon as the banner is printed, even when another client
  registered an empresa before the demo data was loaded;
- the banner's Prometheus URLs answer, and its /metrics credentials work;
- a child that dies comes back by itself (supervisord), the others keep serving;
- Ctrl-C stops everything and leaves no port listening.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from devstack.servers import ROOT, free_port, port_open
from devstack.supervisor import program_pid

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
PORT_VARS = {
    "GATEWAY_PORT": "gateway",
    "GATEWAY_INTERNAL_PORT": "gateway-internal",
    "CORE_API_PORT": "core-api",
    "CORE_API_INTERNAL_PORT": "core-api-internal",
    "GATEWAY_ERRORS_PORT": "gateway-errors",
    "PDF_SERVICE_PORT": "pdf-service",
    "PDF_WORKER_METRICS_PORT": "pdf-worker-metrics",
    "REDIS_PORT": "redis",
    "PROMETHEUS_PORT": "prometheus",
    "MONGODB_PORT": "mongodb",
}


def first_look() -> tuple[dict, list[str]]:
    """The README's first-look block: the login body and the GET paths (with their query)."""
    text = README.read_text()
    block = text[text.index("A first look with the demo data") :]
    block = block[block.index("```bash") : block.index("```", block.index("```bash") + 7)]
    login = json.loads(re.search(r"-d '(\{.*?\})'", block).group(1))
    paths = re.findall(r'curl -s "?127\.0\.0\.1:8080(/api/v1/[^" ]+)"? -H "authorization', block)
    assert login and paths, block
    return login, paths


def wait_for(predicate, timeout: float, what: str):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_make_up_first_look_self_healing_and_ctrl_c(tmp_path: Path) -> None:
    ports = {var: free_port() for var in PORT_VARS}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONGODB_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "CORE_API_MONGODB_DB")
    }
    env |= {var: str(port) for var, port in ports.items()}
    env |= {"STACK_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT / "scripts")}
    log_path = tmp_path / "stack.log"
    log = log_path.open("w")
    proc = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "stack.py")],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    registered: dict[str, float] = {}

    def another_client_registers_first() -> None:
        core = f"http://127.0.0.1:{ports['CORE_API_PORT']}"
        while proc.poll() is None and "at" not in registered:
            try:
                r = httpx.post(
                    f"{core}/api/v1/auth/register",
                    json={
                        "empresa": {"nome": "Chegou Primeiro"},
                        "admin": {
                            "nome": "Outro",
                            "email": f"outro-{uuid.uuid4().hex[:8]}@example.com",
                            "password": "outro-password-1",
                        },
                    },
                    timeout=10,
                )
                if 200 <= r.status_code < 300:
                    registered["at"] = time.monotonic()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    racer = threading.Thread(target=another_client_registers_first, daemon=True)
    racer.start()
    conf = tmp_path / "data" / "supervisor" / "supervisord.conf"
    try:
        wait_for(lambda: "Stack is up." in log_path.read_text() or proc.poll() is not None, 400, "the banner")
        banner_at = time.monotonic()
        out = log_path.read_text()
        assert proc.poll() is None, out[-3000:]
        assert registered.get("at", banner_at + 1) < banner_at, "the other client did not register first"

        # the README's first look, right after the banner, through the gateway
        gw = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        login, paths = first_look()
        assert login["email"] in out and login["password"] in out, "the banner prints another login"
        r = httpx.post(f"{gw}/api/v1/auth/login", json=login, timeout=30)
        assert r.status_code == 200, r.text
        auth = {"authorization": f"Bearer {r.json()['accessToken']}"}
        for path in paths:
            r = httpx.get(f"{gw}{path}", headers=auth, timeout=30)
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
        placas = httpx.get(f"{gw}/api/v1/placas", headers=auth, timeout=30).json()
        assert placas["total"] > 0, "the demo empresa has no placas"

        # the banner's Prometheus URLs and /metrics credentials work
        for url in re.findall(r"(http://127\.0\.0\.1:\d+\S*/(?:targets|alerts))", out):
            assert httpx.get(url, timeout=30).status_code == 200, url
        user, password = re.search(r"Basic Auth (\S+?):(\S+)", out).groups()
        m = httpx.get(f"http://127.0.0.1:{ports['CORE_API_PORT']}/metrics", auth=(user, password), timeout=30)
        assert m.status_code == 200 and b"business_entities_created_total" in m.content

        # a dead child comes back by itself; the rest keep serving meanwhile
        for program in ("pdf-worker", "redis"):
            old = program_pid(conf, program)
            assert old
            os.kill(old, signal.SIGKILL)
            wait_for(lambda p=program, o=old: program_pid(conf, p) not in (None, o), 120, f"{program} back")
            assert httpx.get(f"{gw}/api/v1/health", timeout=30).status_code == 200
        wait_for(
            lambda: httpx.get(f"{gw}/api/v1/health/ready", timeout=30).status_code == 200, 120, "ready again"
        )
    finally:
        # Ctrl-C: the terminal sends SIGINT to the foreground process group
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(120)
        log.close()
    out = log_path.read_text()
    assert code == 0, out[-3000:]
    assert "no port left listening" in out
    assert not [var for var, port in ports.items() if port_open(port)]
