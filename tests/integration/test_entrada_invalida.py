"""Client input that used to reach MongoDB, the clock or the cache unchecked: out-of-range
decimals and dates, lone surrogates, empty credential headers and ids spelled in upper
case. Each one is refused (or normalised) at the boundary, never a 500 or a stale read."""

from __future__ import annotations

import pytest

from tests.integration.test_errors import check_shape
from tests.integration.test_pedidos import cliente_logado


def criar_produto(client, estoque=5) -> dict:
    resp = client.post("/produtos", json={"nome": "Café", "preco": 10, "estoque": estoque})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


# -- 1. price filters outside what a price can be ------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "preco_min=1E-9999",
        "preco_min=1e-6177",
        "preco_max=0.1234567890123456789012345678901234567",
        "preco_max=0.001",
        "preco_min=1e30",
        "preco_max=-0.01",
    ],
)
def test_price_filters_beyond_centavos_or_range_are_422(client, anon, query):
    for c in (client, anon):
        payload = check_shape(c.get(f"/produtos?{query}"), 422)
        assert set(payload["errors"]["query"]) == {query.split("=")[0]}


def test_filters_refuse_what_a_stored_price_refuses(client):
    for preco in ("1E-9999", "0.001", "1e30"):
        corpo = f'{{"nome":"x","preco":{preco},"estoque":1}}'
        payload = check_shape(client.post("/produtos", data=corpo, content_type="application/json"), 422)
        assert set(payload["errors"]["json"]) == {"preco"}
        check_shape(client.get(f"/produtos?preco_min={preco}"), 422)


def test_price_filters_with_centavos_still_filter(client):
    criar_produto(client)
    assert len(client.get("/produtos?preco_min=9.99&preco_max=10.00").get_json()) == 1
    assert len(client.get("/produtos?preco_min=1e1&preco_max=1E%2B1").get_json()) == 1
    assert client.get("/produtos?preco_min=10.01").get_json() == []


# -- 2. dates that exist but not in UTC ---------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/pedidos?ate=0001-01-01T00:00:00%2B05:00",
        "/pedidos?desde=9999-12-31T23:00:00-05:00",
        "/auditoria?desde=9999-12-31T23:00:00-05:00",
        "/auditoria?ate=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_dates_that_overflow_utc_are_422(client, url):
    payload = check_shape(client.get(url), 422)
    assert set(payload["errors"]["query"]) == {url.split("?")[1].split("=")[0]}


def test_dates_near_the_limits_still_filter(client):
    assert client.get("/pedidos?desde=0001-01-01T05:00:00%2B05:00&ate=9999-12-31T23:00:00Z").status_code == 200
    assert client.get("/auditoria?desde=0001-01-01T00:00:00&ate=9999-12-31T18:59:59-05:00").status_code == 200


# -- 3. lone surrogates -------------------------------------------------------------------
ENDERECO = '{"rua":"R","numero":"1","bairro":"B","cidade":"C","estado":"GO","cep":"74000-000"}'


@pytest.mark.parametrize("nome", [r"\ud800", r"x\udfff", r"\udc00\ud800"])
def test_lone_surrogates_are_malformed_json(anon, client, db, nome):
    corpo = f'{{"nome":"{nome}","email":"a@example.com","senha":"senha-longa-1","endereco":{ENDERECO}}}'
    payload = check_shape(anon.post("/clientes", data=corpo, content_type="application/json"), 400)
    assert payload["errors"] == {"json": ["Invalid JSON body."]}
    corpo = f'{{"nome":"{nome}","preco":1,"estoque":1}}'
    check_shape(client.post("/produtos", data=corpo, content_type="application/json"), 400)
    # In a key too, and as raw (invalid UTF-8) bytes, which the decoder lets through.
    check_shape(client.post("/produtos", data=f'{{"{nome}":1}}', content_type="application/json"), 400)
    check_shape(client.post("/produtos", data=b'{"nome":"\xed\xa0\x80"}', content_type="application/json"), 400)
    assert db.clientes.count_documents({}) == 0 and db.produtos.count_documents({}) == 0


