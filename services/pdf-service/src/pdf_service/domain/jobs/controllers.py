"""HTTP: job status and document download, both scoped to the caller's empresa."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Stream
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from shared.auth import Principal

from pdf_service.domain.jobs.models import PdfJob
from pdf_service.lib.storage import DocumentStore


class PdfJobController(Controller):
    path = "/api/v1/pdf-jobs"
    tags = ["pdf-jobs"]

    @get("/{job_id:str}", summary="Status of a PDF job", cache=False)
    async def get_job(
        self, job_id: FromPath[str], request: Request[Principal, Any, Any], state: State
    ) -> dict[str, Any]:
        """`pending`, `done` (with `documentId`) or `failed` (with `error`). Unknown or another
        empresa's job: 404."""
        job = await state.db[PdfJob.Settings.name].find_one(
            {"_id": job_id, "empresa_id": request.user.empresa_id}
        )
        if job is None:
            raise NotFoundException(f"no PDF job {job_id} in your empresa (it may not be recorded yet)")
        body: dict[str, Any] = {
            "jobId": job["_id"],
            "status": job["status"],
            "kind": job["kind"],
            "sourceId": job["source_id"],
            "attempts": job.get("attempts", 0),
            "createdAt": job["created_at"].isoformat(),
            "updatedAt": job["updated_at"].isoformat(),
        }
        if job.get("document_id"):
            body["documentId"] = job["document_id"]
        if job.get("error"):
            body["error"] = job["error"]
        return body


class DocumentController(Controller):
    path = "/api/v1/documents"
    tags = ["documents"]

    @get(
        "/{document_id:str}",
        summary="Download a stored PDF",
        media_type="application/pdf",
        cache=False,
        responses={},
    )
    async def download(
        self, document_id: FromPath[str], request: Request[Principal, Any, Any], state: State
    ) -> Response[Any]:
        """The PDF, streamed from GridFS, as an attachment; `ETag` is its sha256."""
        try:
            oid = ObjectId(document_id)
        except (InvalidId, TypeError):
            raise NotFoundException(f"no document {document_id}") from None
        store = DocumentStore(state.db)
        stored = await store.get(oid, empresa_id=request.user.empresa_id)
        if stored is None:
            raise NotFoundException(f"no document {document_id} in your empresa")
        etag = f'"{stored.sha256}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=3600"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Stream(
            store.stream(oid),
            media_type="application/pdf",
            headers={
                **headers,
                "Content-Disposition": f'attachment; filename="{stored.filename}"',
                "Content-Length": str(stored.length),
            },
        )
