from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from core_api.lib.documents import Representante, TenantDocument


class Cliente(TenantDocument):
    """An advertiser that rents placas."""

    nome: str
    documento: str | None = None  # CPF or CNPJ
    email: str | None = None
    telefone: str | None = None
    responsavel: str | None = None
    endereco: str | None = None
    #: who signs PIs and contratos for the cliente
    representante: Representante | None = None

    class Settings:
        name = "clientes"
        indexes = [IndexModel([("empresa_id", ASCENDING), ("nome", ASCENDING)], name="empresa_nome")]
