"""/api/v1/empresa: the caller's own empresa (read by anyone in it, changed by its admins)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, put
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody
from shared.auth import admin_guard

from core_api.domain.empresas.logo import MAX_LOGO_BYTES, LogoError, LogoTooLarge, LogoUnsupportedType
from core_api.domain.empresas.schemas import EmpresaRead, EmpresaUpdate
from core_api.domain.empresas.services import EmpresaService
from core_api.lib.deps import provide_service
from core_api.lib.errors import ConflictException


class EmpresaController(Controller):
    path = "/api/v1/empresa"
    tags = ["empresa"]
    dependencies = {"empresas_service": provide_service(EmpresaService)}

    @get(
        "/",
        summary="Your empresa and its profile",
        description="Name, CNPJ, sede, contacts, legal representative and logo metadata: what PIs and contratos print.",
        raises=[NotFoundException],
    )
    async def get_empresa(self, empresas_service: NamedDependency[EmpresaService]) -> EmpresaRead:
        return EmpresaRead.model_validate(await empresas_service.get())

    @patch(
        "/",
        summary="Change your empresa's profile (admin)",
        description="Name, CNPJ, sede (endereço, cidade, UF), contacts and legal representative: what "
        "PIs and contratos print. Omitted fields are unchanged; null clears an optional one.",
        guards=[admin_guard],
        raises=[NotFoundException, ConflictException],
    )
    async def update_empresa(
        self, empresas_service: NamedDependency[EmpresaService], data: JSONBody[EmpresaUpdate]
    ) -> EmpresaRead:
        return EmpresaRead.model_validate(await empresas_service.update(data))

    @put(
        "/logo",
        summary="Upload your empresa's logo (admin)",
        description=f"The image's bytes as the request body, `Content-Type: image/png` or `image/jpeg`, at "
        f"most {MAX_LOGO_BYTES // 1024} KB and 4000 px a side. The image is checked by its content, not "
        "by its header; it replaces the previous logo and is printed on PIs and contratos.",
        guards=[admin_guard],
        status_code=200,
        raises=[NotFoundException, LogoError, LogoTooLarge, LogoUnsupportedType, ConflictException],
    )
    async def put_logo(
        self, request: Request[Any, Any, Any], empresas_service: NamedDependency[EmpresaService]
    ) -> EmpresaRead:
        body = await request.body()
        return EmpresaRead.model_validate(
            await empresas_service.set_logo(request.headers.get("content-type"), body)
        )

    @get(
        "/logo",
        summary="Your empresa's logo",
        description="The image as uploaded (`image/png` or `image/jpeg`); 404 when there is none.",
        media_type="application/octet-stream",
        raises=[NotFoundException],
    )
    async def get_logo(self, empresas_service: NamedDependency[EmpresaService]) -> Response[bytes]:
        logo, data = await empresas_service.logo()
        return Response(
            data,
            media_type=logo.content_type,
            headers={"ETag": f'"{logo.sha256}"', "Cache-Control": "private, max-age=300"},
        )

    @delete(
        "/logo",
        summary="Remove your empresa's logo (admin)",
        description="Documents made afterwards print no logo; 404 when there is none.",
        guards=[admin_guard],
        raises=[NotFoundException, ConflictException],
    )
    async def delete_logo(self, empresas_service: NamedDependency[EmpresaService]) -> None:
        await empresas_service.delete_logo()
