"""A customer's own reads from ``adapters.read_cache``: the fast path stores them, and
every writer (the API, the CRM's events, the workers' order moves) makes the next read
see its write. Each test reads once (stored), writes, then reads again through the fast
path and compares with Flask, which always reads MongoDB."""

from __future__ import annotations

import json
import uuid

import pytest
import redis

from adapters.read_cache import CLIENTE, ReadCache
from domain.eventos import CANAL_CLIENTES
from services import status_pedido, sync
from tests.integration.test_leitura_autenticada import _iguais, compra, novo_cliente
from tests.integration.test_leitura_rapida import _flask_visitas, criar
from tests.integration.test_sync import env, java

assert compra  # a fixture


def _guardada(app, kind: str, entity_id: str) -> bool:
    res = app.extensions["ponte"]
    return res.redis.client.exists(res.read_cache.keys(kind, entity_id)[0]) == 1


def test_a_profile_change_through_the_api_is_seen_at_once(par, compra):
    rapido, lento = par
    auth = compra["auth"]
    _iguais(rapido, lento, "/clientes/me", auth)
    assert _guardada(rapido, CLIENTE, compra["cliente"]["id"])
    assert rapido.test_client().patch("/clientes/me", json={"nome": "Maria Nova"}, headers=auth).status_code == 200
    _iguais(rapido, lento, "/clientes/me", auth)
    assert rapido.test_client().get("/clientes/me", headers=auth).get_json()["nome"] == "Maria Nova"


def test_a_crm_event_for_the_customer_is_seen_at_once(par, compra):
    rapido, lento = par
    auth, email = compra["auth"], compra["cliente"]["email"]
    _iguais(rapido, lento, "/clientes/me", auth)
    java_id = uuid.uuid4().int % 1_000_000 + 5_000_000
    dados = {**json.loads(java("canal-clientes.json")), "id": java_id, "email": email, "nome": "Vinda do CRM"}
    dados.pop("senha")  # the API's account keeps its own password either way
    res = rapido.extensions["ponte"]
    seq = res.sequencia()()  # after the API's own writes, as the bridge numbers it
    with rapido.app_context():
        ctx = res.contexto("sistema:java")
        assert sync.aplicar(ctx, env(dados, seq, canal=CANAL_CLIENTES))["resultado"] == "aplicado"  # linked
        dados["nome"] = "Mudada no CRM"
        assert sync.aplicar(ctx, env(dados, seq + 1, canal=CANAL_CLIENTES))["resultado"] == "aplicado"
    _iguais(rapido, lento, "/clientes/me", auth)
    corpo = rapido.test_client().get("/clientes/me", headers=auth).get_json()
    assert (corpo["nome"], corpo["java_id"]) == ("Mudada no CRM", java_id)


def test_every_cart_change_is_seen_at_once(par, compra, client):
    rapido, lento = par
    c, auth = rapido.test_client(), compra["auth"]
    outro = criar(client, estoque=9)
    passos = [
        lambda: c.post("/carrinhos/me/itens", json={"produto_id": outro["id"], "quantidade": 3}, headers=auth),
        lambda: c.patch(f"/carrinhos/me/itens/{outro['id']}", json={"quantidade": 1}, headers=auth),
        lambda: c.delete(f"/carrinhos/me/itens/{outro['id']}", headers=auth),
        lambda: c.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=auth),  # empties it
        lambda: c.post("/carrinhos/me/itens", json={"produto_id": outro["id"], "quantidade": 2}, headers=auth),
        lambda: c.delete("/carrinhos/me", headers=auth),
    ]
    vistos = []
    for passo in passos:
        _iguais(rapido, lento, "/carrinhos/me", auth)
        assert passo().status_code < 300
        _iguais(rapido, lento, "/carrinhos/me", auth)
        vistos.append(
            [(i["produto_id"], i["quantidade"]) for i in c.get("/carrinhos/me", headers=auth).get_json()["itens"]]
        )
    original = (compra["produto"]["id"], 1)
    assert vistos == [[original, (outro["id"], 3)], [original, (outro["id"], 1)], [original], [],
                      [(outro["id"], 2)], []]  # fmt: skip


def test_a_cached_cart_is_priced_at_each_read(par, compra, client):
    """Its lines are cached, never its prices."""
    rapido, lento = par
    auth, produto = compra["auth"], compra["produto"]
    _iguais(rapido, lento, "/carrinhos/me", auth)
    assert client.patch(f"/produtos/{produto['id']}", json={"preco": 77}).status_code == 200
    _iguais(rapido, lento, "/carrinhos/me", auth)
    assert rapido.test_client().get("/carrinhos/me", headers=auth).get_json()["total"] == 77


