"""PDF jobs, owned by core-api: request (validate, snapshot, record the outbox, publish
`pdf.requested`), answer their status, and record their outcome from pdf-service's events."""

from __future__ import annotations

import re
import uuid
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from pymongo.errors import PyMongoError
from shared.auth import Principal
from shared.documents import DocumentKind
from shared.events import EventEnvelope, PdfFailedV1, PdfGeneratedV1, PdfRequestedV1, new_event
from shared.events.envelope import ID_PATTERN
from shared.logging import get_request_id

from core_api.domain.contratos.services import ContratoService
from core_api.domain.documentos.snapshots import DocumentSnapshotService
from core_api.domain.pdf_jobs.models import PdfRequest
from core_api.domain.pis.services import PIService, status_publico
from core_api.lib.effects import apply_once
from core_api.lib.errors import ConflictException
from core_api.lib.repository import TenantRepository, parse_object_id


def _correlation_id() -> str:
    """The request's X-Request-ID when the event envelope accepts it (it allows a narrower alphabet)."""
    rid = get_request_id()
    return rid if rid and re.fullmatch(ID_PATTERN, rid) else uuid.uuid4().hex


class PdfJobService:
    """PDF jobs of the caller's empresa (another empresa's PI/contrato or job is a 404)."""

    def __init__(self, principal: Principal, state: State) -> None:
        self.principal = principal
        self.state = state
        self.empresa_id = PydanticObjectId(principal.empresa_id)
        self.repo = TenantRepository(PdfRequest, self.empresa_id, "PDF job")

    async def request(self, kind: DocumentKind, source_id: str) -> tuple[PdfRequest, bool]:
        """Record the job with its `pdf.requested` event, then try to publish it right away.

        Returns the record and whether Redis accepted the event already. When it did not (Redis
        down or slow), the record stays in the outbox and the relay publishes it later: the job is
        accepted either way, because it is durably stored before we answer 202.
        """
        pi = None
        if kind == "pi":
            pi = await PIService(self.principal, self.state).get(source_id)
            if status_publico(pi) == "cancelada":
                raise ConflictException(f"PI {source_id} is cancelada; its PDF cannot be generated")
        # tenant-scoped: another empresa's id, a deleted or malformed one is a 404 here; the PI read
        # above is the one the snapshot is made of (read once per job)
        snapshot = await DocumentSnapshotService(self.principal, self.state).snapshot(kind, source_id, pi=pi)
        job_id = uuid.uuid4().hex
        event = new_event(
            PdfRequestedV1(
                job_id=job_id,
                kind=kind,
                source_id=snapshot.source_id,
                requested_by=self.principal.user_id,
                snapshot=snapshot,
            ),
            empresa_id=str(self.empresa_id),
            # stable per job: a relayed duplicate is recognisably the same event
            event_id=f"pdf-requested-{job_id}",
            correlation_id=_correlation_id(),
        )
        record = PdfRequest(
            empresa_id=self.empresa_id,
            job_id=job_id,
            kind=kind,
            source_id=PydanticObjectId(snapshot.source_id),
            requested_by=PydanticObjectId(self.principal.user_id),
            correlation_id=event.correlation_id,
            event=event.model_dump(mode="json", by_alias=True),
        )
        try:
            await record.insert()
        except PyMongoError as exc:
            raise ServiceUnavailableException(
                "the PDF job could not be recorded (database unavailable); nothing was queued, retry"
            ) from exc
        outbox = self.state.get("pdf_outbox")
        queued = await outbox.publish_now(record, event) if outbox is not None else False
        return record, queued

    async def list_for(self, kind: DocumentKind, source_id: str) -> list[PdfRequest]:
        """Every PDF job of one PI or contrato, newest first (the source must be the caller's)."""
        oid = parse_object_id(source_id, "PI" if kind == "pi" else "contrato")
        if kind == "pi":
            await PIService(self.principal, self.state).get(source_id)
        else:
            await ContratoService(self.principal, self.state).get(source_id)
        query: dict[str, Any] = {"kind": kind, "source_id": oid}
        items, _ = await self.repo.page(query, page=1, page_size=100)
        return items

    async def get(self, job_id: str) -> PdfRequest:
        """One job of the caller's empresa; unknown or another empresa's: 404."""
        record = await self.repo.find_one({"job_id": job_id})
        if record is None:
            raise NotFoundException(f"no PDF job {job_id} in your empresa")
        return record

    # --- outcomes (pdf-service's events; see outcomes.py) ----------------------------------------
    async def record_generated(self, event: EventEnvelope[PdfGeneratedV1]) -> PdfRequest | None:
        """Mark the job done with its document, once per event id; a done job stays as it is (a
        failed one becomes done: a later attempt succeeded). None: not a job of this empresa."""
        d = event.data
        changes = {
            "status": "done",
            "document_id": d.document_id,
            "filename": d.filename,
            "sha256": d.sha256,
            "size_bytes": d.size_bytes,
            "pages": d.pages,
            "attempts": d.attempts,
            "generated_at": event.time,
            "error": None,
        }
        return await self._record_outcome(event, "done", changes)

    async def record_failed(self, event: EventEnvelope[PdfFailedV1]) -> PdfRequest | None:
        """Mark a pending job failed with pdf-service's error, once per event id (a done job stays done)."""
        d = event.data
        changes = {"status": "failed", "error": d.error, "attempts": d.attempts, "failed_at": event.time}
        return await self._record_outcome(event, "failed", changes)

    async def _record_outcome(
        self, event: EventEnvelope[Any], status: str, changes: dict[str, Any]
    ) -> PdfRequest | None:
        found = await self.repo.find_one({"job_id": event.data.job_id})
        if found is None:
            return None
        assert found.id is not None  # read from MongoDB
        async with self.repo.locked(found.id) as record:
            current = record

            async def transition() -> None:
                nonlocal current
                # by content too: a re-published outcome carries a new event id
                if current.status != "done" and (status == "done" or current.status == "pending"):
                    current = await self.repo.write(current, changes)

            await apply_once(self.repo.db, event.event_id, f"{PdfRequest.Settings.name}.status", transition)
        return current
