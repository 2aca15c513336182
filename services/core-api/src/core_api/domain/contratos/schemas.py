"""HTTP bodies of /contratos."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core_api.domain.contratos.models import Contrato
from core_api.domain.pis.schemas import DocumentoRead, PagamentoIn
from core_api.lib.schemas import CamelModel, example_config


class ContratoCreate(CamelModel):
    """Make the contrato of a PI (one per PI; not from a cancelled PI). Its clauses are the empresa's
    current clause set, chosen by the payment terms (the PI's, or `pagamento` here)."""

    pi_id: str = Field(min_length=1, max_length=64)
    pagamento: PagamentoIn | None = Field(
        default=None, description="payment terms; default: the PI's (else à vista, 30 days from the start)"
    )

    model_config = example_config(
        {"piId": "665f1c2e8a1b2c3d4e5f6a72"},
        {
            "piId": "665f1c2e8a1b2c3d4e5f6a72",
            "pagamento": {
                "forma": "parcelado",
                "meio": "boleto",
                "parcelas": [
                    {"vencimento": "2027-03-10", "valorCentavos": 345000},
                    {"vencimento": "2027-04-10", "valorCentavos": 345000},
                ],
            },
        },
    )


class ClausulaRead(CamelModel):
    titulo: str
    texto: str


class ContratoRead(CamelModel):
    id: str
    numero: int
    codigo: str
    pi_id: str
    cliente_id: str
    inicio: datetime
    fim: datetime
    valor_total_centavos: int
    produto: str
    status: str = Field(description="`ativo` or `cancelado`")
    cancelado_em: datetime | None = None
    created_at: datetime
    documentos: list[DocumentoRead] = Field(default_factory=list)
    pagamento: PagamentoIn | None = None
    clausulas: list[ClausulaRead] = Field(default_factory=list, description="the clauses as signed")
    clausulas_versao: str | None = None

    @classmethod
    def from_doc(cls, doc: Contrato) -> ContratoRead:
        return cls(
            id=str(doc.id),
            numero=doc.numero,
            codigo=doc.codigo,
            pi_id=str(doc.pi_id),
            cliente_id=str(doc.cliente_id),
            inicio=doc.inicio,
            fim=doc.fim,
            valor_total_centavos=doc.valor_total_centavos,
            produto=doc.produto,
            status=doc.status,
            cancelado_em=doc.cancelado_em,
            created_at=doc.created_at,
            documentos=[DocumentoRead.from_doc(d) for d in doc.documentos],
            pagamento=PagamentoIn.model_validate(doc.pagamento.model_dump()) if doc.pagamento else None,
            clausulas=[ClausulaRead(titulo=c.titulo, texto=c.texto) for c in doc.clausulas],
            clausulas_versao=doc.clausulas_versao,
        )
