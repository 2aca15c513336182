"""The render input of a PI or contrato: core-api's tenant-scoped snapshot as a `DocumentSnapshot`.

Both renderers print from this one object: the legacy routes render it in core-api, and pdf-service
fetches the same object from the internal snapshot endpoint. So the two paths cannot print different
data, only render it in different processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from litestar.datastructures import State
from shared.auth import Principal
from shared.documents import DocumentKind, DocumentSnapshot
from shared.documents.snapshot import LOCAL_TZ

from core_api.domain.contratos.services import ContratoService
from core_api.domain.empresas.models import Empresa
from core_api.domain.empresas.services import empresa_profile
from core_api.domain.pis.services import PIService

#: printed where core-api no longer has a referenced record (a deleted cliente, placa or região)
MISSING = "—"


def pi_numero(pi_id: str, created_at: str | None) -> str:
    """PIs have no sequence number: 'ano/último 6 hex do id' identifies one for people (2026/3FA91C)."""
    year = datetime.fromisoformat(created_at).astimezone(LOCAL_TZ).year if created_at else ""
    return f"{year}/{pi_id[-6:].upper()}".lstrip("/")


def _local_date(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(LOCAL_TZ).date().isoformat()


def document_snapshot(raw: dict[str, Any]) -> DocumentSnapshot:
    """Map `build_pi_snapshot` / `build_contrato_snapshot` output to the shared render model.

    Everything printed comes from stored data (the issue date is the record's creation day), so two
    renders of the same record give the same text on either path.
    """
    kind: DocumentKind = raw["tipo"]
    pi, cliente, empresa = raw["pi"], raw["cliente"], raw["empresa"]
    numero_pi = pi.get("codigo") or pi_numero(pi["id"], pi["created_at"])
    if kind == "contrato":
        contrato = raw["contrato"]
        source_id, numero = contrato["id"], contrato["codigo"]
        emitido_em, valor, produto = (
            contrato["created_at"],
            contrato["valor_total_centavos"],
            contrato["produto"],
        )
    else:
        source_id, numero = pi["id"], numero_pi
        emitido_em, valor, produto = pi["created_at"], pi["valor_total_centavos"], pi["produto"]
    return DocumentSnapshot.model_validate(
        {
            "kind": kind,
            "source_id": source_id,
            "numero": numero,
            "emitido_em": _local_date(emitido_em),
            "empresa": empresa,
            "cliente": {
                "id": cliente["id"],
                "nome": cliente.get("nome") or MISSING,
                **{
                    k: cliente.get(k)
                    for k in ("documento", "endereco", "email", "telefone", "responsavel", "representante")
                },
            },
            # the first and last booked days (America/Sao_Paulo), as the PI's aluguéis hold them
            "periodo": {"inicio": pi["dia_inicio"], "fim": pi["dia_fim"]},
            "placas": [
                {
                    "id": p["id"],
                    "numero": p.get("numero") or MISSING,
                    "endereco": p.get("endereco") or MISSING,
                    "regiao": (p.get("regiao") or {}).get("nome") or MISSING,
                    **{
                        k: p.get(k)
                        for k in (
                            "cidade",
                            "uf",
                            "tipo",
                            "largura_cm",
                            "altura_cm",
                            "valor_centavos",
                            "desconto_centavos",
                        )
                    },
                }
                for p in raw["placas"]
            ],
            "valor_total_centavos": valor,
            "produto": produto,
            "descricao": pi.get("descricao"),
            "pi_numero": numero_pi if kind == "contrato" else None,
            **{
                k: pi.get(k)
                for k in (
                    "agencia",
                    "material",
                    "producao_material",
                    "material_entrega_ate",
                    "autorizado_por",
                    "autorizado_em",
                )
            },
            # a contrato prints its own payment terms and the clauses it was signed with
            "pagamento": (raw.get("contrato") or {}).get("pagamento") or pi.get("pagamento"),
            "clausulas_contrato": (raw.get("contrato") or {}).get("clausulas") or None,
            "clausulas_versao": (raw.get("contrato") or {}).get("clausulas_versao"),
        }
    )


class DocumentSnapshotService:
    """The snapshot of one of the caller's PIs or contratos (another empresa's or a bad id: 404)."""

    def __init__(self, principal: Principal, state: State) -> None:
        self.principal = principal
        self.state = state

    async def snapshot(self, kind: DocumentKind, source_id: str) -> DocumentSnapshot:
        if kind == "contrato":
            raw = await ContratoService(self.principal, self.state).snapshot(source_id)
        else:
            raw = await PIService(self.principal, self.state).snapshot(source_id)
        return await snapshot_with_profile(self.state, raw)


async def snapshot_with_profile(state: State, raw: dict[str, Any]) -> DocumentSnapshot:
    """`document_snapshot` with the empresa's whole profile (sede, contacts, representative, logo)."""
    raw["empresa"] = await empresa_profile(state, await Empresa.get(PydanticObjectId(raw["empresa"]["id"])))
    return document_snapshot(raw)