def test_a_cached_cart_shows_a_product_hidden_since_as_unavailable(par, compra, client):
    rapido, lento = par
    auth, produto = compra["auth"], compra["produto"]
    _iguais(rapido, lento, "/carrinhos/me", auth)
    _iguais(rapido, lento, "/carrinhos/me", auth)  # its lines and its product both cached now
    assert client.delete(f"/produtos/{produto['id']}").status_code == 204
    _iguais(rapido, lento, "/carrinhos/me", auth)
    corpo = rapido.test_client().get("/carrinhos/me", headers=auth).get_json()
    assert (corpo["itens"], corpo["indisponiveis"]) == ([], [produto["id"]])


def test_an_order_moved_by_staff_or_a_worker_is_seen_at_once(par, compra, client):
    rapido, lento = par
    auth, pedido = compra["auth"], compra["pedido"]
    url = f"/pedidos/{pedido['id']}"
    _iguais(rapido, lento, url, auth)
    assert client.patch(url, json={"status": "cancelado"}).status_code == 200  # staff
    _iguais(rapido, lento, url, auth)
    assert rapido.test_client().get(url, headers=auth).get_json()["status"] == "cancelado"

    segundo = rapido.test_client().post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=auth)
    url = f"/pedidos/{segundo.get_json()['id']}"
    _iguais(rapido, lento, url, auth)
    with rapido.app_context():  # what the payment worker does when a boleto is paid
        status_pedido.mudar(rapido.extensions["ponte"].contexto("sistema:pagamentos"), segundo.get_json()["id"],
                            "confirmado")  # fmt: skip
    _iguais(rapido, lento, url, auth)
    assert rapido.test_client().get(url, headers=auth).get_json()["status"] == "confirmado"


def test_a_cached_order_is_still_only_its_owners(par, compra, anon):
    rapido, _ = par
    url = f"/pedidos/{compra['pedido']['id']}"
    assert rapido.test_client().get(url, headers=compra["auth"]).status_code == 200  # stored
    _, outro_auth = novo_cliente(anon)
    visitas = _flask_visitas(rapido)
    assert rapido.test_client().get(url, headers=outro_auth).status_code == 404
    assert len(visitas) == 1  # Flask's to refuse


def test_a_reader_never_stores_what_it_read_before_a_write(redis_url):
    """The race the generation closes: read the generation, read MongoDB, a writer writes
    and invalidates, then store: refused."""
    redis_client = redis.Redis.from_url(redis_url)
    cache = ReadCache(redis_client, f"t-{uuid.uuid4().hex[:8]}", 60)
    entrada, geracao = cache.keys(CLIENTE, "abc")
    lida = redis_client.get(geracao)  # the pipeline's read, before MongoDB's
    cache.invalidate(CLIENTE, "abc")  # the writer's, after its write
    cache.store(CLIENTE, "abc", lida, b"velho")
    assert redis_client.get(entrada) is None
    cache.store(CLIENTE, "abc", redis_client.get(geracao), b"novo")
    assert redis_client.get(entrada) == b"novo"
    assert 0 < redis_client.ttl(geracao) <= 86_400


@pytest.mark.parametrize("ttl", ["0"])
def test_with_the_cache_off_nothing_is_stored(app_config, compra, ttl):
    from webapp import create_app

    app = create_app({**app_config, "LEITURA_CACHE_TTL_S": ttl})
    try:
        assert app.test_client().get("/clientes/me", headers=compra["auth"]).status_code == 200
        assert not _guardada(app, CLIENTE, compra["cliente"]["id"])
    finally:
        app.extensions["ponte"].close()


def test_a_redis_that_lost_the_carts_script_costs_one_read_through_flask(app_config, redis_proprio, anon):
    """A Redis restart or ``SCRIPT FLUSH`` forgets the cart's script: that read is Flask's,
    counted once, and the script is loaded again for the next."""
    from webapp import create_app

    porta = redis_proprio.connection_pool.connection_kwargs["port"]
    app = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{porta}/0", "RATELIMIT_DEFAULT": "5 per minute"})
    try:
        c = app.test_client()
        _, auth = novo_cliente(c)
        assert c.get("/carrinhos/me", headers=auth).status_code == 200  # stored
        redis_proprio.script_flush()
        visitas = _flask_visitas(app)
        assert [c.get("/carrinhos/me", headers=auth).status_code for _ in range(3)] == [200] * 3
        assert visitas == ["/carrinhos/me"]
        assert c.get("/carrinhos/me", headers=auth).status_code == 200  # the 5th of 5
        assert c.get("/carrinhos/me", headers=auth).status_code == 429
    finally:
        app.extensions["ponte"].close()
