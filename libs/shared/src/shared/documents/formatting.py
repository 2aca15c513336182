"""pt-BR formatting used by the document templates: R$ 1.234,56 and dd/mm/aaaa."""

from __future__ import annotations

from datetime import date

_MESES = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip


def brl(centavos: int | None) -> str:
    """Integer cents as Brazilian reais: 123456 → 'R$ 1.234,56', -5 → '-R$ 0,05'."""
    if centavos is None:
        return "—"
    sign = "-" if centavos < 0 else ""
    reais, cents = divmod(abs(int(centavos)), 100)
    return f"{sign}R$ {reais:,}".replace(",", ".") + f",{cents:02d}"


def data_br(value: date | None) -> str:
    """dd/mm/aaaa."""
    return value.strftime("%d/%m/%Y") if value is not None else "—"


def data_extenso(value: date) -> str:
    """'5 de março de 2026' (for the place-and-date line above signatures)."""
    return f"{value.day} de {_MESES[value.month - 1]} de {value.year}"


def dias(inicio: date, fim: date) -> int:
    """Days in an inclusive period."""
    return (fim - inicio).days + 1


def dimensoes(largura_cm: int | None, altura_cm: int | None) -> str:
    """'9,00 × 3,00 m' from centimetres."""
    if not largura_cm or not altura_cm:
        return "—"
    return f"{largura_cm / 100:.2f} × {altura_cm / 100:.2f} m".replace(".", ",")
