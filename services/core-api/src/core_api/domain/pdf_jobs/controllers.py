"""POST /api/v1/{pis,contratos}/{id}/pdf-jobs, their job lists, GET /api/v1/pdf-jobs/{id} (the job,
owned here), and GET /api/v1/events (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED
from shared.auth import Principal
from shared.metrics_process import is_draining
from shared.revocation import REVOKED_MESSAGE, revocation_channel

from core_api.domain.pdf_jobs.events import empresa_channel
from core_api.domain.pdf_jobs.schemas import PdfJobAccepted, PdfRequestRead
from core_api.domain.pdf_jobs.services import PdfJobService
from core_api.domain.users.revocation import version_in_redis
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException

#: a comment line this often keeps proxies from closing an idle stream and notices gone clients
SSE_KEEPALIVE_SECONDS = 15.0
#: how long an EventSource waits before reconnecting (ms)
SSE_RETRY_MS = 3000


def _accepted(job_id: str, queued: bool) -> Response[PdfJobAccepted]:
    status_url = f"/api/v1/pdf-jobs/{job_id}"
    return Response(
        PdfJobAccepted(job_id=job_id, status_url=status_url, queued=queued),
        status_code=HTTP_202_ACCEPTED,
        headers={"Location": status_url},
    )


class PdfJobController(Controller):
    path = "/api/v1"
    tags = ["pdf-jobs"]
    dependencies = {"pdf_job_service": provide_service(PdfJobService)}

    @post(
        "/pis/{pi_id:str}/pdf-jobs",
        status_code=HTTP_202_ACCEPTED,
        summary="Generate the PI's PDF",
        raises=[ConflictException],
    )
    async def request_pi_pdf(
        self, pdf_job_service: NamedDependency[PdfJobService], pi_id: FromPath[str]
    ) -> Response[PdfJobAccepted]:
        """202 with the job id; pdf-service renders it. 404: not the caller's PI; 409: PI cancelada."""
        record, queued = await pdf_job_service.request("pi", pi_id)
        return _accepted(record.job_id, queued)

    @post(
        "/contratos/{contrato_id:str}/pdf-jobs",
        status_code=HTTP_202_ACCEPTED,
        summary="Generate the contrato's PDF",
        raises=[ConflictException],
    )
    async def request_contrato_pdf(
        self, pdf_job_service: NamedDependency[PdfJobService], contrato_id: FromPath[str]
    ) -> Response[PdfJobAccepted]:
        """202 with the job id; pdf-service renders it. 404: not the caller's contrato."""
        record, queued = await pdf_job_service.request("contrato", contrato_id)
        return _accepted(record.job_id, queued)

    @get("/pis/{pi_id:str}/pdf-jobs", summary="The PI's PDF jobs")
    async def list_pi_jobs(
        self, pdf_job_service: NamedDependency[PdfJobService], pi_id: FromPath[str]
    ) -> list[PdfRequestRead]:
        """Every PDF job of the PI (pending, done with its documentId, failed with the error), newest first."""
        return [PdfRequestRead.from_doc(r) for r in await pdf_job_service.list_for("pi", pi_id)]

    @get("/contratos/{contrato_id:str}/pdf-jobs", summary="The contrato's PDF jobs")
    async def list_contrato_jobs(
        self, pdf_job_service: NamedDependency[PdfJobService], contrato_id: FromPath[str]
    ) -> list[PdfRequestRead]:
        """Every PDF job of the contrato (pending, done with its documentId, failed with the error), newest first."""
        return [PdfRequestRead.from_doc(r) for r in await pdf_job_service.list_for("contrato", contrato_id)]

    @get("/pdf-jobs/{job_id:str}", summary="Status of a PDF job", cache=False)
    async def get_job(
        self, pdf_job_service: NamedDependency[PdfJobService], job_id: FromPath[str]
    ) -> PdfRequestRead:
        """`pending`, `done` (with `documentId` and `downloadUrl`) or `failed` (with `error`), from
        pdf-service's outcome events: answered by core-api alone, also while pdf-service is down.
        Unknown or another empresa's job: 404."""
        return PdfRequestRead.from_doc(await pdf_job_service.get(job_id))

    @get("/events", summary="Notifications (Server-Sent Events)", cache=False, media_type="text/event-stream")
    async def events(
        self, request: Request[Principal, Any, Any], channels: NamedDependency[ChannelsPlugin]
    ) -> ServerSentEvent:
        """`text/event-stream` of the caller's empresa: `pdf.generated` / `pdf.failed` events whose
        data is `{"type", "eventId", "jobId", "kind", "sourceId", "documentId"|"error", ...}`; the SSE
        `id` is the event id (a redelivered event may repeat it). The stream ends when the caller's
        tokens are revoked (logout, password or role change, deactivation, removal)."""
        return ServerSentEvent(_stream(channels, request.app.state, request.user))


async def _stream(
    channels: ChannelsPlugin, state: State, user: Principal
) -> AsyncIterator[ServerSentEventMessage]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    revoked = revocation_channel(state.settings, user.user_id)
    channel_names = [empresa_channel(user.empresa_id), revoked]
    subscriber = await channels.subscribe(channel_names)
    try:
        # a revocation between the authentication of this request and the subscription: close now
        version = await version_in_redis(state, user.user_id)
        if version is not None and user.token_version < version:
            return
        # sent at once, so the client (and the gateway) see the stream open before any event
        yield ServerSentEventMessage(data=None, comment="connected", retry=SSE_RETRY_MS)
        async with subscriber.run_in_background(queue.put):
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
                except TimeoutError:
                    if is_draining():
                        return  # the instance is going away: the client reconnects elsewhere
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    continue
                if data == REVOKED_MESSAGE:
                    return  # the user's tokens were revoked: no more events for this stream
                notification = json.loads(data)
                yield ServerSentEventMessage(
                    data=data.decode(), event=notification["type"], id=notification["eventId"]
                )
    finally:
        await channels.unsubscribe(subscriber, channel_names)
