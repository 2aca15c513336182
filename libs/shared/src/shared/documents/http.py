"""The HTTP answer of the strangler-fig PDF routes, in one place for both renderers.

`GET /api/v1/{pis,contratos}/{id}/pdf` is served by core-api (legacy) or pdf-service (new) behind
the gateway's weighted split; SPEC §3 requires the same status codes and headers from both, so the
render-and-answer step lives here rather than in each service.
"""

from __future__ import annotations

from litestar import Response
from litestar.exceptions import InternalServerException, ServiceUnavailableException

from shared.documents.isolated import IsolatedRenderer, RenderError, RenderTimeout
from shared.documents.render import document_filename
from shared.documents.snapshot import DocumentKind, DocumentSnapshot
from shared.metrics import track_pdf_render


async def pdf_response(
    renderer: IsolatedRenderer, renderer_label: str, kind: DocumentKind, snapshot: DocumentSnapshot
) -> Response[bytes]:
    """Render in the isolated process (time limit) and answer `application/pdf` as an attachment.

    A render over its time limit is 503 (retryable), any other render failure 500 with a plain message.
    """
    try:
        with track_pdf_render(renderer_label, kind):
            rendered = await renderer.render(kind, snapshot)
    except RenderTimeout as exc:
        raise ServiceUnavailableException(f"the {kind} PDF took too long to render; try again") from exc
    except RenderError as exc:
        raise InternalServerException(f"the {kind} PDF could not be rendered") from exc
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document_filename(snapshot)}"'},
    )