@pytest.mark.parametrize("texto", [r"a\u0000b", r"\u0000", r"fim\u0000"])
def test_a_nul_character_in_any_text_is_malformed_json(anon, client, db, texto):
    # {"nome": "a\u0000b"} used to answer 201 and be stored.
    corpo = f'{{"nome":"{texto}","email":"a@example.com","senha":"senha-longa-1","endereco":{ENDERECO}}}'
    assert check_shape(anon.post("/clientes", data=corpo, content_type="application/json"), 400)
    check_shape(client.post("/produtos", data=f'{{"nome":"{texto}","preco":1,"estoque":1}}',
                            content_type="application/json"), 400)  # fmt: skip
    check_shape(client.post("/produtos", data=f'{{"{texto}":1}}', content_type="application/json"), 400)
    assert db.clientes.count_documents({}) == 0 and db.produtos.count_documents({}) == 0


def test_surrogate_pairs_are_text(client):
    resp = client.post("/produtos", data=r'{"nome":"caf\u00e9 \ud83d\ude00","preco":1,"estoque":1}',
                       content_type="application/json")  # fmt: skip
    assert resp.status_code == 201 and resp.get_json()["nome"] == "café \U0001f600"


# -- 4. an empty credential header --------------------------------------------------------
@pytest.mark.parametrize("cabecalho", ["X-API-Key", "Authorization"])
def test_empty_credential_header_gets_flasks_answer(par, client, cabecalho):
    rapido, lento = par
    url = f"/produtos/{criar_produto(client)['id']}"
    assert rapido.test_client().get(url).status_code == 200  # now cached: the fast path could answer
    rapida = rapido.test_client().get(url, headers={cabecalho: ""})
    de_flask = lento.test_client().get(url, headers={cabecalho: ""})
    assert rapida.status_code == de_flask.status_code
    assert rapida.get_data() == de_flask.get_data()
    if cabecalho == "X-API-Key":
        assert de_flask.status_code == 401


# -- 5. ids in upper case -----------------------------------------------------------------
def test_upper_case_id_is_the_same_cart_line(app, client):
    p = criar_produto(client)
    cliente = cliente_logado(app, "maiusculas@example.com")
    cliente.post("/carrinhos/me/itens", json={"produto_id": p["id"], "quantidade": 1})
    resp = cliente.post("/carrinhos/me/itens", json={"produto_id": p["id"].upper(), "quantidade": 100})
    assert resp.status_code == 200
    assert [(i["produto_id"], i["quantidade"]) for i in resp.get_json()["itens"]] == [(p["id"], 100)]
    resp = cliente.patch(f"/carrinhos/me/itens/{p['id'].upper()}", json={"quantidade": 2})
    assert [(i["produto_id"], i["quantidade"]) for i in resp.get_json()["itens"]] == [(p["id"], 2)]
    assert cliente.delete(f"/carrinhos/me/itens/{p['id'].upper()}").get_json()["itens"] == []
    assert client.get(f"/produtos/{p['id'].upper()}").get_json()["id"] == p["id"]
    assert client.get(f"/carrinhos/{cliente.id.upper()}").get_json()["cliente_id"] == cliente.id


def test_checkout_with_upper_case_id_invalidates_the_cached_product(app, client, anon):
    p = criar_produto(client, estoque=5)
    url = f"/produtos/{p['id']}"
    assert anon.get(url).get_json()["estoque"] == 5  # cached under the canonical id
    cliente = cliente_logado(app, "checkout@example.com")
    assert cliente.post("/carrinhos/me/itens", json={"produto_id": p["id"].upper(), "quantidade": 2}).status_code == 200
    assert cliente.post("/pedidos", json={"pagamento_metodo": "pix"}).status_code == 201
    assert anon.get(url).get_json()["estoque"] == 3
    assert client.get(url).get_json()["estoque"] == 3


def test_write_through_upper_case_path_invalidates_the_cached_product(client, anon):
    p = criar_produto(client)
    url = f"/produtos/{p['id']}"
    assert anon.get(url).get_json()["estoque"] == 5
    assert client.patch(f"/produtos/{p['id'].upper()}", json={"estoque": 7}).status_code == 200
    assert anon.get(url).get_json()["estoque"] == 7
    assert anon.get(url.upper().replace("/PRODUTOS/", "/produtos/")).get_json()["estoque"] == 7
