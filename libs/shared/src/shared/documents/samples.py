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


#: list prices of the placas of `complete_snapshot` (each placa its own value)
_PRECOS = (220000, 190000, 300000)


def complete_snapshot(
    kind: DocumentKind = "contrato", *, forma: str = "avista", source_id: str = "665f1c2e9b1e8a0012345678"
) -> DocumentSnapshot:
    """A snapshot with everything a document can print: raw CNPJ/CPF digits (the renderer masks them),
    the empresa's sede and representative, the cliente's representative, an agência with its
    commission, per-placa values with a discount, the payment terms (à vista or in three parcelas),
    the material and who authorised the PI. Fixed data: the visual regression goldens are made from it."""
    valores = [(preco, 10000 if i == 1 else 0) for i, preco in enumerate(_PRECOS)]
    total = sum(v - d for v, d in valores)
    if forma == "avista":
        pagamento = {
            "forma": "avista",
            "meio": "boleto",
            "parcelas": [{"vencimento": date(2027, 3, 10), "valorCentavos": total}],
        }
    else:
        first, rest = total - 2 * (total // 3), total // 3
        pagamento = {
            "forma": "parcelado",
            "meio": "PIX",
            "parcelas": [
                {"vencimento": date(2027, 3, 10), "valorCentavos": first},
                {"vencimento": date(2027, 4, 10), "valorCentavos": rest},
                {"vencimento": date(2027, 5, 10), "valorCentavos": rest},
            ],
        }
    return DocumentSnapshot.model_validate(
        {
            "kind": kind,
            "sourceId": source_id,
            "numero": ("CT" if kind == "contrato" else "PI") + "-2027-000123",
            "emitidoEm": date(2027, 2, 15),
            "empresa": {
                "id": "665f00000000000000000001",
                "nome": "Painéis Horizonte Ltda",
                "cnpj": "11222333000181",
                "endereco": "Av. Agamenon Magalhães, 2000, sala 801 — Espinheiro",
                "cidade": "Recife",
                "uf": "PE",
                "telefone": "(81) 3333-4444",
                "email": "comercial@horizonte.com.br",
                "representante": {
                    "nome": "Carlos Andrade",
                    "cpf": "12345678909",
                    "cargo": "Diretor comercial",
                },
            },
            "cliente": {
                "id": "665f00000000000000000002",
                "nome": "Padaria São João Ltda",
                "documento": "98765432000198",
                "endereco": "Rua da Aurora, 55 — Boa Vista, Recife/PE",
                "email": "maria@padaria.com.br",
                "representante": {
                    "nome": "Maria Souza",
                    "cpf": "98765432100",
                    "cargo": "Sócia-administradora",
                },
            },
            "periodo": {"inicio": date(2027, 3, 1), "fim": date(2027, 3, 28)},
            "placas": [
                {
                    "id": f"665f0000000000000000{i:04d}",
                    "numero": f"PE-{i:03d}",
                    "endereco": endereco,
                    "regiao": regiao,
                    "cidade": "Recife",
                    "uf": "PE",
                    "tipo": "Outdoor 9x3",
                    "larguraCm": 900,
                    "alturaCm": 300,
                    "valorCentavos": valor,
                    "descontoCentavos": desconto or None,
                }
                for i, ((valor, desconto), endereco, regiao) in enumerate(
                    zip(
                        valores,
                        ("Av. Boa Viagem, 3200", "Av. Caxangá, 1500", "BR-101, km 62 (sentido sul)"),
                        ("Zona Sul", "Zona Oeste", "Região Metropolitana"),
                        strict=True,
                    ),
                    start=1,
                )
            ],
            "valorTotalCentavos": total,
            "produto": "Pão de queijo artesanal",
            "descricao": "Campanha de lançamento do novo pão de queijo.",
            "pagamento": pagamento,
            "agencia": {
                "nome": "Agência Maré Comunicação",
                "documento": "45723174000110",
                "comissaoBp": 2000,
            },
            "material": "lona",
            "producaoMaterial": "contratante",
            "materialEntregaAte": date(2027, 2, 22),
            "autorizadoPor": "Maria Souza",
            "autorizadoEm": date(2027, 2, 15),
            "piNumero": "PI-2027-000123" if kind == "contrato" else None,
        }
    )
