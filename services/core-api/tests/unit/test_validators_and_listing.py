"""Pure logic: CPF/CNPJ/UF/e-mail checks, sort translation, PATCH null refusal, strict money."""

import pytest
from core_api.domain.placas.schemas import PlacaCreate, PlacaUpdate
from core_api.lib.listing import db_sort
from core_api.lib.validators import (
    is_valid_cnpj,
    is_valid_cpf,
    normalize_cpf_or_cnpj,
    normalize_email,
    normalize_uf,
)
from litestar.exceptions import ValidationException
from pydantic import ValidationError

REGIAO = "665f1c2e8a4b2c0012345678"


@pytest.mark.parametrize("cnpj", ["11.222.333/0001-81", "11222333000181", "45.723.174/0001-10"])
def test_valid_cnpj(cnpj):
    assert is_valid_cnpj(cnpj)


@pytest.mark.parametrize("cnpj", ["11.222.333/0001-82", "11111111111111", "1122233300018", "abcdefghijklmn"])
def test_invalid_cnpj(cnpj):
    assert not is_valid_cnpj(cnpj)


def test_cpf():
    assert is_valid_cpf("529.982.247-25")
    assert not is_valid_cpf("529.982.247-24")
    assert not is_valid_cpf("000.000.000-00")
    assert normalize_cpf_or_cnpj("529.982.247-25") == "52998224725"
    with pytest.raises(ValueError):
        normalize_cpf_or_cnpj("123")


def test_email_and_uf():
    assert normalize_email("  Ana@Example.COM ") == "ana@example.com"
    for bad in ("ana", "ana@", "@x.com", "a b@x.com"):
        with pytest.raises(ValueError):
            normalize_email(bad)
    assert normalize_uf("sp") == "SP"
    with pytest.raises(ValueError):
        normalize_uf("XX")


def test_db_sort_translates_and_whitelists():
    fields = {"numero": "numero", "createdAt": "created_at"}
    assert db_sort(None, fields) is None
    assert db_sort("numero", fields) == "numero"
    assert db_sort("-createdAt", fields) == "-created_at"
    with pytest.raises(ValidationException) as exc:
        db_sort("-$where", fields)
    assert "numero, createdAt" in str(exc.value.detail)


def test_patch_refuses_null_for_required_fields_and_reports_only_sent_fields():
    assert PlacaUpdate.model_validate({"cidade": None}).changes() == {"cidade": None}
    assert PlacaUpdate.model_validate({"valorMensalCentavos": 5}).changes() == {"valor_mensal_centavos": 5}
    with pytest.raises(ValidationError, match="numero cannot be null"):
        PlacaUpdate.model_validate({"numero": None})


@pytest.mark.parametrize("value", ["100", 1.0, 12.5, True, -1, None])
def test_money_must_be_a_non_negative_integer_even_when_validated_leniently(value):
    body = {"numero": "1", "regiaoId": REGIAO, "endereco": "Rua", "valorMensalCentavos": value}
    with pytest.raises(ValidationError):
        PlacaCreate.model_validate(body, strict=False)  # how Litestar validates bodies


def test_strings_must_be_strings():
    with pytest.raises(ValidationError):
        PlacaCreate.model_validate(
            {"numero": {"$gt": ""}, "regiaoId": REGIAO, "endereco": "Rua"}, strict=False
        )
    with pytest.raises(ValidationError):
        PlacaCreate.model_validate({"numero": 7, "regiaoId": REGIAO, "endereco": "Rua"}, strict=False)
