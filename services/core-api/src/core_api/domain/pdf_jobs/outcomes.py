"""core-api's handlers of pdf-service's outcome events: plain functions of the typed event.

Each records its effects through the domain services (the job through `PdfJobService`, the document
entry through `PIService` / `ContratoService`), each effect compare-and-set under its document's
lease and guarded once per event id (`core_api.lib.effects`), so any number of deliveries of an
event, or of a re-published outcome, leaves one job state and one document entry. Notifying SSE
clients is the caller's business (`events.PdfEvents`): it is not a stored effect.
"""

from __future__ import annotations

import logging
from typing import Any

from bson import ObjectId
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from shared.events import EventEnvelope, PdfFailedV1, PdfGeneratedV1

from core_api.domain.contratos.services import ContratoService
from core_api.domain.pdf_jobs.models import PdfRequest
from core_api.domain.pdf_jobs.services import PdfJobService
from core_api.domain.pis.models import DocumentoGerado
from core_api.domain.pis.services import PIService
from core_api.lib.deps import service_for_empresa

log = logging.getLogger("core_api.pdf_jobs")


def _jobs_of(event: EventEnvelope[Any], state: State) -> PdfJobService | None:
    if not ObjectId.is_valid(event.empresa_id):
        log.warning("%s for a malformed empresa id; ignored", event.type, extra={"job_id": event.data.job_id})
        return None
    return service_for_empresa(PdfJobService, event.empresa_id, state)


def _unknown(event: EventEnvelope[Any]) -> None:
    # not a job this core-api requested for that empresa (another deployment sharing the broker, a test)
    log.warning("%s for a job unknown here; ignored", event.type, extra={"job_id": event.data.job_id})


async def record_pdf_generated(event: EventEnvelope[PdfGeneratedV1], state: State) -> PdfRequest | None:
    """The job is done: record it on the job and its document on the PI/contrato. None: unknown job."""
    jobs = _jobs_of(event, state)
    record = await jobs.record_generated(event) if jobs is not None else None
    if record is None:
        _unknown(event)
        return None
    d = event.data
    # from the stored record where it has the outcome, so a later, different outcome event of the
    # same job (a re-render after a lost record) cannot add a second, different entry
    entry = DocumentoGerado(
        job_id=record.job_id,
        document_id=record.document_id or d.document_id,
        filename=record.filename or d.filename,
        sha256=record.sha256 or d.sha256,
        size_bytes=record.size_bytes or d.size_bytes,
        pages=record.pages or d.pages,
        gerado_em=record.generated_at or event.time,
    )
    owners: PIService | ContratoService = (
        service_for_empresa(PIService, event.empresa_id, state)
        if record.kind == "pi"
        else service_for_empresa(ContratoService, event.empresa_id, state)
    )
    try:
        await owners.registrar_documento(record.source_id, entry, event_id=event.event_id)
    except NotFoundException:
        log.info("the %s of PDF job %s is gone; nothing to record it on", record.kind, record.job_id)
    return record


async def record_pdf_failed(event: EventEnvelope[PdfFailedV1], state: State) -> PdfRequest | None:
    """The job failed: record the error on it (a done job stays done). None: unknown job."""
    jobs = _jobs_of(event, state)
    record = await jobs.record_failed(event) if jobs is not None else None
    if record is None:
        _unknown(event)
    return record
