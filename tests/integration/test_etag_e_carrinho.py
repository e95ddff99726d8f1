"""If-Match with several tags, ETag/If-Match/304/412 in the OpenAPI document, and the
cart's PATCH of a missing line and GET of an unknown customer's cart."""

from __future__ import annotations

import pytest
from bson import ObjectId

from tests.integration.test_pedidos import cliente_logado


def produto_na_versao_2(client) -> dict:
    p = client.post("/produtos", json={"nome": "Caneca", "preco": 10, "estoque": 1}).get_json()
    assert client.patch(f"/produtos/{p['id']}", json={"estoque": 2}).headers["ETag"] == '"2"'
    return p


# -- 1. If-Match lists several tags: any strong one matching passes (RFC 9110) --------------
@pytest.mark.parametrize("if_match", ['"1", "2"', '"2", "1"', '"2", "7"', '"x", "2"', 'W/"1", "2"', "*"])
def test_if_match_passes_when_any_listed_tag_is_current(client, if_match):
    p = produto_na_versao_2(client)
    resp = client.patch(f"/produtos/{p['id']}", json={"estoque": 5}, headers={"If-Match": if_match})
    assert resp.status_code == 200, resp.get_json()
    assert resp.headers["ETag"] == '"3"'
    assert resp.get_json()["estoque"] == 5


@pytest.mark.parametrize(
    "if_match", ['"1", "3"', 'W/"2"', 'W/"2", "1"', '"²"', '"99999999999999999999999"', '"-2"', '""', '"", "1"']
)
def test_if_match_fails_when_no_strong_tag_is_current(client, if_match):
    p = produto_na_versao_2(client)
    resp = client.patch(f"/produtos/{p['id']}", json={"estoque": 5}, headers={"If-Match": if_match})
    assert resp.status_code == 412, resp.get_json()
    assert client.get(f"/produtos/{p['id']}").get_json()["estoque"] == 2


def test_several_tags_on_put_and_delete(client):
    p = produto_na_versao_2(client)
    novo = {"nome": "Xícara", "preco": 3, "estoque": 1}
    assert client.put(f"/produtos/{p['id']}", json=novo, headers={"If-Match": '"1", "3"'}).status_code == 412
    assert client.put(f"/produtos/{p['id']}", json=novo, headers={"If-Match": '"1", "2"'}).status_code == 200
    assert client.delete(f"/produtos/{p['id']}", headers={"If-Match": '"1", "2"'}).status_code == 412
    assert client.delete(f"/produtos/{p['id']}", headers={"If-Match": '"2", "3"'}).status_code == 204


def test_several_tags_on_a_customer(client):
    c = client.post(
        "/clientes", json={"nome": "Ana", "email": "ana@example.com", "senha": "senha-de-teste-1"}
    ).get_json()
    resp = client.patch(f"/clientes/{c['id']}", json={"nome": "Ana B"}, headers={"If-Match": '"0", "1"'})
    assert resp.status_code == 200 and resp.headers["ETag"] == '"2"'
    assert client.delete(f"/clientes/{c['id']}", headers={"If-Match": '"0", "1"'}).status_code == 412
    assert client.delete(f"/clientes/{c['id']}", headers={"If-Match": '"1", "2"'}).status_code == 204


def test_star_on_an_unknown_product_is_404(client):
    resp = client.patch(f"/produtos/{ObjectId()}", json={"estoque": 1}, headers={"If-Match": "*"})
    assert resp.status_code == 404


# -- 2. The OpenAPI document states the ETag contract -------------------------------------
def test_openapi_documents_etag_if_match_304_and_412(anon):
    spec = anon.get("/openapi.json").get_json()
    ops = spec["paths"]["/produtos/{produto_id}"]

    def parametros(op):
        return {p["name"]: p for p in op.get("parameters", []) if "name" in p}

    get, patch = ops["get"], ops["patch"]
    assert "ETag" in get["responses"]["200"]["headers"]
    assert "304" in get["responses"]
    assert parametros(get)["If-None-Match"]["in"] == "header"
    assert "ETag" in patch["responses"]["200"]["headers"]
    assert "412" in patch["responses"]
    if_match = parametros(patch)["If-Match"]
    assert if_match["in"] == "header" and not if_match.get("required")  # If-Match is optional
    # The path's own parameter is still there.
    assert any(p.get("name") == "produto_id" for p in spec["paths"]["/produtos/{produto_id}"].get("parameters", []))


def test_openapi_documents_the_cart_404s(anon):
    paths = anon.get("/openapi.json").get_json()["paths"]
    assert "404" in paths["/carrinhos/me/itens/{produto_id}"]["patch"]["responses"]
    assert "404" in paths["/carrinhos/{cliente_id}"]["get"]["responses"]


# -- 3. PATCH of a cart line changes a line; it never adds one ----------------------------
def test_patch_of_a_product_not_in_the_cart_is_404(app, client):
    cafe = client.post("/produtos", json={"nome": "Café", "preco": 1, "estoque": 5}).get_json()
    cha = client.post("/produtos", json={"nome": "Chá", "preco": 2, "estoque": 5}).get_json()
    cliente = cliente_logado(app, "linha@example.com")
    cliente.post("/carrinhos/me/itens", json={"produto_id": cafe["id"], "quantidade": 1})

    resp = cliente.patch(f"/carrinhos/me/itens/{cha['id']}", json={"quantidade": 3})
    assert resp.status_code == 404
    assert resp.get_json()["code"] == 404
    assert cliente.patch(f"/carrinhos/me/itens/{ObjectId()}", json={"quantidade": 3}).status_code == 404
    assert [i["produto_id"] for i in cliente.get("/carrinhos/me").get_json()["itens"]] == [cafe["id"]]

    resp = cliente.patch(f"/carrinhos/me/itens/{cafe['id']}", json={"quantidade": 4})
    assert resp.status_code == 200
    assert [(i["produto_id"], i["quantidade"]) for i in resp.get_json()["itens"]] == [(cafe["id"], 4)]


def test_patch_on_an_empty_cart_is_404(app, client):
    cafe = client.post("/produtos", json={"nome": "Café", "preco": 1, "estoque": 5}).get_json()
    cliente = cliente_logado(app, "vazio@example.com")
    assert cliente.patch(f"/carrinhos/me/itens/{cafe['id']}", json={"quantidade": 1}).status_code == 404
    assert cliente.get("/carrinhos/me").get_json()["itens"] == []


# -- 4. Staff reading the cart of an unknown customer -------------------------------------
def test_cart_of_an_unknown_customer_is_404(app, client):
    assert client.get(f"/carrinhos/{ObjectId()}").status_code == 404
    assert client.get("/carrinhos/nao-e-um-id").status_code == 404
    conhecido = cliente_logado(app, "semcarrinho@example.com")
    resp = client.get(f"/carrinhos/{conhecido.id}")
    assert resp.status_code == 200
    assert resp.get_json() == {"cliente_id": conhecido.id, "itens": [], "total": 0, "indisponiveis": []}
    assert conhecido.get(f"/carrinhos/{conhecido.id}").status_code == 200
