"""pt-BR formatting used by the document templates: R$ 1.234,56, dd/mm/aaaa, CNPJ and CPF masks."""

from __future__ import annotations

import re
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


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def documento_tipo(value: str | None) -> str:
    """Which Brazilian document a number is, by its digits: 'CNPJ' (14), 'CPF' (11), else 'Documento'."""
    digits = _digits(value or "")
    return {14: "CNPJ", 11: "CPF"}.get(len(digits), "Documento")


def documento_br(value: str | None) -> str:
    """A CNPJ or CPF with its usual mask, whatever punctuation it was typed with:
    '11222333000181' → '11.222.333/0001-81', '12345678909' → '123.456.789-09'. Anything else is
    printed as typed (a foreign tax id, say)."""
    if not value:
        return "—"
    digits = _digits(value)
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    if len(digits) == 11:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    return value


def documento_rotulado(value: str | None) -> str:
    """'CNPJ 11.222.333/0001-81' / 'CPF 123.456.789-09' (empty when there is no number)."""
    if not value:
        return ""
    return f"{documento_tipo(value)} {documento_br(value)}"


def percentual(basis_points: int | None) -> str:
    """Basis points as a pt-BR percentage: 2000 → '20%', 1250 → '12,5%'."""
    if basis_points is None:
        return "—"
    whole, frac = divmod(abs(int(basis_points)), 100)
    sign = "-" if basis_points < 0 else ""
    return f"{sign}{whole}" + (f",{frac:02d}".rstrip("0") if frac else "") + "%"


def bissemanas(inicio: date, fim: date) -> str:
    """The period in bissemanas (14-day blocks, how outdoor is sold): 28 days → '2 bissemanas',
    30 days → '2 bissemanas e 2 dias'."""
    total = dias(inicio, fim)
    blocos, resto = divmod(total, 14)
    parts = []
    if blocos:
        parts.append(f"{blocos} bissemana" + ("s" if blocos > 1 else ""))
    if resto:
        parts.append(f"{resto} dia" + ("s" if resto > 1 else ""))
    return " e ".join(parts)
