"""A worker killed with SIGKILL mid-batch loses nothing and duplicates nothing (real processes)."""

from __future__ import annotations

import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from devstack.servers import start_service
from pdf_service.lib.storage import DocumentStore
from pymongo import AsyncMongoClient
from shared.documents.samples import sample_snapshot
from shared.events import PDF_GENERATED, PDF_REQUESTED, PdfRequestedV1, bus_from_settings, new_event

from ..conftest import wait_until

EMPRESA = "665f00000000000000000001"
JOBS = 8
#: a killed worker's message is claimed by another after EVENT_CLAIM_IDLE_MS: short enough for a
#: test, long enough that the render time limit (below 80 % of it) fails no healthy render
RECOVERY_TIMING = {"event_claim_idle_ms": 20_000, "render_timeout_seconds": 15.0}


def worker_env(settings) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "REDIS_URL": settings.redis_url,
        "MONGODB_URL": settings.mongodb_url,
        "PDF_SERVICE_MONGODB_DB": settings.mongodb_db,
        "EVENT_STREAM_PREFIX": settings.event_stream_prefix,
        "EVENT_CLAIM_IDLE_MS": str(settings.event_claim_idle_ms),
        "PDF_RENDER_TIMEOUT_SECONDS": str(settings.render_timeout_seconds),
        "LOG_JSON": "false",
        "PDF_WORKER_METRICS_PORT": "0",  # any free port: never a fixed one (a running stack has 4101)
    }


async def publish_batch(core, job_ids: list[str]) -> None:
    """The whole batch is waiting before any worker exists."""
    for job_id in job_ids:
        snap = sample_snapshot("contrato", placas=8, empresa_id=EMPRESA)
        payload = PdfRequestedV1(job_id=job_id, kind="contrato", source_id=snap.source_id, snapshot=snap)
        await core.publish(PDF_REQUESTED, new_event(payload, empresa_id=EMPRESA))


async def wait_done(db, at_least: int, timeout: float) -> None:
    async def enough():
        return await db["pdf_jobs"].count_documents({"status": "done"}) >= at_least

    await wait_until(enough, timeout=timeout, interval=0.02)


async def assert_each_job_once(db, core, settings, job_ids: list[str]) -> None:
    """One stored document per job, nothing left pending in the render group."""
    store = DocumentStore(db)
    for job_id in job_ids:
        assert await store.count_for_job(job_id) == 1
    assert await db["documents.files"].count_documents({}) == len(job_ids)
    stream = f"{settings.event_stream_prefix}{PDF_REQUESTED}"

    async def all_acknowledged() -> bool:  # the XACK follows the stored document: poll for it
        return (await core.redis.xpending(stream, "pdf-service"))["pending"] == 0

    await wait_until(all_acknowledged, timeout=60)


def start_worker(name: str, env: dict[str, str], workdir):
    return start_service(name, "pdf_service", 0, env, workdir / name, args=("worker",), health_path=None)


@dataclass
class Batch:
    """A batch of PDF jobs already published, a core-api-like bus and the workers started on it."""

    db: Any
    core: Any
    settings: Any
    env: dict[str, str]
    workdir: Any
    job_ids: list[str]
    workers: list = field(default_factory=list)

    def start_worker(self, name: str):
        srv = start_worker(name, self.env, self.workdir)
        self.workers.append(srv)
        return srv


@contextlib.asynccontextmanager
async def published_batch(settings, workdir, on_generated=None) -> AsyncIterator[Batch]:
    """Publish JOBS contrato jobs; on failure print the workers' logs; always stop the workers."""
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True)
    core = bus_from_settings(settings.model_copy(update={"service_name": "core-api"}))
    if on_generated is not None:
        core.subscribe(PDF_GENERATED, on_generated)
    batch = Batch(
        client[settings.mongodb_db],
        core,
        settings,
        worker_env(settings),
        workdir,
        [uuid.uuid4().hex for _ in range(JOBS)],
    )
    try:
        async with core:
            await publish_batch(core, batch.job_ids)
            yield batch
    except BaseException:
        for srv in batch.workers:
            print(f"--- {srv.name} log ---\n{srv.log_tail(60)}")
        raise
    finally:
        for srv in batch.workers:
            srv.stop(signal.SIGKILL)
        await client.close()


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.pdf_timing(**RECOVERY_TIMING)
async def test_sigkill_mid_batch_then_another_worker_finishes_every_job_exactly_once(pdf_settings, workdir):
    generated: list = []

    async def collect(event):
        generated.append(event.data.job_id)

    async with published_batch(pdf_settings, workdir, on_generated=collect) as b:
        first = b.start_worker("pdf-worker-a")
        await wait_done(b.db, 1, timeout=120)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(5)
        done_before = await b.db["pdf_jobs"].count_documents({"status": "done"})
        assert done_before < JOBS, "the first worker finished everything before it was killed"

        second = b.start_worker("pdf-worker-b")
        await wait_done(b.db, JOBS, timeout=180)

        async def all_announced():
            return set(generated) == set(b.job_ids)

        await wait_until(all_announced)
        await assert_each_job_once(b.db, b.core, pdf_settings, b.job_ids)

        # graceful stop: SIGTERM and a clean exit, quickly
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(60) == 0, second.log_tail()


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.pdf_timing(**RECOVERY_TIMING)
async def test_sigterm_mid_batch_finishes_or_hands_back_every_job(pdf_settings, workdir):
    """Graceful shutdown (issue 7): SIGTERM in the middle of a batch exits 0 within its bound, the
    document in flight is finished or left unacked, and another worker completes the rest — every
    job done exactly once, nothing pending."""
    async with published_batch(pdf_settings, workdir) as b:
        first = b.start_worker("pdf-worker-t1")
        await wait_done(b.db, 1, timeout=120)
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(60) == 0, first.log_tail()
        assert "pdf worker stopped" in first.log_tail(200)
        done_by_first = await b.db["pdf_jobs"].count_documents({"status": "done"})
        assert done_by_first < JOBS, "the first worker finished everything before SIGTERM"

        b.start_worker("pdf-worker-t2")
        await wait_done(b.db, JOBS, timeout=180)
        await assert_each_job_once(b.db, b.core, pdf_settings, b.job_ids)
