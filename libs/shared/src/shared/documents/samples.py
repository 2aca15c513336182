"""A realistic snapshot for demos, tests and benchmarks (one place, so they all print the same thing)."""

from __future__ import annotations

from datetime import date

from shared.documents.snapshot import DocumentKind, DocumentSnapshot

_REGIOES = ("Centro", "Zona Sul", "Zona Norte", "Boa Viagem")


def sample_snapshot(
    kind: DocumentKind = "pi",
    *,
    placas: int = 4,
    clausulas: int = 0,
    cliente_nome: str = "Padaria São João Ltda",
    empresa_id: str = "665f00000000000000000001",
    source_id: str = "665f1c2e9b1e8a0012345678",
    valor_placa_centavos: int = 123456,
) -> DocumentSnapshot:
    return DocumentSnapshot.model_validate(
        {
            "kind": kind,
            "sourceId": source_id,
            "numero": "2026/0042",
            "emitidoEm": date(2026, 3, 5),
            "empresa": {
                "id": empresa_id,
                "nome": "Painéis Horizonte Ltda",
                "cnpj": "12.345.678/0001-90",
                "endereco": "Av. Brasil, 1000 — Recife/PE",
                "telefone": "(81) 3333-4444",
                "email": "comercial@horizonte.com.br",
            },
            "cliente": {
                "id": "665f00000000000000000002",
                "nome": cliente_nome,
                "documento": "98.765.432/0001-10",
                "endereco": "Rua da Aurora, 55 — Recife/PE",
                "responsavel": "Maria Souza",
                "email": "maria@padaria.com.br",
            },
            "periodo": {"inicio": date(2026, 4, 1), "fim": date(2026, 4, 30)},
            "placas": [
                {
                    "id": f"665f0000000000000000{i:04d}",
                    "numero": f"PL-{i:03d}",
                    "endereco": f"Av. Boa Viagem, {100 + i * 10} — em frente ao posto",
                    "regiao": _REGIOES[i % len(_REGIOES)],
                    "cidade": "Recife",
                    "uf": "PE",
                    "tipo": "Outdoor 9x3",
                    "larguraCm": 900,
                    "alturaCm": 300,
                    "valorCentavos": valor_placa_centavos,
                }
                for i in range(1, placas + 1)
            ],
            "valorTotalCentavos": valor_placa_centavos * placas,
            "produto": "Pão de queijo artesanal",
            "descricao": "Campanha de lançamento do novo pão de queijo.",
            "condicoesPagamento": "50% na assinatura e 50% em 30 dias.",
            "clausulas": [
                f"Cláusula adicional {i + 1}: as partes ajustam condições específicas desta campanha. " * 6
                for i in range(clausulas)
            ],
            "piNumero": "2026/0042" if kind == "contrato" else None,
        }
    )
