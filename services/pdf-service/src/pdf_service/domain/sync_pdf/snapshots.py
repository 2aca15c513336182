"""Fetch the render input of a PI or contrato from core-api's internal snapshot endpoint.

pdf-service has no domain data of its own: it asks core-api's internal listener (CORE_API_INTERNAL_URL,
never the public port or the gateway) with the CALLER's bearer token (so core-api
authenticates and scopes the request exactly as on its public routes), the request id (one trace), and
the shared internal token (the endpoint refuses callers without it). core-api's 401 and 404 become the
same answers here; anything else means core-api is broken or unreachable and is answered 502/503, which
the gateway's failover replays on core-api's legacy route.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.status_codes import HTTP_502_BAD_GATEWAY, HTTP_503_SERVICE_UNAVAILABLE
from pydantic import ValidationError
from shared.documents import DocumentKind, DocumentSnapshot
from shared.logging import get_request_id

from pdf_service.settings import PdfServiceSettings

INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 - a header name, not a secret
COLLECTIONS: dict[DocumentKind, str] = {"pi": "pis", "contrato": "contratos"}
#: connect quickly (core-api is next door); reading a snapshot is a few MongoDB queries
TIMEOUT = httpx.Timeout(10.0, connect=2.0)


class CoreApiSnapshots:
    """One per app: a pooled httpx client towards core-api."""

    def __init__(
        self, settings: PdfServiceSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = settings.core_api_internal_url.rstrip("/")
        self._internal_token = settings.internal_token.get_secret_value()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # created on first use, on the loop that serves requests (httpx pools are loop-bound)
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url, timeout=TIMEOUT, transport=self._transport
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, kind: DocumentKind, source_id: str, authorization: str) -> DocumentSnapshot:
        headers = {"Authorization": authorization, INTERNAL_TOKEN_HEADER: self._internal_token}
        if request_id := get_request_id():
            headers["X-Request-ID"] = request_id
        path = f"/api/v1/internal/{COLLECTIONS[kind]}/{quote(source_id, safe='')}/snapshot"
        try:
            response = await self._http().get(path, headers=headers)
        except httpx.TimeoutException as exc:
            raise HTTPException(
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"core-api did not answer in time for the {kind} data; try again",
            ) from exc
        except httpx.TransportError as exc:
            raise HTTPException(
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"core-api is unreachable ({type(exc).__name__}); the {kind} data cannot be read, try again",
            ) from exc
        if response.status_code == 401:
            raise NotAuthorizedException(_detail(response, "Invalid token"))
        if response.status_code == 404:
            raise NotFoundException(_detail(response, f"{kind} {source_id} not found"))
        if response.status_code == 403:
            raise HTTPException(
                status_code=HTTP_502_BAD_GATEWAY,
                detail="core-api refused pdf-service's internal token: INTERNAL_TOKEN differs between the services",
            )
        if response.status_code != 200:
            raise HTTPException(
                status_code=HTTP_502_BAD_GATEWAY,
                detail=f"core-api answered HTTP {response.status_code} for the {kind} data",
            )
        try:
            return DocumentSnapshot.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise HTTPException(
                status_code=HTTP_502_BAD_GATEWAY, detail=f"core-api sent {kind} data pdf-service cannot read"
            ) from exc


def _detail(response: httpx.Response, default: str) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return default
    return str(body.get("detail") or default) if isinstance(body, dict) else default
