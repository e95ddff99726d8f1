"""Store work per unit of work (issue 19): how many MongoDB commands a one-item checkout
issues, counted with pymongo's command monitoring, and that each touches only the
documents it returns or changes (every filter names one document by its key)."""

from __future__ import annotations

import uuid

import pytest

from tests import contagem as contagem_lib
from tests.contagem import contar
from tests.integration.test_pedidos import cliente_logado

assert contagem_lib  # imported first: the listener must exist before the app's client


@pytest.fixture
def compra(app, client):
    produto = client.post("/produtos", json={"nome": f"P {uuid.uuid4().hex[:6]}", "preco": 10, "estoque": 5})
    produto = produto.get_json()
    cliente = cliente_logado(app, f"c-{uuid.uuid4().hex[:10]}@example.com")
    r = cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": 1})
    assert r.status_code in (200, 201)
    return produto, cliente


@pytest.mark.parametrize("chave", [False, True])
def test_checkout_de_um_item(compra, db_name, chave):
    _, cliente = compra
    headers = {"Idempotency-Key": uuid.uuid4().hex} if chave else {}
    with contar(db_name) as c:
        r = cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=headers)
    assert r.status_code == 201
    # The claim (with a key), the cart with the address, the stock, the order, its audit
    # entry, the emptied cart, the payment, the key concluded.
    assert len(c.mongo) <= 8, c.resumo()
    assert c.sem_chave() == [], c.resumo()


def test_leituras_autenticadas(app, client, compra, db_name):
    """Per read: the rate limit and the credential (a token's revocation in Redis, a
    staff key in MongoDB), then the data itself."""
    produto, cliente = compra
    pedido = cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}).get_json()
    cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": 1})
    # (who, what, round trips): a cart also reads its products, all in one cache read.
    leituras = [(cliente, "/carrinhos/me", 4), (cliente, f"/pedidos/{pedido['id']}", 3),
                (cliente, "/clientes/me", 3), (client, f"/produtos/{produto['id']}", 3)]  # fmt: skip
    for quem, url, teto in leituras:
        quem.get(url)  # warm: per-process handles are made on first use
        with contar(db_name) as c:
            assert quem.get(url).status_code == 200
        assert len(c.mongo) + len(c.redis) <= teto, f"{url}\n{c.resumo()}"
        assert c.sem_chave() == [] or c.mongo[0][1] == "api_keys", c.resumo()  # a key by its unique prefix
        if quem is cliente:  # read again: from adapters.read_cache, in the pipeline of the limit count
            assert c.mongo == [], f"{url}\n{c.resumo()}"
            assert c.redis == [c.redis[0]] and c.redis[0].startswith("pipeline("), c.resumo()  # a cart's products too


def test_uma_tarefa_de_pagamento(app, client, compra, db_name):
    """An approved card: the payment and its order read, the attempt counted, the
    (simulated) gateway's two writes, the payment and the order moved, the customer read
    for the CRM's message, the audit entry."""
    from services import pagamentos
    from webapp.deps import build_contexto

    _, cliente = compra
    pedido = cliente.post("/pedidos", json={"pagamento_metodo": "cartao", "cartao_token": "tok_aprova"}).get_json()
    pagamento = client.get(f"/pedidos/{pedido['id']}/pagamento").get_json()
    with app.app_context():
        ctx = build_contexto(app, "sistema:pagamentos")
        with contar(db_name) as c:
            assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    assert len(c.mongo) <= 9, c.resumo()
    assert c.sem_chave() == [], c.resumo()


def test_eventos_de_sync(app, db_name):
    """One product event: its conditional write (by the CRM id's unique index) and its
    audit entry. A burst of 200: one bulk write and one audit group."""
    import json

    from domain.eventos import Envelope
    from services import sync
    from webapp.deps import build_contexto

    def env(java_id, seq, estoque=1):
        payload = {
            "acao": "atualizado",
            "produto": {"id": java_id, "nome": f"P{java_id}", "preco": 1, "estoque": estoque},
        }
        return Envelope(uuid.uuid4().hex, "produtos", json.dumps(payload), "2026-11-29T00:00:00+00:00", seq)

    with app.app_context():
        ctx = build_contexto(app, "sistema:java")
        sync.aplicar_lote(ctx, [env(j, j) for j in range(1, 201)])
        with contar(db_name) as um:
            sync.aplicar(ctx, env(5, 1000, 3))
        with contar(db_name) as lote:
            sync.aplicar_lote(ctx, [env(j, 2000 + j, 2) for j in range(1, 201)])
    assert len(um.mongo) <= 2, um.resumo()
    assert len(lote.mongo) / 200 <= 0.02, lote.resumo()


def test_carrinho_e_checkout_de_tres_itens(app, client, compra, db_name):
    """Products are read together: a cart of three is read in as many round trips as a
    cart of one, and a checkout of three adds only the two other reservations."""
    produto, cliente = compra
    for n in range(2):
        outro = client.post("/produtos", json={"nome": f"Q{n} {uuid.uuid4().hex[:6]}", "preco": 5, "estoque": 5})
        cliente.post("/carrinhos/me/itens", json={"produto_id": outro.get_json()["id"], "quantidade": 1})
    client.patch(f"/produtos/{produto['id']}", json={"preco": 11})  # one of them not in the cache
    cliente.get("/clientes/me")  # warm: the fast path loads its scripts once per process
    with contar(db_name) as c:
        carrinho = cliente.get("/carrinhos/me").get_json()
    assert len(carrinho["itens"]) == 3 and carrinho["total"] == 21
    assert len(c.mongo) + len(c.redis) <= 4 + 2, c.resumo()  # + the miss: its read and its cache fill
    with contar(db_name) as c:
        r = cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers={"Idempotency-Key": "k3"})
    assert r.status_code == 201 and r.get_json()["total"] == 21
    assert len(c.mongo) <= 8 + 2, c.resumo()


def test_um_produto_fora_do_cache_e_lido_por_igualdade(app, client, compra, db_name):
    """A checkout's products missed by the cache (each reservation invalidates its own):
    one is read by ``_id`` equality, several by one ``$in``. mongoeco serves only the
    equality from an index; an ``$in`` of one id read all 10,000 products of the bench."""
    from bson import ObjectId

    from webapp.deps import build_contexto

    produto, _ = compra
    outro = client.post("/produtos", json={"nome": "Outro", "preco": 1, "estoque": 1}).get_json()
    with app.app_context():
        ctx = build_contexto(app, "sistema:teste")
        for ids in ([produto["id"]], [produto["id"], outro["id"]]):
            ctx.produtos.cache.invalidar(*ids)
            with contar(db_name) as c:
                assert all(ctx.produtos.varios(ids).values())
            [(nome, colecao, filtro)] = c.mongo
            assert (nome, colecao) == ("find", "produtos"), c.resumo()
            esperado = ObjectId(ids[0]) if len(ids) == 1 else {"$in": [ObjectId(i) for i in ids]}
            assert filtro["_id"] == esperado, c.resumo()
