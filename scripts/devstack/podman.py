"""Helpers for the container smoke tests: podman with this repository's containers.conf."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]  # scripts/devstack/podman.py -> repository root
CACHE = Path(os.environ.get("CONTAINERS_CACHE", ROOT / ".cache" / "containers"))
ENV = {**os.environ, "CONTAINERS_CONF": str(CACHE / "containers.conf")}
CORE_API_IMAGE = "localhost/outdoor/core-api:local"
PDF_SERVICE_IMAGE = "localhost/outdoor/pdf-service:local"
#: production secrets for the smoke runs (the images default to ENVIRONMENT=production)
SECRETS = {
    "JWT_SECRET": secrets.token_urlsafe(48),
    "METRICS_PASSWORD": secrets.token_urlsafe(24),
    "INTERNAL_TOKEN": secrets.token_urlsafe(32),
}


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=ENV, timeout=timeout, check=False
    )
    if check and out.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {out.returncode}\n{out.stdout}\n{out.stderr}")
    return out


def inspect(what: str) -> dict:
    return json.loads(podman("inspect", what).stdout)[0]


#: how compose and the Kubernetes manifests run the services: read-only root, /tmp on tmpfs, no
#: capabilities, no privilege escalation; the image's own user (not given here)
HARDENED = ("--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


def run(
    name: str, image: str, *args: str, env: dict[str, str], detach: bool = True
) -> subprocess.CompletedProcess:
    flags = ["--network=host", *HARDENED]
    for k, v in env.items():
        flags += ["-e", f"{k}={v}"]
    return podman("run", *(["-d"] if detach else ["--rm"]), "--name", name, *flags, image, *args)


def wait_http(url: str, timeout: float = 90, name: str = "") -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=3)
            if r.status_code == 200:
                return r
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        if (
            name
            and podman("inspect", "-f", "{{.State.Running}}", name, check=False).stdout.strip() == "false"
        ):
            raise AssertionError(f"{name} stopped:\n{podman('logs', name, check=False).stdout[-3000:]}")
        time.sleep(0.5)
    logs = podman("logs", name, check=False) if name else None
    raise AssertionError(
        f"{url} never answered 200 (last: {last})\n{logs.stdout[-3000:] + logs.stderr[-3000:] if logs else ''}"
    )


PERIODO = {"inicio": "2032-05-01T00:00:00-03:00", "fim": "2032-06-01T00:00:00-03:00"}


def register_and_login(core: str) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "empresa": {"nome": "Painéis em Contêiner"},
        "admin": {"nome": "Admin", "email": email, "password": "s3nha-segura"},
    }
    r = httpx.post(f"{core}/api/v1/auth/register", json=body, timeout=20)
    assert r.status_code == 202, r.text
    r = httpx.post(f"{core}/api/v1/auth/login", json={"email": email, "password": "s3nha-segura"}, timeout=20)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


def new_pi(client: httpx.Client, cliente_nome: str) -> dict:
    def post(path: str, body: dict) -> dict:
        r = client.post(path, json=body)
        assert r.status_code == 201, (path, r.text)
        return r.json()

    regiao = post("/api/v1/regioes", {"nome": "Orla"})
    placa = post(
        "/api/v1/placas", {"numero": "OR-1", "regiaoId": regiao["id"], "endereco": "Av. Atlântica, 10"}
    )
    cliente = post("/api/v1/clientes", {"nome": cliente_nome})
    return post(
        "/api/v1/pis",
        {
            "clienteId": cliente["id"],
            "placaIds": [placa["id"]],
            **PERIODO,
            "valorTotalCentavos": 250_000,
            "produto": "Picolé",
        },
    )
