"""HTTP bodies of /pis."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, model_validator

from core_api.domain.alugueis.schemas import Centavos, PeriodoMixin
from core_api.domain.pis.models import PI, DocumentoGerado
from core_api.domain.pis.workflow import PIStatusPublico
from core_api.lib.schemas import CamelModel, StrictInteger, example_config
from core_api.lib.validators import CpfOrCnpj

__all__ = ["PICreate", "PIRead", "PIStatusPublico", "PIUpdate"]

_PLACA_1, _PLACA_2 = "665f1c2e8a1b2c3d4e5f6a70", "665f1c2e8a1b2c3d4e5f6a73"
_CLIENTE = "665f1c2e8a1b2c3d4e5f6a71"
MAX_PLACAS_POR_PI = 100


class ItemIn(CamelModel):
    """One placa of the PI. Without `valorCentavos` it is the placa's monthly price over the period,
    pro rata by day (a 30-day month)."""

    placa_id: str = Field(min_length=1, max_length=64)
    valor_centavos: Centavos | None = None
    desconto_centavos: Centavos = 0


class AgenciaIn(CamelModel):
    nome: str = Field(min_length=1, max_length=160)
    documento: CpfOrCnpj | None = None
    comissao_bp: StrictInteger = Field(
        default=2000, ge=0, le=10_000, description="agency commission in basis points (2000 = 20 %)"
    )


class ParcelaIn(CamelModel):
    vencimento: date
    valor_centavos: Centavos


class PagamentoIn(CamelModel):
    """À vista (one parcela) or parcelado (two or more, in due-date order); they add up to the total."""

    forma: Literal["avista", "parcelado"]
    meio: str | None = Field(default=None, max_length=60, description="boleto, PIX, transferência …")
    parcelas: list[ParcelaIn] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _consistent(self) -> PagamentoIn:
        if self.forma == "avista" and len(self.parcelas) != 1:
            raise ValueError("pagamento à vista has exactly one parcela")
        if self.forma == "parcelado" and len(self.parcelas) < 2:
            raise ValueError("pagamento parcelado has at least two parcelas")
        dias = [p.vencimento for p in self.parcelas]
        if dias != sorted(dias):
            raise ValueError("parcelas must be in due-date order")
        return self


Material = Literal["lona", "papel", "adesivo", "digital"]
Producao = Literal["contratante", "contratada"]


class PIExtras(CamelModel):
    """What a PI carries besides its placas and period, as the market uses it."""

    agencia: AgenciaIn | None = None
    material: Material | None = None
    producao_material: Producao | None = Field(default=None, description="who produces the material")
    material_entrega_ate: date | None = Field(default=None, description="the material is delivered by")
    autorizado_por: str | None = Field(default=None, min_length=1, max_length=160)
    autorizado_em: date | None = None
    pagamento: PagamentoIn | None = None


class PICreate(PeriodoMixin, PIExtras):
    """Book every placa for the period for one cliente — all of them or none.

    Name the placas with `placaIds` (each valued at its monthly price pro rata, or, with
    `valorTotalCentavos`, a negotiated total spread over them in proportion to those prices) or with
    `itens` (each with its own value and discount). The PI's total is the sum of the items' nets.
    """

    cliente_id: str = Field(min_length=1, max_length=64)
    placa_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_PLACAS_POR_PI)
    itens: list[ItemIn] | None = Field(default=None, min_length=1, max_length=MAX_PLACAS_POR_PI)
    valor_total_centavos: Centavos | None = None
    produto: str = Field(min_length=1, max_length=200)
    descricao: str | None = Field(default=None, max_length=2000)
    status: Literal["rascunho", "em_andamento"] = Field(
        default="em_andamento",
        description="`rascunho` starts the approval flow (rascunho → aprovada → assinada; a contrato only "
        "once aprovada); `em_andamento` (default) makes the PI active at once, as before the flow existed. "
        "Either way the placas are booked now.",
    )

    model_config = example_config(
        {
            "clienteId": _CLIENTE,
            "placaIds": [_PLACA_1, _PLACA_2],
            "inicio": "2027-03-01T00:00:00-03:00",
            "fim": "2027-03-29T00:00:00-03:00",
            "produto": "Lançamento Verão 2027",
            "status": "rascunho",
        },
        {
            "clienteId": _CLIENTE,
            "itens": [
                {"placaId": _PLACA_1, "valorCentavos": 220000},
                {"placaId": _PLACA_2, "valorCentavos": 190000, "descontoCentavos": 10000},
            ],
            "inicio": "2027-03-01T00:00:00-03:00",
            "fim": "2027-03-29T00:00:00-03:00",
            "produto": "Lançamento Verão 2027",
            "descricao": "Duas bissemanas, lona",
            "agencia": {"nome": "Agência Sol", "comissaoBp": 2000},
            "material": "lona",
            "producaoMaterial": "contratante",
            "materialEntregaAte": "2027-02-25",
            "pagamento": {
                "forma": "avista",
                "meio": "PIX",
                "parcelas": [{"vencimento": "2027-03-10", "valorCentavos": 400000}],
            },
        },
    )

    @model_validator(mode="after")
    def _placas(self) -> PICreate:
        if (self.placa_ids is None) == (self.itens is None):
            raise ValueError("send the placas either as placaIds or as itens (one of them)")
        ids = self.placa_ids if self.placa_ids is not None else [i.placa_id for i in self.itens or []]
        if len(set(ids)) != len(ids):
            raise ValueError("a PI names each placa once")
        if any(not 1 <= len(v) <= 64 for v in ids):
            raise ValueError("placaIds must be placa ids")
        for item in self.itens or []:
            if item.valor_centavos is not None and item.desconto_centavos > item.valor_centavos:
                raise ValueError("an item's descontoCentavos cannot exceed its valorCentavos")
        return self

    def itens_pedidos(self) -> list[ItemIn]:
        return self.itens if self.itens is not None else [ItemIn(placa_id=p) for p in self.placa_ids or []]


class PIUpdate(CamelModel):
    """Change descriptive fields and/or move the status.

    Moves: rascunho → aprovada (admin) | cancelada; aprovada → assinada | rascunho (admin) | cancelada;
    assinada or em_andamento → cancelada; vencida (its period is over) → concluida | cancelada.
    The value is fixed while aprovada or assinada (and once it has a contrato); the placas and the
    period never change: cancel the PI and create another.
    """

    produto: str | None = Field(default=None, min_length=1, max_length=200)
    descricao: str | None = Field(default=None, max_length=2000)
    valor_total_centavos: Centavos | None = None
    status: PIStatusPublico | None = None

    model_config = example_config(
        {"status": "aprovada"},
        {"status": "assinada"},
        {"produto": "Lançamento Verão 2027 (rev. 2)", "valorTotalCentavos": 380000},
    )

    @model_validator(mode="after")
    def _not_null_and_not_empty(self) -> PIUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of produto, descricao, valorTotalCentavos, status")
        for name, wire in (
            ("produto", "produto"),
            ("valor_total_centavos", "valorTotalCentavos"),
            ("status", "status"),
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{wire} cannot be null; omit it to leave it unchanged")
        return self


class DocumentoRead(CamelModel):
    """A generated PDF: download it from `downloadUrl` (served by pdf-service through the gateway)."""

    document_id: str
    job_id: str
    filename: str
    checksum: str = Field(description="SHA-256 of the PDF bytes")
    size_bytes: int
    pages: int
    generated_at: datetime
    download_url: str

    @classmethod
    def from_doc(cls, doc: DocumentoGerado) -> DocumentoRead:
        return cls(
            document_id=doc.document_id,
            job_id=doc.job_id,
            filename=doc.filename,
            checksum=doc.sha256,
            size_bytes=doc.size_bytes,
            pages=doc.pages,
            generated_at=doc.gerado_em,
            download_url=f"/api/v1/documents/{doc.document_id}",
        )


class ItemRead(CamelModel):
    placa_id: str
    valor_centavos: int
    desconto_centavos: int
    liquido_centavos: int


class TransicaoRead(CamelModel):
    de: str
    para: str
    em: datetime
    por: str = Field(description="id of the user who made the change")


class PIRead(CamelModel):
    id: str
    #: PI-2026-000123 (null only for PIs made before numbering existed)
    codigo: str | None = None
    numero: int | None = None
    cliente_id: str
    placa_ids: list[str]
    aluguel_ids: list[str]
    inicio: datetime
    fim: datetime
    dia_inicio: str
    dia_fim: str
    valor_total_centavos: int
    produto: str
    descricao: str | None
    status: PIStatusPublico
    concluida_em: datetime | None
    cancelada_em: datetime | None
    aprovada_em: datetime | None = None
    aprovada_por: str | None = Field(default=None, description="id of the admin who approved it")
    assinada_em: datetime | None = None
    assinada_por: str | None = Field(default=None, description="id of the user who recorded the signature")
    historico: list[TransicaoRead] = Field(default_factory=list, description="status changes, oldest first")
    created_at: datetime
    updated_at: datetime
    documentos: list[DocumentoRead] = Field(default_factory=list)
    itens: list[ItemRead] = Field(default_factory=list)
    agencia: AgenciaIn | None = None
    material: str | None = None
    producao_material: str | None = None
    material_entrega_ate: str | None = None
    autorizado_por: str | None = None
    autorizado_em: str | None = None
    pagamento: PagamentoIn | None = None

    @classmethod
    def from_doc(cls, doc: PI, status: PIStatusPublico) -> PIRead:
        return cls(
            id=str(doc.id),
            codigo=doc.codigo,
            numero=doc.numero,
            itens=[
                ItemRead(
                    placa_id=str(i.placa_id),
                    valor_centavos=i.valor_centavos,
                    desconto_centavos=i.desconto_centavos,
                    liquido_centavos=i.liquido_centavos,
                )
                for i in doc.itens
            ],
            agencia=AgenciaIn.model_validate(doc.agencia.model_dump()) if doc.agencia else None,
            material=doc.material,
            producao_material=doc.producao_material,
            material_entrega_ate=doc.material_entrega_ate,
            autorizado_por=doc.autorizado_por,
            autorizado_em=doc.autorizado_em,
            pagamento=PagamentoIn.model_validate(doc.pagamento.model_dump()) if doc.pagamento else None,
            cliente_id=str(doc.cliente_id),
            placa_ids=[str(p) for p in doc.placa_ids],
            aluguel_ids=[str(a) for a in doc.aluguel_ids],
            inicio=doc.inicio,
            fim=doc.fim,
            dia_inicio=doc.dia_inicio,
            dia_fim=doc.dia_fim,
            valor_total_centavos=doc.valor_total_centavos,
            produto=doc.produto,
            descricao=doc.descricao,
            status=status,
            concluida_em=doc.concluida_em,
            cancelada_em=doc.cancelada_em,
            aprovada_em=doc.aprovada_em,
            aprovada_por=doc.aprovada_por,
            assinada_em=doc.assinada_em,
            assinada_por=doc.assinada_por,
            historico=[TransicaoRead(de=t.de, para=t.para, em=t.em, por=t.por) for t in doc.historico],
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            documentos=[DocumentoRead.from_doc(d) for d in doc.documentos],
        )
