"""pt-BR formatting of the documents: money, dates, periods, dimensions (no server)."""

from __future__ import annotations

from datetime import date

import pytest
from shared.documents.formatting import brl, data_br, data_extenso, dias, dimensoes


@pytest.mark.parametrize(
    ("centavos", "text"),
    [
        (0, "R$ 0,00"),
        (5, "R$ 0,05"),
        (123456, "R$ 1.234,56"),
        (100_000_000, "R$ 1.000.000,00"),
        (-5, "-R$ 0,05"),
        (-123456, "-R$ 1.234,56"),
        (None, "—"),
    ],
)
def test_brl(centavos, text):
    assert brl(centavos) == text


def test_dates():
    assert data_br(date(2026, 3, 5)) == "05/03/2026"
    assert data_br(None) == "—"
    assert data_extenso(date(2026, 3, 5)) == "5 de março de 2026"
    assert data_extenso(date(2026, 12, 31)) == "31 de dezembro de 2026"


def test_inclusive_day_count():
    assert dias(date(2026, 3, 1), date(2026, 3, 1)) == 1
    assert dias(date(2026, 2, 1), date(2026, 2, 28)) == 28
    assert dias(date(2028, 2, 1), date(2028, 2, 29)) == 29  # leap year


def test_dimensions_from_centimetres():
    assert dimensoes(900, 300) == "9,00 × 3,00 m"
    assert dimensoes(1250, 5) == "12,50 × 0,05 m"
    assert dimensoes(None, 300) == "—" and dimensoes(900, 0) == "—"
