"""The OpenAPI document states the rules the server enforces: what it admits is accepted,
what it refuses is a 4xx (each rule here was once enforced by the server alone)."""

from __future__ import annotations

import re

import pytest

from domain.money import CENTAVO
from tests.integration.test_errors import check_shape


@pytest.fixture
def spec(anon):
    return anon.get("/openapi.json").get_json()


def _parametro(spec, path, nome):
    return next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == nome)["schema"]


def test_prices_are_documented_in_centavos(spec, client):
    schemas = spec["components"]["schemas"]
    assert schemas["Produto"]["properties"]["preco"]["multipleOf"] == CENTAVO
    assert schemas["ProdutoPatch"]["properties"]["preco"]["multipleOf"] == CENTAVO
    for nome in ("preco_min", "preco_max"):
        assert _parametro(spec, "/produtos", nome)["multipleOf"] == CENTAVO
    check_shape(client.post("/produtos", json={"nome": "x", "preco": 1.001, "estoque": 1}), 422)
    assert client.post("/produtos", json={"nome": "x", "preco": 19.99, "estoque": 1}).status_code == 201
    check_shape(client.get("/produtos?preco_max=0.001"), 422)
    assert client.get("/produtos?preco_max=19.99").status_code == 200


@pytest.mark.parametrize("path", ["/produtos", "/clientes"])
def test_sort_pattern_is_the_one_the_server_applies(spec, client, path):
    pattern = _parametro(spec, path, "sort")["pattern"]
    for bom in ("nome", "-nome,+criado_em"):
        assert re.search(pattern, bom)
        assert client.get(f"{path}?sort={bom.replace('+', '%2B')}").status_code == 200
    for ruim in ("nome,nome", "--nome", "nome,", "senha"):
        assert not re.search(pattern, ruim)
        check_shape(client.get(f"{path}?sort={ruim}"), 422)
