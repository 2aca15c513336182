"""Value checks shared by request schemas: CPF/CNPJ check digits, UF, e-mail, control characters.

Pure functions raising `ValueError` with a message a person can act on; pydantic turns that into a
400 naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

UFS = frozenset(
    [
        "AC",
        "AL",
        "AP",
        "AM",
        "BA",
        "CE",
        "DF",
        "ES",
        "GO",
        "MA",
        "MT",
        "MS",
        "MG",
        "PA",
        "PB",
        "PR",
        "PE",
        "PI",
        "RJ",
        "RN",
        "RS",
        "RO",
        "RR",
        "SC",
        "SP",
        "SE",
        "TO",
    ]
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: C0 controls (NUL, tab, newline, ...), DEL and C1 controls: never part of a name, a description or
#: a password a person typed; stored, they break CSV exports, logs and printed documents
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def refuse_control_characters(value: str) -> str:
    if (found := CONTROL_CHARACTERS.search(value)) is not None:
        raise ValueError(
            f"must not contain control characters (found U+{ord(found.group()):04X} at position "
            f"{found.start()}); send plain text without NUL, tabs, line breaks or other control codes"
        )
    return value


def _digits(value: str) -> str:
    return re.sub(r"[.\-/\s]", "", value)


def _check_digit(digits: str, weights: list[int]) -> int:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    return 0 if rest < 2 else 11 - rest


def is_valid_cpf(value: str) -> bool:
    d = _digits(value)
    if len(d) != 11 or not d.isdigit() or d == d[0] * 11:
        return False
    first = _check_digit(d[:9], list(range(10, 1, -1)))
    second = _check_digit(d[:10], list(range(11, 1, -1)))
    return d[9:] == f"{first}{second}"


def is_valid_cnpj(value: str) -> bool:
    d = _digits(value)
    if len(d) != 14 or not d.isdigit() or d == d[0] * 14:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(d[:12], weights)
    second = _check_digit(d[:13], [6, *weights])
    return d[12:] == f"{first}{second}"


def normalize_cnpj(value: str) -> str:
    """Digits only; raises if the check digits are wrong."""
    if not is_valid_cnpj(value):
        raise ValueError("not a valid CNPJ (14 digits with correct check digits, e.g. 11.222.333/0001-81)")
    return _digits(value)


def normalize_cpf(value: str) -> str:
    """Digits only; raises if the check digits are wrong."""
    if not is_valid_cpf(value):
        raise ValueError("not a valid CPF (11 digits with correct check digits, e.g. 123.456.789-09)")
    return _digits(value)


def normalize_cpf_or_cnpj(value: str) -> str:
    """Digits only; 11 digits must be a valid CPF, 14 a valid CNPJ."""
    d = _digits(value)
    if len(d) == 11 and is_valid_cpf(d):
        return d
    if len(d) == 14 and is_valid_cnpj(d):
        return d
    raise ValueError("not a valid CPF (11 digits) or CNPJ (14 digits); check the digits")


def normalize_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value


def normalize_uf(value: str) -> str:
    value = value.strip().upper()
    if value not in UFS:
        raise ValueError(f"not a Brazilian UF; use one of: {', '.join(sorted(UFS))}")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(normalize_email)]
Cnpj = Annotated[str, Field(max_length=20), AfterValidator(normalize_cnpj)]
Cpf = Annotated[str, Field(max_length=20), AfterValidator(normalize_cpf)]
CpfOrCnpj = Annotated[str, Field(max_length=20), AfterValidator(normalize_cpf_or_cnpj)]
Uf = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(normalize_uf)]
