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


def _corpo(spec, path, metodo):
    ref = spec["paths"][path][metodo]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


NOVO = {"nome": "Ana", "email": "ana@example.com", "senha": "senha-da-ana"}
ENDERECO = {"rua": "Rua 1", "numero": "10", "bairro": "Centro", "cidade": "Goiânia", "estado": "GO", "cep": "74000-000"}


def test_registration_requires_senha_as_documented(spec, anon, client):
    assert "senha" in _corpo(spec, "/clientes", "post")["required"]
    assert "senha" not in _corpo(spec, "/clientes/{cliente_id}", "put").get("required", [])
    check_shape(anon.post("/clientes", json={k: v for k, v in NOVO.items() if k != "senha"}), 422)
    assert anon.post("/clientes", json=NOVO).status_code == 201


def test_endereco_is_null_or_a_whole_address(spec, anon):
    for schema in ("Cliente", "ClientePatch"):
        ramos = spec["components"]["schemas"][schema]["properties"]["endereco"]["anyOf"]
        assert {"$ref": "#/components/schemas/Endereco"} in ramos
        # The other branch admits null and nothing else (apispec's admitted any object).
        assert [r for r in ramos if "$ref" not in r] == [{"type": "object", "nullable": True, "enum": [None]}]
    check_shape(anon.post("/clientes", json={**NOVO, "endereco": {}}), 422)
    check_shape(anon.post("/clientes", json={**NOVO, "endereco": {**ENDERECO, "pais": "BR"}}), 422)
    assert anon.post("/clientes", json={**NOVO, "endereco": None}).status_code == 201


@pytest.mark.parametrize(
    ("campo", "bons", "ruins"),
    [
        ("estado", ["GO", "sp"], ["ıa", "G0", "ſp", "GOI"]),
        ("cep", ["74000-000", "74000000", "74000000 "], ["7400-0000", "٧٤٠٠٠-٠٠٠", "74000-00"]),
        ("rua", ["Rua 1", " Rua 1 "], ["   ", "\u3000", "\x1c"]),
    ],
)
def test_address_fields_are_documented_as_enforced(spec, anon, campo, bons, ruins):
    propriedade = spec["components"]["schemas"]["Endereco"]["properties"][campo]
    for n, valor in enumerate(bons + ruins):
        documentado = bool(re.search(propriedade["pattern"], valor)) and len(valor) <= propriedade["maxLength"]
        assert documentado == (valor in bons), valor
        corpo = {**NOVO, "email": f"c{n}@example.com", "endereco": {**ENDERECO, campo: valor}}
        resp = anon.post("/clientes", json=corpo)
        assert resp.status_code == (201 if valor in bons else 422), (valor, resp.get_json())


def test_blank_required_text_is_documented_as_refused(spec, client):
    nome = spec["components"]["schemas"]["Produto"]["properties"]["nome"]
    for valor, aceito in ((" Café ", True), (" \t", False), ("\u2028", False)):
        assert bool(re.search(nome["pattern"], valor)) == aceito
        resp = client.post("/produtos", json={"nome": valor, "preco": 1, "estoque": 1})
        assert resp.status_code == (201 if aceito else 422), resp.get_json()


def test_internationalized_emails_are_accepted_and_documented(spec, anon):
    """Brazilian domains may carry accents (registro.br), so an IDN address is a real customer's."""
    assert spec["components"]["schemas"]["Cliente"]["properties"]["email"]["format"] == "idn-email"
    resp = anon.post("/clientes", json={**NOVO, "email": "álice@exámple.com.br"})
    assert resp.status_code == 201 and resp.get_json()["email"] == "álice@exámple.com.br"


def test_a_documented_body_is_required(spec, client):
    """Every documented request body is ``required``: a write without one is refused, not a no-op."""
    produto = client.post("/produtos", json={"nome": "Café", "preco": 1, "estoque": 1}).get_json()
    url = f"/produtos/{produto['id']}"
    assert spec["paths"]["/produtos/{produto_id}"]["patch"]["requestBody"]["required"] is True
    check_shape(client.patch(url), 422)
    check_shape(client.patch(url, data=b"", content_type="application/json"), 422)
    check_shape(client.put(url), 422)
    assert client.patch(url, json={}).status_code == 200
