"""An initial CRM load: batches of ``criado`` events for products not stored yet.

Their products are created by one ``bulk_write`` of upserts keyed by the CRM id's unique
key alone (``MongoProdutoSync.criar_varios``, issue #19), not one by one. These tests pin
what that must keep: the documents the one-by-one path stores, one product per CRM id
however often its ``criado`` arrives, and the id-0 link by name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pymongo import MongoClient

from adapters.mongo import CODEC_OPTIONS
from adapters.sync_repositories import MongoProdutoSync
from services import sync
from tests.integration.test_sync import env, produto
from tests.integration.test_sync_lote import _Comandos, _registros

# Fields that differ between two creations of the same event by nature: ids and instants.
VARIAM = {"_id", "java_id", "chave_java", "criado_em", "atualizado_em"}


@pytest.fixture
def ctx(app):
    from webapp.deps import build_contexto

    with app.app_context():
        yield build_contexto(app, "sistema:java")


def _base() -> int:
    return uuid.uuid4().int % 100_000 + 200_000


def _lote(java_ids, seq=1, acao="criado"):
    return [env(produto(acao, j, nome=f"Carga {j}", estoque=j % 7), seq=seq + n) for n, j in enumerate(java_ids)]


def test_a_batch_of_new_products_is_created_by_one_write(app, mongo_uri, db_name):
    """Without ``criar_varios`` each of them costs several writes of its own (five
    commands and an audit insert), which is what slowed the initial load down."""
    comandos = _Comandos()
    client = MongoClient(mongo_uri, event_listeners=[comandos])
    try:
        repo = MongoProdutoSync(client.get_database(db_name, codec_options=CODEC_OPTIONS))
        base = _base()
        eventos = [_Ev(base + n, "criado", n + 1) for n in range(5)]
        primeiro = repo.aplicar_varios(eventos, datetime.now(UTC))
        assert [r for r, _ in primeiro] == ["ausente"] * 5
        comandos.nomes.clear()
        criados = repo.criar_varios(eventos, datetime.now(UTC))
        assert [r for r, _ in criados] == ["criado"] * 5
        # One read for the names an id-0 product awaits, the write, the same read after it.
        assert comandos.nomes == ["find", "update", "find"]
    finally:
        client.close()


class _Ev:
    def __init__(self, java_id: int, acao: str, seq: int):
        self.java_id, self.acao, self.seq = java_id, acao, seq
        self.campos = {"nome": f"Carga {java_id}", "preco": Decimal("1.00"), "estoque": 3, "descricao": None}


def test_the_batch_stores_what_the_one_by_one_path_stores(ctx, db):
    base = _base()
    (um,) = _lote([base], seq=10)
    sync.aplicar(ctx, um)  # one by one
    (outro,) = _lote([base + 1], seq=10)
    assert sync.aplicar_lote(ctx, [outro])[0]["resultado"] == "criado"

    a, b = (db.produtos.find_one({"java_id": j}) for j in (base, base + 1))
    assert {k: v for k, v in a.items() if k not in VARIAM | {"nome", "nome_busca", "estoque"}} == {
        k: v for k, v in b.items() if k not in VARIAM | {"nome", "nome_busca", "estoque"}
    }
    assert set(a) == set(b) and b["chave_java"] == str(base + 1) and b["versao"] == 1


def test_duplicate_criado_events_leave_one_product_each(ctx, db):
    base = _base()
    java_ids = [base, base + 1, base + 2]
    lote = _lote([*java_ids, base + 2])  # the last one's criado twice in its first batch
    primeira = sync.aplicar_lote(ctx, lote)
    segunda = sync.aplicar_lote(ctx, lote)  # redelivered
    # The same products' criado again, later, in one batch with a repeat inside it.
    de_novo = _lote([base, base + 1, base + 1], seq=50)

    assert [r["resultado"] for r in primeira] == ["criado"] * 3 + ["aplicado"]
    assert [r["resultado"] for r in segunda] == ["obsoleto"] * 4
    assert [r["resultado"] for r in sync.aplicar_lote(ctx, de_novo)] == ["aplicado"] * 3
    assert [db.produtos.count_documents({"java_id": j}) for j in java_ids] == [1, 1, 1]
    assert {d["java_id"]: d["versao"] for d in db.produtos.find({"java_id": {"$in": java_ids}})} == {
        base: 2,
        base + 1: 3,
        base + 2: 2,
    }
    assert sorted(_registros(ctx, [e.event_id for e in lote])) == sorted(e.event_id for e in lote)


def test_a_criado_for_a_product_stored_meanwhile_is_applied_by_the_one_by_one_path(app, ctx, db):
    """Another worker creates the product between our read and our write: our upsert
    matches it and changes nothing; the event then applies conditionally, as ever."""
    base = _base()
    eventos = [_Ev(base, "criado", 10), _Ev(base + 1, "criado", 11)]
    outro = MongoProdutoSync(app.extensions["ponte"].mongo.db())
    assert outro.criar_varios([_Ev(base, "criado", 20)], datetime.now(UTC))[0][0] == "criado"

    nosso = MongoProdutoSync(app.extensions["ponte"].mongo.db())
    assert [r for r, _ in nosso.criar_varios(eventos, datetime.now(UTC))] == ["ausente", "criado"]
    assert db.produtos.count_documents({"java_id": base}) == 1
    assert db.produtos.find_one({"java_id": base})["criado_seq"] == 20
    # Through the service, the older criado of the stored product is obsolete.
    (velho,) = _lote([base], seq=5)
    assert sync.aplicar_lote(ctx, [velho])[0]["resultado"] == "obsoleto"


def test_a_batch_links_the_id0_product_of_the_same_name(ctx, db):
    base = _base()
    nome = f"Carga {base}"
    sync.aplicar(ctx, env(produto("criado", 0, nome=nome), 1))
    resultados = sync.aplicar_lote(ctx, _lote([base, base + 1], seq=2))

    assert [r["resultado"] for r in resultados] == ["aplicado", "criado"]  # linked, then new
    assert db.produtos.count_documents({"nome": nome}) == 1
    assert db.produtos.find_one({"nome": nome})["java_id"] == base
