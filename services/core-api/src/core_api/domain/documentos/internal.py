"""GET /api/v1/internal/{pis,contratos}/{id}/snapshot: what pdf-service renders, for service calls only.

Served only on core-api's internal listener (CORE_API_INTERNAL_PORT, see core_api.server.app): the
public app does not have these routes, so no path trick through the gateway can reach them. pdf-service
forwards the caller's bearer token, so this endpoint authenticates and scopes exactly like the public
routes (no token: 401; another empresa's or a malformed id: 404). It also requires the shared
`X-Internal-Token` as one more layer, so a client token alone cannot call it even from inside.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Controller, Router, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath

from core_api.domain.documentos.snapshots import DocumentSnapshotService
from core_api.lib.deps import provide_service
from core_api.settings import CoreApiSettings

log = logging.getLogger(__name__)
INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 - a header name, not a secret


def internal_token_guard(settings: CoreApiSettings) -> Any:
    """A guard that lets through requests carrying the shared internal token (constant-time check)."""
    expected = settings.internal_token.get_secret_value().encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        given = connection.headers.get(INTERNAL_TOKEN_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            raise PermissionDeniedException(
                f"this is a service-to-service endpoint: send {INTERNAL_TOKEN_HEADER} (INTERNAL_TOKEN)"
            )

    return guard


class InternalSnapshotController(Controller):
    path = "/"
    tags = ["internal"]
    include_in_schema = False
    dependencies = {"snapshots": provide_service(DocumentSnapshotService)}

    @get("/pis/{pi_id:str}/snapshot", cache=False)
    async def pi_snapshot(
        self, snapshots: NamedDependency[DocumentSnapshotService], pi_id: FromPath[str]
    ) -> dict[str, Any]:
        """The PI as `shared.documents.DocumentSnapshot` JSON (camelCase)."""
        snapshot = await snapshots.snapshot("pi", pi_id)
        # one line per service call: the request id ties it to the client's request at pdf-service
        log.info("document snapshot served: pi %s", pi_id)
        return snapshot.model_dump(mode="json")

    @get("/contratos/{contrato_id:str}/snapshot", cache=False)
    async def contrato_snapshot(
        self, snapshots: NamedDependency[DocumentSnapshotService], contrato_id: FromPath[str]
    ) -> dict[str, Any]:
        """The contrato as `shared.documents.DocumentSnapshot` JSON (camelCase)."""
        snapshot = await snapshots.snapshot("contrato", contrato_id)
        log.info("document snapshot served: contrato %s", contrato_id)
        return snapshot.model_dump(mode="json")


def internal_snapshot_router(settings: CoreApiSettings) -> Router:
    return Router(
        path="/api/v1/internal",
        route_handlers=[InternalSnapshotController],
        guards=[internal_token_guard(settings)],
        include_in_schema=False,
    )
