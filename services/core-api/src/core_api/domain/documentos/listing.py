"""GET /api/v1/documentos: the PDFs generated for the empresa's PIs and contratos, newest first, each
with its download link (served by pdf-service through the gateway)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from beanie import PydanticObjectId
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from shared.auth import Principal

from core_api.domain.contratos.models import Contrato
from core_api.domain.pis.models import PI
from core_api.lib.csv_export import list_response
from core_api.lib.deps import provide_service
from core_api.lib.listing import ListParams, provide_list_params
from core_api.lib.repository import TenantRepository
from core_api.lib.schemas import CamelModel, Page

Tipo = Literal["pi", "contrato"]


class DocumentoListado(CamelModel):
    document_id: str
    job_id: str
    tipo: Tipo
    source_id: str
    numero: str | None
    filename: str
    checksum: str
    size_bytes: int
    pages: int
    generated_at: datetime
    download_url: str


class DocumentosService:
    def __init__(self, principal: Principal, state: State) -> None:
        empresa_id = PydanticObjectId(principal.empresa_id)
        self.pis = TenantRepository(PI, empresa_id, "PI")
        self.contratos = TenantRepository(Contrato, empresa_id, "contrato")

    async def list(self, params: ListParams, tipo: Tipo | None) -> tuple[list[DocumentoListado], int]:
        """Every generated document of the empresa (those recorded on its PIs and contratos), newest
        first. Read whole and paged here: FerretDB v1 cannot unwind the embedded lists."""
        docs: list[DocumentoListado] = []
        owners: list[tuple[Tipo, Any]] = []
        com_documentos: dict[str, Any] = {"documentos": {"$ne": []}}
        if tipo in (None, "pi"):
            owners += [("pi", p) for p in await self.pis.find_many(com_documentos)]
        if tipo in (None, "contrato"):
            owners += [("contrato", c) for c in await self.contratos.find_many(com_documentos)]
        for kind, owner in owners:
            for d in owner.documentos:
                docs.append(
                    DocumentoListado(
                        document_id=d.document_id,
                        job_id=d.job_id,
                        tipo=kind,
                        source_id=str(owner.id),
                        numero=owner.codigo,
                        filename=d.filename,
                        checksum=d.sha256,
                        size_bytes=d.size_bytes,
                        pages=d.pages,
                        generated_at=d.gerado_em,
                        download_url=f"/api/v1/documents/{d.document_id}",
                    )
                )
        docs.sort(key=lambda d: (d.generated_at, d.document_id), reverse=True)
        start = (params.page - 1) * params.page_size
        return docs[start : start + params.page_size], len(docs)


class DocumentosController(Controller):
    path = "/api/v1/documentos"
    tags = ["documentos"]
    dependencies = {
        "documentos_service": provide_service(DocumentosService),
        "list_params": provide_list_params,
    }

    @get(
        "/",
        summary="Generated PDFs of your PIs and contratos, newest first, with download links",
        description="Each PDF made by a PDF job (POST /pis/{id}/pdf-jobs, /contratos/{id}/pdf-jobs); "
        "`downloadUrl` is served by pdf-service through the gateway.",
    )
    async def list_documentos(
        self,
        documentos_service: NamedDependency[DocumentosService],
        list_params: NamedDependency[ListParams],
        tipo: Annotated[
            Tipo | None, QueryParameter(description="only PIs' or only contratos' documents")
        ] = None,
    ) -> Response[Page[DocumentoListado]]:
        return await list_response(
            list_params,
            DocumentoListado,
            lambda p: documentos_service.list(p, tipo),
            lambda d: d,
            "documentos",
        )
