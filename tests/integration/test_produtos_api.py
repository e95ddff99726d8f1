"""/produtos through the Flask app against a real MongoDB-wire server."""

import json
from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from bson.objectid import ObjectId

from services import produtos as produtos_service


def body(resp):
    return json.loads(resp.get_data(as_text=True), parse_float=Decimal)


def criar(client, **campos):
    dados = {"nome": "Caneca", "preco": 10, "estoque": 1, **campos}
    resp = client.post("/produtos", json=dados)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return body(resp)


def post_raw(client, raw: str):
    return client.post("/produtos", data=raw, content_type="application/json")


def test_create_get_roundtrip_with_etag(client):
    resp = post_raw(client, '{"nome": "Café", "preco": 19.99, "estoque": 100, "categoria": "Bebidas"}')
    assert resp.status_code == 201
    criado = body(resp)
    assert resp.headers["ETag"] == '"1"'
    assert criado["preco"] == Decimal("19.99")
    for campo in ("id", "criado_em", "atualizado_em"):
        assert criado[campo]
    lido = client.get(f"/produtos/{criado['id']}")
    assert lido.status_code == 200
    assert body(lido) == criado
    assert lido.headers["ETag"] == '"1"'
    assert client.get(f"/produtos/{criado['id']}", headers={"If-None-Match": '"1"'}).status_code == 304


def test_money_is_exact_in_api_and_in_mongo(client, db):
    a = body(post_raw(client, '{"nome": "A", "preco": 0.1, "estoque": 1}'))
    b = body(post_raw(client, '{"nome": "B", "preco": 0.2, "estoque": 1}'))
    assert a["preco"] + b["preco"] == Decimal("0.3")
    raw = client.get("/produtos?sort=preco").get_data(as_text=True)
    assert '"preco":0.10' in raw and '"preco":0.20' in raw
    stored = db.produtos.find_one({"_id": ObjectId(a["id"])})
    assert isinstance(stored["preco"], Decimal128)
    total = next(db.produtos.aggregate([{"$group": {"_id": None, "t": {"$sum": "$preco"}}}]))["t"]
    assert total.to_decimal() == Decimal("0.3")


def test_list_pagination_header_and_cap(client):
    for i in range(5):
        criar(client, nome=f"Produto {i}")
    resp = client.get("/produtos?page=2&page_size=2")
    assert resp.status_code == 200
    assert [p["nome"] for p in body(resp)] == ["Produto 2", "Produto 3"]
    assert json.loads(resp.headers["X-Pagination"])["total"] == 5
    assert client.get("/produtos?page_size=101").status_code == 422


def test_absurd_page_number_is_an_empty_page_not_an_error(client):
    criar(client)
    resp = client.get("/produtos?page=1000000000000000000000000000000&page_size=100")
    assert resp.status_code == 200
    assert body(resp) == []


