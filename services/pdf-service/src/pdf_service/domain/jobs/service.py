"""PdfJobProcessor: pdf.requested → render → GridFS → pdf.generated / pdf.failed, exactly once per job.

Delivery is at least once, so every step is safe to repeat:

1. `record` inserts the job as pending if it is new (an insert; `_id` is the job id). This record
   is pdf-service's working state (attempts, the worker, the lease's subject); the job resource
   clients read is core-api's (GET /api/v1/pdf-jobs/{id}), built from the outcome events.
2. A finished job is not rendered again: its outcome event is published again (same event id,
   so subscribers de-duplicate it) and the message acknowledged.
3. To render, a worker takes the job's lease (`shared.atomic.Leases`, the platform's one-winner
   primitive: a unique insert per lease generation, atomic on FerretDB too, whose conditional
   updates are not). Another delivery of the same job meanwhile sees the lease and leaves the job
   to its holder; if the holder dies, its message stays pending and is claimed after the idle
   timeout, by which time the lease (shorter) has expired and is taken over by exactly one worker.
   Every write of the job document after its creation happens under this lease.
4. The document id is derived from the job id and written once (`_id` unique in GridFS); if it is
   already stored (the worker died before step 5), rendering is skipped.
5. The job is marked done and `pdf.generated` published.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.atomic import Leases
from shared.documents.isolated import IsolatedRenderer, RenderError
from shared.documents.render import document_filename
from shared.events import (
    PDF_FAILED,
    PDF_GENERATED,
    PDF_REQUESTED,
    DeadLetter,
    DeliveryPolicy,
    EventBus,
    EventEnvelope,
    PdfFailedV1,
    PdfGeneratedV1,
    PdfRequestedV1,
    new_event,
)
from shared.metrics import track_job, track_pdf_render

from pdf_service.domain.jobs.models import PdfJob, utcnow
from pdf_service.lib.storage import DocumentStore, StoredDocument, document_id_for

log = logging.getLogger(__name__)

#: the render consumer group (the only one: the job is recorded by the render handler itself)
RENDER_GROUP = "pdf-service"


class PdfJobProcessor:
    def __init__(
        self,
        db: AsyncDatabase[Any],
        store: DocumentStore,
        bus: EventBus,
        renderer: IsolatedRenderer,
        lease_seconds: float,
    ) -> None:
        self._jobs = db[PdfJob.Settings.name]
        self._leases = Leases(db, ttl=lease_seconds)
        self._store = store
        self._bus = bus
        self._renderer = renderer

    def register(self, bus: EventBus, concurrency: int = 1) -> None:
        policy = getattr(bus, "policy", DeliveryPolicy())
        bus.subscribe(
            PDF_REQUESTED,
            self.handle_requested,
            group=RENDER_GROUP,
            on_dead_letter=self.on_dead_letter,
            policy=DeliveryPolicy(**{**policy.__dict__, "concurrency": concurrency}),
            description="Render the document, store it in GridFS, answer pdf.generated or pdf.failed.",
        )
        bus.declare_publisher(
            PDF_GENERATED, "The document is stored: download it from GET /api/v1/documents/{id}."
        )
        bus.declare_publisher(PDF_FAILED, "The document could not be rendered from its snapshot.")

    async def record(self, event: EventEnvelope[PdfRequestedV1]) -> None:
        """Insert the job as pending unless it exists (any status)."""
        d = event.data
        if await self._jobs.find_one({"_id": d.job_id}, {"_id": 1}) is not None:
            return
        now = utcnow()
        # a plain insert, not an upsert: on FerretDB an upsert of an existing job would be a
        # read-modify-write racing the lease holder's writes
        with contextlib.suppress(DuplicateKeyError):
            await self._jobs.insert_one(
                {
                    "_id": d.job_id,
                    "empresa_id": event.empresa_id,
                    "kind": d.kind,
                    "source_id": d.source_id,
                    "status": "pending",
                    "attempts": 0,
                    "request_event_id": event.event_id,
                    "correlation_id": event.correlation_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )

    async def handle_requested(self, event: EventEnvelope[PdfRequestedV1]) -> None:
        d = event.data
        await self.record(event)
        job = await self._jobs.find_one({"_id": d.job_id})
        assert job is not None
        if job["empresa_id"] != event.empresa_id:
            from shared.events import PermanentError

            raise PermanentError(f"job id {d.job_id} already belongs to another empresa")
        if await self._republish_outcome(job, event):
            return
        me = f"{getattr(self._bus, 'consumer_name', 'worker')}:{event.event_id}"
        lease = await self._leases.try_acquire(f"{PdfJob.Settings.name}:{d.job_id}")
        if lease is None:
            current = await self._jobs.find_one({"_id": d.job_id}) or {}
            if not await self._republish_outcome(current, event):
                log.info("job %s is being rendered by another worker; leaving it to them", d.job_id)
            return
        try:
            # read and written by the lease holder alone: a plain read-modify-write is safe
            job = await self._jobs.find_one({"_id": d.job_id})
            assert job is not None
            job = {**job, "worker": me, "attempts": job.get("attempts", 0) + 1, "updated_at": utcnow()}
            await self._jobs.update_one(
                {"_id": d.job_id},
                {"$set": {"worker": me, "attempts": job["attempts"], "updated_at": job["updated_at"]}},
            )
            if not await self._republish_outcome(job, event):
                await self._render_and_store(event, job)
        finally:
            await self._leases.release(lease)

    async def _render_and_store(self, event: EventEnvelope[PdfRequestedV1], job: dict[str, Any]) -> None:
        d = event.data
        # one job run: in flight while rendering and storing, then counted by outcome
        with track_job("pdf") as run:
            document_id = document_id_for(d.job_id)
            stored = await self._store.get(document_id)
            if stored is None:
                try:
                    with track_pdf_render("pdf-service", d.kind):
                        rendered = await self._renderer.render(d.kind, d.snapshot)
                except RenderError as exc:
                    run.fail()
                    await self._finish_failed(event, f"{exc}", job["attempts"])
                    return
                stored = await self._store.put(
                    document_id,
                    document_filename(d.snapshot),
                    rendered.pdf,
                    pages=rendered.pages,
                    metadata={
                        "empresaId": event.empresa_id,
                        "jobId": d.job_id,
                        "kind": d.kind,
                        "sourceId": d.source_id,
                    },
                )
            await self._jobs.update_one(
                {"_id": d.job_id, "status": "pending"},
                {
                    "$set": {
                        "status": "done",
                        "document_id": str(stored.id),
                        "filename": stored.filename,
                        "sha256": stored.sha256,
                        "pages": stored.pages,
                        "size_bytes": stored.length,
                        "error": None,
                        "updated_at": utcnow(),
                    }
                },
            )
            await self._publish_generated(event, d.job_id, d.kind, d.source_id, stored, job["attempts"])

    async def _finish_failed(self, event: EventEnvelope[PdfRequestedV1], error: str, attempts: int) -> None:
        d = event.data
        await self._jobs.update_one(
            {"_id": d.job_id, "status": "pending"},
            {
                "$set": {
                    "status": "failed",
                    "error": error[:2000],
                    "updated_at": utcnow(),
                }
            },
        )
        log.warning("PDF job %s failed: %s", d.job_id, error)
        await self._publish_failed(event, d.job_id, d.kind, d.source_id, error, max(attempts, 1))

    async def _republish_outcome(self, job: dict[str, Any], event: EventEnvelope[PdfRequestedV1]) -> bool:
        """For a finished job: publish its outcome again (a previous attempt may have died first)."""
        status = job.get("status")
        if status == "done":
            stored = await self._store.get(document_id_for(job["_id"]))
            if stored is None:
                return False
            await self._publish_generated(
                event, job["_id"], job["kind"], job["source_id"], stored, job.get("attempts", 1)
            )
            return True
        if status == "failed":
            await self._publish_failed(
                event,
                job["_id"],
                job["kind"],
                job["source_id"],
                job.get("error") or "failed",
                job.get("attempts", 1),
            )
            return True
        return False

    async def _publish_generated(
        self,
        cause: EventEnvelope[Any],
        job_id: str,
        kind: Any,
        source_id: str,
        stored: StoredDocument,
        attempts: int,
    ) -> None:
        payload = PdfGeneratedV1(
            job_id=job_id,
            kind=kind,
            source_id=source_id,
            document_id=str(stored.id),
            filename=stored.filename,
            sha256=stored.sha256,
            size_bytes=stored.length,
            pages=max(stored.pages, 1),
            attempts=max(attempts, 1),
        )
        # one event id per job outcome: a re-published outcome is recognisably the same event
        event = new_event(payload, empresa_id=cause.empresa_id, event_id=f"pdf-generated-{job_id}")
        await self._bus.publish(PDF_GENERATED, event)

    async def _publish_failed(
        self, cause: EventEnvelope[Any], job_id: str, kind: Any, source_id: str, error: str, attempts: int
    ) -> None:
        payload = PdfFailedV1(
            job_id=job_id, kind=kind, source_id=source_id, error=error[:2000], attempts=max(attempts, 1)
        )
        event = new_event(payload, empresa_id=cause.empresa_id, event_id=f"pdf-failed-{job_id}")
        await self._bus.publish(PDF_FAILED, event)

    async def on_dead_letter(self, letter: DeadLetter) -> None:
        """The bus gave up on a request (infrastructure kept failing): fail the job visibly."""
        event = letter.event
        if event is None or not isinstance(event.data, PdfRequestedV1):
            return
        await self._finish_failed(
            event, f"gave up after {letter.deliveries} deliveries: {letter.error}", letter.deliveries
        )
