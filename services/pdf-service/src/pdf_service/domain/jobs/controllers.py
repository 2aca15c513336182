"""HTTP: the document download, scoped to the caller's empresa. (A job's status is core-api's
resource, GET /api/v1/pdf-jobs/{id}, answered from the outcome events this service publishes.)"""

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

from pdf_service.lib.storage import DocumentStore


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
