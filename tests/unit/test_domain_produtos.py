"""Product invariants, independent of any framework."""

from decimal import Decimal

import pytest

from domain.errors import DadosInvalidos
from domain.produtos import montar_filtro, normalizar_campos


def test_complete_product_normalized():
    campos = normalizar_campos(
        {"nome": " Caneca ", "preco": Decimal("0.1"), "estoque": 3, "descricao": "  "}, completo=True
    )
    assert campos == {"nome": "Caneca", "preco": Decimal("0.10"), "estoque": 3, "descricao": None}


def test_missing_and_invalid_fields_reported_together():
    with pytest.raises(DadosInvalidos) as exc:
        normalizar_campos({"preco": Decimal("-1"), "estoque": -2, "cor": "azul"}, completo=True)
    assert set(exc.value.errors) == {"nome", "preco", "estoque", "cor"}


def test_partial_checks_only_given_fields_and_null_clears_optionals():
    assert normalizar_campos({"categoria": None}, completo=False) == {"categoria": None}
    with pytest.raises(DadosInvalidos) as exc:
        normalizar_campos({"nome": None}, completo=False)
    assert "nome" in exc.value.errors


@pytest.mark.parametrize("estoque", [True, 1.5, "3", 10**10])
def test_stock_must_be_a_sane_integer(estoque):
    with pytest.raises(DadosInvalidos):
        normalizar_campos({"estoque": estoque}, completo=False)


def test_filter_refuses_inverted_price_range():
    with pytest.raises(DadosInvalidos):
        montar_filtro(preco_min=Decimal(10), preco_max=Decimal(5))
    filtro = montar_filtro(texto="  ", sort="-preco")
    assert filtro.texto is None
    assert filtro.ordem == [("preco", -1)]