def test_filters_and_sort(client):
    criar(client, nome="Café Moído", preco=20, categoria="Bebidas", estoque=0)
    criar(client, nome="Chá Mate", preco=8, categoria="bebidas")
    criar(client, nome="Caneca", preco=35, categoria="Casa")

    def nomes(qs):
        resp = client.get(f"/produtos?{qs}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [p["nome"] for p in body(resp)]

    assert nomes("q=cafe") == ["Café Moído"]
    assert nomes("q=MOIDO") == ["Café Moído"]
    assert nomes("categoria=Bebidas&sort=preco") == ["Chá Mate", "Café Moído"]
    assert nomes("preco_min=8&preco_max=20&sort=-preco") == ["Café Moído", "Chá Mate"]
    assert nomes("em_estoque=true") == ["Caneca", "Chá Mate"]
    assert nomes("em_estoque=false") == ["Café Moído"]
    assert nomes("sort=-nome") == ["Chá Mate", "Caneca", "Café Moído"]
    assert client.get("/produtos?sort=senha").status_code == 422
    assert client.get("/produtos?preco_min=10&preco_max=5").status_code == 422


def test_regex_metacharacters_are_literal(client):
    criar(client, nome="Caneca (azul)")
    criar(client, nome="Caneca azul")
    assert [p["nome"] for p in body(client.get("/produtos?q=(azul)"))] == ["Caneca (azul)"]
    assert body(client.get("/produtos?q=.*")) == []


def test_find_by_crm_id(app, client):
    from webapp.deps import build_contexto

    with app.app_context():
        ctx = build_contexto(app, ator="sistema:java")
        produtos_service.criar(ctx, {"nome": "Notebook", "preco": 4299, "estoque": 10}, java_id=7)
    criar(client, nome="Outro")
    resp = client.get("/produtos?java_id=7")
    assert [(p["nome"], p["java_id"]) for p in body(resp)] == [("Notebook", 7)]


def test_put_replaces_patch_merges(client):
    p = criar(client, descricao="azul", categoria="Casa")
    resp = client.put(f"/produtos/{p['id']}", json={"nome": "Caneca G", "preco": 12, "estoque": 2})
    assert resp.status_code == 200
    novo = body(resp)
    assert (novo["nome"], novo["descricao"], novo["categoria"]) == ("Caneca G", None, None)
    assert resp.headers["ETag"] == '"2"'
    resp = client.patch(f"/produtos/{p['id']}", json={"estoque": 9})
    assert (body(resp)["estoque"], body(resp)["nome"]) == (9, "Caneca G")
    assert client.put(f"/produtos/{p['id']}", json={"nome": "só nome"}).status_code == 422


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_stale_if_match_is_412(client, method):
    p = criar(client)
    client.patch(f"/produtos/{p['id']}", json={"estoque": 2})  # version 2 now
    payload = {"nome": "X", "preco": 1, "estoque": 1} if method != "delete" else None
    resp = getattr(client, method)(f"/produtos/{p['id']}", json=payload, headers={"If-Match": '"1"'})
    assert resp.status_code == 412
    assert body(resp)["code"] == 412
    ok = getattr(client, method)(f"/produtos/{p['id']}", json=payload, headers={"If-Match": '"2"'})
    assert ok.status_code in (200, 204)


def test_if_match_garbage_never_matches(client):
    p = criar(client)
    assert client.patch(f"/produtos/{p['id']}", json={"estoque": 2}, headers={"If-Match": '"abc"'}).status_code == 412
    assert client.patch(f"/produtos/{p['id']}", json={"estoque": 2}, headers={"If-Match": "*"}).status_code == 200


def test_delete_hides_but_keeps_history(client, db):
    p = criar(client)
    assert client.delete(f"/produtos/{p['id']}").status_code == 204
    assert client.get(f"/produtos/{p['id']}").status_code == 404
    assert client.patch(f"/produtos/{p['id']}", json={"estoque": 1}).status_code == 404
    assert client.delete(f"/produtos/{p['id']}").status_code == 404
    assert body(client.get("/produtos")) == []
    stored = db.produtos.find_one({"_id": ObjectId(p["id"])})
    assert stored["nome"] == "Caneca" and stored["excluido_em"] is not None


@pytest.mark.parametrize("if_match", ['"1"', '"9", "1"'])
def test_concurrent_patches_with_same_version_only_one_wins(app, client, staff_key, if_match):
    """If-Match is an atomic compare-and-set, not a read-then-write race (with several tags
    too: all eight writers are allowed at version 1 or 9, exactly one finds version 1)."""
    import threading

    p = criar(client)
    results = []
    barrier = threading.Barrier(8)

    def worker(n):
        c = app.test_client()
        barrier.wait()
        headers = {"If-Match": if_match, "Authorization": f"Bearer {staff_key}"}
        results.append(c.patch(f"/produtos/{p['id']}", json={"estoque": n}, headers=headers).status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [412] * 7
