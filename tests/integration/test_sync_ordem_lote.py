"""A batch keeps the order of its events, and a removed id-0 product stays removed.

A batch is its events applied one by one in ``seq`` order: runs of product events are
still written in bulk, but a cart (or a customer, or an id-0 creation) sees exactly the
products and stock of the events received before it. A product created with ``"id": 0``
and then removed in the CRM is the product the removal hides (linked by name), whichever
of the two is applied first.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from services import sync
from tests.integration.test_sync import env, java, produto


@pytest.fixture
def ctx(app):
    from webapp.deps import build_contexto

    with app.app_context():
        yield build_contexto(app, "sistema:java")


def _cliente(ctx):
    return env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes")


def _carrinho(ctx):
    return env(java("carrinho-3.json"), ctx.proxima_seq(), canal="carrinho:3")


def _estoques(db) -> dict[int, int]:
    return {d["java_id"]: d["estoque"] for d in db.produtos.find({"java_id": {"$in": [7, 9]}})}


# -- 1. a batch is its events one by one, in seq order ------------------------------


@pytest.mark.parametrize("embaralhado", [False, True])
def test_a_cart_after_new_products_in_the_same_batch_becomes_an_order(ctx, db, embaralhado):
    """One by one, the customer, the two products and then the cart make an order; so
    must the same events as one batch (in any list order: ``seq`` decides)."""
    lote = [
        _cliente(ctx),
        env(java("produtos-html-unicode.json"), ctx.proxima_seq()),
        env(java("produtos-atualizado.json"), ctx.proxima_seq()),
        _carrinho(ctx),
    ]
    if embaralhado:
        random.Random(5).shuffle(lote)

    resultados = dict(zip((e.canal for e in lote), sync.aplicar_lote(ctx, lote), strict=False))

    assert resultados["carrinho:3"]["resultado"] == "pedido_criado", resultados["carrinho:3"]
    assert db.eventos_rejeitados.count_documents({}) == 0
    assert db.pedidos.count_documents({}) == 1
    assert _estoques(db) == {7: 9, 9: 97}


def test_a_cart_sees_the_stock_of_an_earlier_update_in_its_batch(ctx, db):
    """Stored without stock; the batch restocks both products, then the cart buys."""
    sync.aplicar(ctx, _cliente(ctx))
    sync.aplicar(
        ctx, env(produto("atualizado", 7, nome="Notebook Gamer", preco="4299.0", estoque=0), ctx.proxima_seq())
    )
    sync.aplicar(ctx, env(produto("atualizado", 9, nome="Café", preco="19.99", estoque=0), ctx.proxima_seq()))

    lote = [
        env(produto("atualizado", 7, nome="Notebook Gamer", preco="4299.0", estoque=10), ctx.proxima_seq()),
        env(produto("atualizado", 9, nome="Café", preco="19.99", estoque=100), ctx.proxima_seq()),
        _carrinho(ctx),
    ]
    resultados = sync.aplicar_lote(ctx, lote)

    assert [r["resultado"] for r in resultados] == ["aplicado", "aplicado", "pedido_criado"], resultados
    assert _estoques(db) == {7: 9, 9: 97}


def test_an_update_before_a_cart_is_not_undone_by_the_cart(ctx, db):
    """Stock set to 5 and 50 by the CRM, then the cart: 4 and 47 are left, as one by one
    (deferred, the update would lose to the newer number the checkout takes)."""
    sync.aplicar(ctx, _cliente(ctx))
    sync.aplicar(ctx, env(produto("atualizado", 7, nome="Notebook Gamer", estoque=10), ctx.proxima_seq()))
    sync.aplicar(ctx, env(produto("atualizado", 9, nome="Café", estoque=100), ctx.proxima_seq()))

    lote = [
        env(produto("atualizado", 7, nome="Notebook Gamer", estoque=5), ctx.proxima_seq()),
        env(produto("atualizado", 9, nome="Café", estoque=50), ctx.proxima_seq()),
        _carrinho(ctx),
    ]
    resultados = sync.aplicar_lote(ctx, lote)

    assert [r["resultado"] for r in resultados] == ["aplicado", "aplicado", "pedido_criado"], resultados
    assert _estoques(db) == {7: 4, 9: 47}


def test_product_runs_around_a_cart_take_effect_in_order(ctx, db):
    """A batch of products only, then one with a cart in the middle: the cart buys from the
    stock of the events received before it, and the events received after it apply over
    the sale (what is observable; how many bulk writes that takes is the store's business)."""
    sync.aplicar(ctx, _cliente(ctx))
    todos = [env(produto("atualizado", j, nome=f"P{j}", estoque=10), ctx.proxima_seq()) for j in (7, 9, 11)]
    assert {r["resultado"] for r in sync.aplicar_lote(ctx, todos)} == {"criado"}

    antes = [env(produto("atualizado", 7, nome="P7", estoque=20 + n), ctx.proxima_seq()) for n in range(2)]
    carrinho = _carrinho(ctx)
    depois = [env(produto("atualizado", 11, nome="P11", estoque=30 + n), ctx.proxima_seq()) for n in range(2)]
    resultados = sync.aplicar_lote(ctx, [*depois, carrinho, *antes])

    assert [r["resultado"] for r in resultados] == ["aplicado", "aplicado", "pedido_criado", "aplicado", "aplicado"]
    estoques = {d["java_id"]: d["estoque"] for d in db.produtos.find({"java_id": {"$in": [7, 9, 11]}})}
    assert estoques == {7: 21 - 1, 9: 10 - 3, 11: 31}  # the cart bought 1 of P7 and 3 of P9
    assert _estoques(db) == {7: 20, 9: 7}  # the cart bought from what the first run left


# -- 2. an id-0 product removed in the CRM ------------------------------------------


def _notebook_sumiu(db, anon):
    assert anon.get("/produtos?q=notebook").get_json() == []
    docs = list(db.produtos.find({"$or": [{"java_id": 7}, {"nome_busca": "notebook gamer"}]}))
    assert len(docs) == 1, docs  # the id-0 product itself, linked to 7: no orphan, no extra tombstone
    assert docs[0]["java_id"] == 7 and docs[0]["excluido_em"] is not None


def test_id0_product_then_removido_one_by_one_hides_it(ctx, db, anon):
    assert sync.aplicar(ctx, env(java("produtos-criado-id0.json"), 1))["resultado"] == "criado"
    assert anon.get("/produtos?q=notebook").get_json()[0]["nome"] == "Notebook Gamer"

    assert sync.aplicar(ctx, env(java("produtos-removido.json"), 2))["resultado"] == "removido"

    _notebook_sumiu(db, anon)
    # Older events of 7 arriving late do not bring it back.
    assert sync.aplicar(ctx, env(java("produtos-atualizado.json"), 1))["resultado"] == "obsoleto"
    _notebook_sumiu(db, anon)


@pytest.mark.parametrize("juntos", [True, False])
def test_id0_product_then_removido_in_batches_hides_it(ctx, db, anon, juntos):
    criado, removido = env(java("produtos-criado-id0.json"), 1), env(java("produtos-removido.json"), 2)
    if juntos:
        resultados = sync.aplicar_lote(ctx, [removido, criado])
        assert [r["resultado"] for r in resultados] == ["removido", "criado"]
    else:
        sync.aplicar_lote(ctx, [criado])
        assert sync.aplicar_lote(ctx, [removido])[0]["resultado"] == "removido"
    _notebook_sumiu(db, anon)


def test_removido_applied_before_its_older_id0_criado_still_hides_it(ctx, db, anon):
    """Parallel workers: the removal lands first (a tombstone), then the older id-0
    creation of the same name is recognised as the removed product and dropped."""
    assert sync.aplicar(ctx, env(java("produtos-removido.json"), 2))["resultado"] == "removido_desconhecido"
    assert sync.aplicar(ctx, env(java("produtos-criado-id0.json"), 1))["resultado"] == "obsoleto"

    _notebook_sumiu(db, anon)


def test_removido_does_not_take_an_id0_product_of_another_name(ctx, db, anon):
    sync.aplicar(ctx, env(produto("criado", 0, nome="Mesa"), 1))
    assert sync.aplicar(ctx, env(java("produtos-removido.json"), 2))["resultado"] == "removido_desconhecido"
    assert [p["nome"] for p in anon.get("/produtos?q=mesa").get_json()] == ["Mesa"]
    assert db.produtos.find_one({"nome": "Mesa"}).get("java_id") is None


def test_a_crm_sale_is_not_undone_by_an_older_stock_event(ctx, db):
    """A CRM cart takes its place in the sync order when it is received: a stock event
    received before the cart but applied after it (parallel workers) is older than the
    sale and does not undo it. The worker's context numbers nothing itself, so the
    cart's own ``seq`` is the one that counts."""
    sync.aplicar(ctx, _cliente(ctx))
    sync.aplicar(ctx, env(java("produtos-html-unicode.json"), ctx.proxima_seq()))
    sync.aplicar(ctx, env(java("produtos-atualizado.json"), ctx.proxima_seq()))
    antes = _estoques(db)
    atrasado = env(java("produtos-atualizado.json"), ctx.proxima_seq())  # received before the cart
    carrinho = _carrinho(ctx)
    worker = replace(ctx, sequencia=None)  # as tasks.resources builds it

    assert sync.aplicar(worker, carrinho)["resultado"] == "pedido_criado"
    vendido = _estoques(db)
    assert vendido != antes
    assert sync.aplicar(worker, atrasado)["resultado"] == "obsoleto"
    assert _estoques(db) == vendido
