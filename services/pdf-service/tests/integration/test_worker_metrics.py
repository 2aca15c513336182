"""The PDF worker process serves its own /metrics (Basic Auth) and health on PDF_WORKER_METRICS_PORT:
after a job, a scrape shows the job, the render and the events it handled (real subprocess)."""

from __future__ import annotations

import signal
import uuid

import httpx
import pytest
from devstack.servers import free_port, start_service
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient
from shared.documents.samples import sample_snapshot
from shared.events import PDF_GENERATED, PDF_REQUESTED, PdfRequestedV1, bus_from_settings, new_event

from ..conftest import wait_until
from .test_worker_crash import worker_env

EMPRESA = "665f00000000000000000001"
AUTH = ("scraper", "worker-metrics-pass")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
@pytest.mark.timeout(360)
async def test_worker_metrics_show_the_job_and_need_credentials(pdf_settings, workdir):
    port = free_port()
    env = {
        **worker_env(pdf_settings),
        "PDF_WORKER_METRICS_PORT": str(port),
        "METRICS_USERNAME": AUTH[0],
        "METRICS_PASSWORD": AUTH[1],
        "PDF_WORKER_MULTIPROC_DIR": str(workdir / "metrics"),
    }
    client = AsyncMongoClient(pdf_settings.mongodb_url, tz_aware=True)
    db = client[pdf_settings.mongodb_db]
    core = bus_from_settings(pdf_settings.model_copy(update={"service_name": "core-api"}))
    generated: list[str] = []

    async def collect(event):
        generated.append(event.data.job_id)

    core.subscribe(PDF_GENERATED, collect)
    worker = None
    base = f"http://127.0.0.1:{port}"
    try:
        worker = start_service("pdf-worker-m", "pdf_service", port, env, workdir / "w", args=("worker",))
        async with core, httpx.AsyncClient(base_url=base, timeout=10) as http:
            live = await http.get("/api/v1/health")
            assert live.status_code == 200 and live.json()["service"] == "pdf-service-worker"
            ready = await http.get("/api/v1/health/ready")
            assert ready.status_code == 200, ready.text

            # no credentials, wrong ones: 401 with the Basic challenge
            anonymous = await http.get("/metrics")
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"] == 'Basic realm="metrics"'
            assert (await http.get("/metrics", auth=(AUTH[0], "nope"))).status_code == 401

            job_id = uuid.uuid4().hex
            snap = sample_snapshot("pi", placas=2, empresa_id=EMPRESA)
            payload = PdfRequestedV1(job_id=job_id, kind="pi", source_id=snap.source_id, snapshot=snap)
            await core.publish(PDF_REQUESTED, new_event(payload, empresa_id=EMPRESA))

            async def done():
                return job_id in generated

            await wait_until(done, timeout=180)
            assert (await db["pdf_jobs"].find_one({"_id": job_id}))["status"] == "done"

            async def scraped():
                r = await http.get("/metrics", auth=AUTH)
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
                found = samples(r.text)
                if found.get(("jobs_processed_total", frozenset({("job", "pdf"), ("outcome", "success")}))):
                    return found
                return None

            found = await wait_until(scraped)
            pdf = frozenset({("renderer", "pdf-service"), ("document", "pi"), ("outcome", "success")})
            assert found[("pdf_rendered_total", pdf)] == 1
            assert (
                found[
                    (
                        "pdf_render_duration_seconds_count",
                        frozenset({("renderer", "pdf-service"), ("document", "pi")}),
                    )
                ]
                == 1
            )
            assert found[("jobs_processed_total", frozenset({("job", "pdf"), ("outcome", "success")}))] == 1
            assert found[("job_duration_seconds_count", frozenset({("job", "pdf")}))] == 1
            assert found[("jobs_in_flight", frozenset({("job", "pdf")}))] == 0
            # the bus's own series, from the same process: its one group handled the request once
            key = frozenset({("topic", PDF_REQUESTED), ("group", "pdf-service"), ("outcome", "success")})
            assert found[("events_consumed_total", key)] == 1
            assert found[("events_published_total", frozenset({("topic", PDF_GENERATED)}))] == 1
            # multiprocess mode, in the worker's own directory
            assert list((workdir / "metrics").glob("*.db"))

        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(15) == 0, worker.log_tail()
    except BaseException:
        if worker is not None:
            print(f"--- worker log ---\n{worker.log_tail(80)}")
        raise
    finally:
        if worker is not None:
            worker.stop(signal.SIGKILL)
        await client.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_a_second_worker_on_a_busy_metrics_port_keeps_consuming(pdf_settings, workdir):
    """Two instances given the same port: the second says so in its log and still runs."""
    port = free_port()
    env = {**worker_env(pdf_settings), "PDF_WORKER_METRICS_PORT": str(port)}
    first = second = None
    try:
        first = start_service("pdf-worker-1", "pdf_service", port, env, workdir / "1", args=("worker",))
        second = start_service(
            "pdf-worker-2", "pdf_service", port, env, workdir / "2", args=("worker",), health_path=None
        )

        async def complained_and_consuming():
            log = second.log_tail(200)
            return "runs without /metrics" in log and "pdf worker consuming" in log

        await wait_until(complained_and_consuming, timeout=180)
        assert second.proc.poll() is None, second.log_tail()
        # the first one's endpoint is untouched
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/api/v1/health")).status_code == 200
        for srv in (second, first):
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(15) == 0, srv.log_tail()
    finally:
        for srv in (first, second):
            if srv is not None:
                srv.stop(signal.SIGKILL)
