"""The product read cache: used, and invalidated by every path that changes a product
(API writes, CRM sync, checkout reservations and releases), racing writers included."""

from __future__ import annotations

import json
import uuid

import redis

from adapters.cache import ProdutoCache
from devstack.procs import free_port
from domain.eventos import Envelope
from services import produtos, sync
from tests.integration.test_pedidos import cliente_logado
from webapp import create_app
from webapp.deps import build_contexto


def criar(client, estoque=5, nome="Cafe"):
    return client.post("/produtos", json={"nome": nome, "preco": 10, "estoque": estoque}).get_json()


def chave(app_config, produto_id):
    return f"{app_config['REDIS_PREFIX']}:cache:produto:{produto_id}"


def test_a_read_fills_the_cache_and_the_next_one_uses_it(client, anon, app_config, db):
    created = client.post("/produtos", json={"nome": "Cafe", "preco": 10, "estoque": 5})
    p = created.get_json()
    r = redis.Redis.from_url(app_config["REDIS_URL"])
    assert not r.exists(chave(app_config, p["id"]))
    assert anon.get(f"/produtos/{p['id']}").get_json()["estoque"] == 5
    assert r.exists(chave(app_config, p["id"]))
    # A change behind the application's back is not seen: the read came from Redis.
    db.produtos.update_one({"nome": "Cafe"}, {"$set": {"estoque": 99}})
    cached = anon.get(f"/produtos/{p['id']}")
    assert cached.get_json()["estoque"] == 5
    assert cached.get_json() == anon.get(f"/produtos/{p['id']}").get_json()
    assert cached.headers["ETag"] == created.headers["ETag"]


def test_api_writes_are_seen_by_the_very_next_read(client, anon):
    p = criar(client)
    anon.get(f"/produtos/{p['id']}")  # warm
    assert client.patch(f"/produtos/{p['id']}", json={"estoque": 7}).status_code == 200
    assert anon.get(f"/produtos/{p['id']}").get_json()["estoque"] == 7
    body = {"nome": "Cafe Novo", "preco": 11, "estoque": 8}
    assert client.put(f"/produtos/{p['id']}", json=body).status_code == 200
    assert anon.get(f"/produtos/{p['id']}").get_json()["nome"] == "Cafe Novo"
    assert client.delete(f"/produtos/{p['id']}").status_code == 204
    assert anon.get(f"/produtos/{p['id']}").status_code == 404


def test_crm_sync_invalidates(app, anon):
    with app.app_context():
        ctx = build_contexto(app, "sistema:java")
        java_id = 70000 + uuid.uuid4().int % 10000

        def evento(estoque, seq):
            payload = json.dumps(
                {"acao": "atualizado", "produto": {"id": java_id, "nome": "CRM", "preco": 5, "estoque": estoque}}
            )
            return Envelope(uuid.uuid4().hex, "produtos", payload, "2026-11-29T00:00:00+00:00", seq)

        sync.aplicar(ctx, evento(3, 10_000_001))
        produto_id = ctx.produtos.por_java_id(java_id).id
        assert anon.get(f"/produtos/{produto_id}").get_json()["estoque"] == 3  # warm
        sync.aplicar(ctx, evento(4, 10_000_002))
        assert anon.get(f"/produtos/{produto_id}").get_json()["estoque"] == 4


def test_checkout_reservations_and_releases_invalidate(app, client, anon):
    p = criar(client, estoque=5)
    cliente = cliente_logado(app, f"cache-{uuid.uuid4().hex[:8]}@example.com")
    assert anon.get(f"/produtos/{p['id']}").get_json()["estoque"] == 5  # warm
    cliente.post("/carrinhos/me/itens", json={"produto_id": p["id"], "quantidade": 2})
    pedido = cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}).get_json()
    assert anon.get(f"/produtos/{p['id']}").get_json()["estoque"] == 3
    assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
    assert anon.get(f"/produtos/{p['id']}").get_json()["estoque"] == 5


def test_a_reader_racing_a_writer_cannot_put_the_old_value_back(app, client, app_config):
    p = criar(client)
    cache = ProdutoCache(redis.Redis.from_url(app_config["REDIS_URL"]), app_config["REDIS_PREFIX"], 60)
    with app.app_context():
        ctx = build_contexto(app, "tests")
        # The reader misses and reads MongoDB (old value)...
        assert cache.ler(p["id"])[0] is None
        _, gen = cache.ler(p["id"])
        antigo = produtos.obter(build_contexto(app, "sem-cache", cache=None), p["id"])
        # ...a writer changes the product and invalidates...
        produtos.alterar(ctx, p["id"], {"estoque": 1})
        # ...and the reader's late store is refused.
        cache.guardar(antigo, gen)
        assert cache.ler(p["id"])[0] is None
        assert produtos.obter(ctx, p["id"]).estoque == 1


def test_reads_work_without_redis(mongo_uri, db_name, app_config, client):
    p = criar(client)
    app = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "RATELIMIT_ENABLED": False})
    try:
        assert app.test_client().get(f"/produtos/{p['id']}").get_json()["estoque"] == 5
    finally:
        app.extensions["ponte"].close()


def lista(anon, categoria):
    return {p["nome"]: p["estoque"] for p in anon.get(f"/produtos?categoria={categoria}&page_size=50").get_json()}


def test_list_pages_are_cached_and_every_write_path_invalidates_them(app, client, anon, db):
    categoria = f"cat{uuid.uuid4().hex[:8]}"
    p = client.post("/produtos", json={"nome": "Lista", "preco": 3, "estoque": 5, "categoria": categoria}).get_json()
    assert lista(anon, categoria) == {"Lista": 5}
    db.produtos.update_one({"nome": "Lista"}, {"$set": {"estoque": 42}})  # behind the app's back
    assert lista(anon, categoria) == {"Lista": 5}  # served from the cache
    # API write
    client.patch(f"/produtos/{p['id']}", json={"estoque": 6})
    assert lista(anon, categoria) == {"Lista": 6}
    # checkout reservation
    cliente = cliente_logado(app, f"lista-{uuid.uuid4().hex[:8]}@example.com")
    cliente.post("/carrinhos/me/itens", json={"produto_id": p["id"], "quantidade": 2})
    assert cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}).status_code == 201
    assert lista(anon, categoria) == {"Lista": 4}
    # a new product appears at once
    client.post("/produtos", json={"nome": "Outro", "preco": 1, "estoque": 1, "categoria": categoria})
    assert lista(anon, categoria) == {"Lista": 4, "Outro": 1}


def test_a_page_read_before_a_write_is_never_served_after_it(app, client, app_config):
    p = criar(client)
    cache = ProdutoCache(redis.Redis.from_url(app_config["REDIS_URL"]), app_config["REDIS_PREFIX"], 60)
    with app.app_context():
        ctx = build_contexto(app, "tests")
        pagina, gen = cache.ler_pagina("chave-teste")
        assert pagina is None
        antiga = produtos.obter(ctx, p["id"])
        produtos.alterar(ctx, p["id"], {"estoque": 1})  # a write between the read and the store
        cache.guardar_pagina("chave-teste", gen, [antiga], 1)
        assert cache.ler_pagina("chave-teste")[0] is None
