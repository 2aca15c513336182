"""The service images, built by podman (`make containers`), run as compose and Kubernetes run them:
non-root, read-only root filesystem, no capabilities. Health and readiness, the index-creating init
command, a login, and a PDF job end to end through the worker container, on the real Redis and FerretDB
of this test session (the containers share the host's network)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from devstack.podman import (
    CORE_API_IMAGE,
    PDF_SERVICE_IMAGE,
    SECRETS,
    inspect,
    new_pi,
    podman,
    register_and_login,
    run,
    wait_http,
)
from devstack.servers import free_port
from pymongo import MongoClient


@pytest.fixture(scope="module")
def deployment(mongodb_url, redis_url):
    """core-api, pdf-service and pdf-worker containers on free ports; removed afterwards."""
    run_id = uuid.uuid4().hex[:8]
    core_port, pdf_port, worker_port = free_port(), free_port(), free_port()
    env = {
        **SECRETS,
        "MONGODB_URL": mongodb_url,
        "REDIS_URL": redis_url,
        "CORE_API_MONGODB_DB": f"smoke_core_{run_id}",
        "PDF_SERVICE_MONGODB_DB": f"smoke_pdf_{run_id}",
        "CORE_API_URL": f"http://127.0.0.1:{core_port}",
        "PDF_SERVICE_URL": f"http://127.0.0.1:{pdf_port}",
        "CORE_API_HOST": "127.0.0.1",
        "CORE_API_PORT": str(core_port),
        "PDF_SERVICE_HOST": "127.0.0.1",
        "PDF_SERVICE_PORT": str(pdf_port),
        "PDF_WORKER_METRICS_HOST": "127.0.0.1",
        "PDF_WORKER_METRICS_PORT": str(worker_port),
        "CORE_API_WORKERS": "1",
        "PDF_SERVICE_WORKERS": "1",
        "LOG_JSON": "true",
    }
    names = {s: f"outdoor-smoke-{s}-{run_id}" for s in ("core-api", "pdf-service", "pdf-worker")}
    started = time.monotonic()
    try:
        run(names["core-api"], CORE_API_IMAGE, env=env)
        run(names["pdf-service"], PDF_SERVICE_IMAGE, env=env)
        run(names["pdf-worker"], PDF_SERVICE_IMAGE, "worker", env=env)
        urls = {"core-api": env["CORE_API_URL"], "pdf-service": env["PDF_SERVICE_URL"]}
        for service, url in urls.items():
            wait_http(url + "/api/v1/health/ready", name=names[service])
        wait_http(f"http://127.0.0.1:{worker_port}/api/v1/health", name=names["pdf-worker"])
        print(f"\ncontainers ready in {time.monotonic() - started:.1f} s")
        yield {"names": names, "urls": urls, "env": env, "mongodb_url": mongodb_url}
    finally:
        for name in names.values():
            podman("rm", "-f", "-t", "5", name, check=False)


@pytest.mark.parametrize("image", [CORE_API_IMAGE, PDF_SERVICE_IMAGE])
def test_image_runs_as_uid_10001_under_tini_with_a_healthcheck(image):
    image_info = inspect(image)
    config = image_info["Config"]
    assert config["User"] == "10001"
    assert config["Entrypoint"][:2] == ["tini", "--"]
    # podman keeps HEALTHCHECK only in the docker format (--format docker)
    check = image_info["Healthcheck"]["Test"]
    assert check[0] == "CMD" and "/api/v1/health" in " ".join(check)
    assert "XDG_CACHE_HOME=/tmp/.cache" in config["Env"]


@pytest.mark.parametrize("service", ["core-api", "pdf-service", "pdf-worker"])
def test_running_containers_are_non_root_read_only_without_capabilities(deployment, service):
    name = deployment["names"][service]
    assert podman("exec", name, "id", "-u").stdout.strip() == "10001"
    state = inspect(name)
    assert state["HostConfig"]["ReadonlyRootfs"] is True
    assert not state["EffectiveCaps"]
    # the root filesystem refuses writes; /tmp (tmpfs) takes them
    refused = podman("exec", name, "python", "-c", "open('/app/x', 'w')", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    podman("exec", name, "python", "-c", "open('/tmp/x', 'w').write('ok')")
    # PID 1 is tini, the service its child
    assert podman("exec", name, "cat", "/proc/1/comm").stdout.strip() == "tini"


@pytest.mark.parametrize("service", ["core-api", "pdf-service"])
def test_health_and_readiness_answer_200(deployment, service):
    url = deployment["urls"][service]
    assert httpx.get(url + "/api/v1/health").json()["service"] == service
    ready = httpx.get(url + "/api/v1/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"mongodb": "ok", "redis": "ok"}


def test_the_index_creating_init_command(deployment):
    env = {**deployment["env"], "CORE_API_MONGODB_DB": f"smoke_indexes_{uuid.uuid4().hex[:8]}"}
    name = f"outdoor-smoke-indexes-{uuid.uuid4().hex[:8]}"
    out = run(name, CORE_API_IMAGE, "create-indexes", env=env, detach=False)
    assert out.returncode == 0
    db = MongoClient(deployment["mongodb_url"])[env["CORE_API_MONGODB_DB"]]
    indexed = {c: len(list(db[c].list_indexes())) for c in db.list_collection_names()}
    assert indexed and any(n > 1 for n in indexed.values()), indexed


def pdf_job_end_to_end(core: str, pdf: str, headers: dict[str, str], timeout: float = 90) -> bytes:
    """POST a PDF job on core-api, wait (on core-api's job) for the worker to render it, download it
    from pdf-service."""
    with httpx.Client(base_url=core, headers=headers, timeout=20) as client:
        pi = new_pi(client, "Sorveteria Polo Norte Ltda")
        r = client.post(f"/api/v1/pis/{pi['id']}/pdf-jobs")
        assert r.status_code == 202, r.text
        job_id = r.json()["jobId"]
        # the job is core-api's resource (built from the outcome events); the document is pdf-service's
        deadline = time.monotonic() + timeout
        while True:
            job = client.get(f"/api/v1/pdf-jobs/{job_id}")
            if job.status_code == 200 and job.json()["status"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, f"job {job_id} not done in {timeout} s: {job.text}"
            time.sleep(0.5)
        assert job.json()["status"] == "done", job.text
    with httpx.Client(base_url=pdf, headers=headers, timeout=20) as client:
        document = client.get(f"/api/v1/documents/{job.json()['documentId']}")
        assert document.status_code == 200
        assert document.headers["content-type"].startswith("application/pdf")
        return document.content


def test_login_and_a_pdf_job_through_the_worker_container(deployment):
    core, pdf = deployment["urls"]["core-api"], deployment["urls"]["pdf-service"]
    headers = register_and_login(core)
    started = time.monotonic()
    content = pdf_job_end_to_end(core, pdf, headers)
    print(f"\nPDF job through the worker container: {time.monotonic() - started:.1f} s, {len(content)} bytes")
    assert content.startswith(b"%PDF-")
    worker_logs = (
        podman("logs", deployment["names"]["pdf-worker"]).stdout
        + podman("logs", deployment["names"]["pdf-worker"]).stderr
    )
    # the fontconfig cache lives on the tmpfs (XDG_CACHE_HOME): no complaint on a read-only root
    assert "No writable cache directories" not in worker_logs
