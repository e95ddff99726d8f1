"""Money is exact: Decimal in, Decimal out, nothing rounded behind the client's back."""

from decimal import Decimal

import pytest

from domain.errors import DadosInvalidos
from domain.money import PRECO_MAXIMO, parse_preco, somar


@pytest.mark.parametrize(
    ("valor", "esperado"),
    [
        (Decimal("0.1"), Decimal("0.10")),
        (Decimal("4299.0"), Decimal("4299.00")),
        (Decimal("1.25E7"), Decimal("12500000.00")),
        (7, Decimal("7.00")),
        (Decimal("19.99"), Decimal("19.99")),
        (Decimal("0"), Decimal("0.00")),
    ],
)
def test_parse_preco_accepts_exact_values(valor, esperado):
    resultado = parse_preco(valor)
    assert resultado == esperado
    assert str(resultado) == str(esperado)


@pytest.mark.parametrize(
    "valor",
    [
        0.1,
        True,
        None,
        {"$gt": ""},
        "19.99",
        "abc",
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-0.01"),
        PRECO_MAXIMO + 1,
        Decimal("1.001"),
        Decimal("1E+400"),
    ],
)
def test_parse_preco_refuses_inexact_or_absurd(valor):
    with pytest.raises(DadosInvalidos) as exc:
        parse_preco(valor)
    assert "preco" in exc.value.errors


def test_sum_of_tenths_is_exact():
    assert somar([parse_preco(Decimal("0.1")), parse_preco(Decimal("0.2"))]) == Decimal("0.3")
    assert 0.1 + 0.2 != 0.3  # the float trap Ponte avoids
