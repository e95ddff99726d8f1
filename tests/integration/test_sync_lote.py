"""Sync batches of known products are written blind, then read back only when needed.

A worker remembers the document of every product it has written (a CRM id never moves
to another document), so a batch of their events is one ``bulk_write`` with no read
before it. These tests pin what that must not cost: a redelivered batch is recognised
as already applied, an event overtaken by another worker is obsolete, and a product
gone from the database (or stored anew under a running worker) still gets its event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pymongo import MongoClient, monitoring

from adapters.sync_repositories import MongoProdutoSync
from domain.auditoria import AuditoriaFiltro
from services import sync
from tests.integration.test_sync import env, produto


@pytest.fixture
def ctx(app):
    from webapp.deps import build_contexto

    with app.app_context():
        yield build_contexto(app, "sistema:java")


def _registros(ctx, event_ids) -> list[str]:
    registros, _ = ctx.auditoria.list(AuditoriaFiltro(recurso="produto"), 0, 10_000)
    return [r.request_id for r in registros if r.request_id in set(event_ids)]


@dataclass
class Ev:
    """An event as ``MongoProdutoSync.aplicar_varios`` takes it."""

    java_id: int
    seq: int
    estoque: int
    acao: str = "atualizado"
    campos: dict = field(init=False)

    def __post_init__(self):
        self.campos = {"nome": "P", "preco": Decimal("1.00"), "estoque": self.estoque}


def _outro_worker_aplica(app, java_id: int, seq: int, estoque: int) -> None:
    """Another worker process (its own repository) applies an event to ``java_id``."""
    outro = MongoProdutoSync(app.extensions["ponte"].mongo.db())
    campos = {"nome": "Outro", "preco": Decimal("2.00"), "estoque": estoque, "descricao": None}
    assert outro.aplicar(java_id, campos, seq, datetime.now(UTC), reviver=False)[0] == "aplicado"


def _criar(ctx, java_ids, seq=1):
    lote = [env(produto("criado", j, nome=f"P{j}", estoque=1), seq=seq + n) for n, j in enumerate(java_ids)]
    assert {r["resultado"] for r in sync.aplicar_lote(ctx, lote)} == {"criado"}


def test_a_redelivered_batch_changes_nothing_and_is_audited_once(ctx, db):
    java_ids = [7100, 7101, 7102]
    _criar(ctx, java_ids)
    lote = [env(produto("atualizado", j, estoque=10 + n), seq=100 + n) for n, j in enumerate(java_ids)]
    primeira = sync.aplicar_lote(ctx, lote)
    antes = {d["java_id"]: (d["estoque"], d["versao"]) for d in db.produtos.find({"java_id": {"$in": java_ids}})}
    segunda = sync.aplicar_lote(ctx, lote)  # the same envelopes again (a task redelivered)

    assert [r["resultado"] for r in primeira] == ["aplicado"] * 3
    assert [r["resultado"] for r in segunda] == ["obsoleto"] * 3
    depois = {d["java_id"]: (d["estoque"], d["versao"]) for d in db.produtos.find({"java_id": {"$in": java_ids}})}
    assert depois == antes == {7100: (10, 2), 7101: (11, 2), 7102: (12, 2)}
    assert sorted(_registros(ctx, [e.event_id for e in lote])) == sorted(e.event_id for e in lote)


def test_an_event_overtaken_by_another_worker_is_obsolete(app, ctx, db):
    _criar(ctx, [7200, 7201])
    _outro_worker_aplica(app, 7200, seq=500, estoque=99)

    lote = [env(produto("atualizado", 7200, estoque=5), seq=300), env(produto("atualizado", 7201, estoque=6), seq=301)]
    resultados = sync.aplicar_lote(ctx, lote)

    assert [r["resultado"] for r in resultados] == ["obsoleto", "aplicado"]
    assert resultados[0].get("id") is None
    estoques = {d["java_id"]: d["estoque"] for d in db.produtos.find({"java_id": {"$in": [7200, 7201]}})}
    assert estoques == {7200: 99, 7201: 6}
    assert _registros(ctx, [e.event_id for e in lote]) == [lote[1].event_id]


def test_events_of_one_product_in_a_batch_are_judged_one_by_one(app, ctx, db):
    """Stored at 5, another worker writes 12, then a batch brings 10 and 14: 10 did
    nothing (obsolete, no audit record), 14 applied, as one event after another."""
    _criar(ctx, [7250], seq=5)
    _outro_worker_aplica(app, 7250, seq=12, estoque=12)

    lote = [env(produto("atualizado", 7250, estoque=10), seq=10), env(produto("atualizado", 7250, estoque=14), seq=14)]
    resultados = sync.aplicar_lote(ctx, lote)

    assert [r["resultado"] for r in resultados] == ["obsoleto", "aplicado"]
    assert db.produtos.find_one({"java_id": 7250})["estoque"] == 14
    assert _registros(ctx, [e.event_id for e in lote]) == [lote[1].event_id]


def test_a_write_overtaken_before_the_read_back_still_counts(app, db):
    """Our write to P applies, another worker's batch overwrites P before we read back
    (the read-back was caused by an obsolete event of R): ours still took effect."""
    mdb = app.extensions["ponte"].mongo.db()
    agora = datetime.now(UTC)
    outro = MongoProdutoSync(mdb)

    class Atropelado(MongoProdutoSync):
        def _conferir(self, *args):
            outro.aplicar_varios([Ev(7260, 210, 21)], agora)  # lands between our write and read-back
            return super()._conferir(*args)

    repo = Atropelado(mdb)
    for java_id in (7260, 7261):  # created through this repository: it knows them
        assert repo.aplicar(java_id, Ev(java_id, 50, 0).campos, 50, agora, reviver=False)[0] == "criado"

    resultados = repo.aplicar_varios([Ev(7260, 200, 20), Ev(7261, 1, 1)], agora)

    assert [r for r, _ in resultados] == ["aplicado", "obsoleto"]
    assert db.produtos.find_one({"java_id": 7260})["estoque"] == 21


def test_a_product_gone_from_the_database_gets_its_event(ctx, db):
    _criar(ctx, [7300])
    db.produtos.delete_one({"java_id": 7300})  # e.g. a collection restored under a running worker

    resultado = sync.aplicar_lote(ctx, [env(produto("atualizado", 7300, estoque=42), seq=400)])

    assert resultado[0]["resultado"] == "criado"
    assert db.produtos.find_one({"java_id": 7300})["estoque"] == 42


def test_a_product_stored_anew_gets_its_event_and_its_cache_renewed(ctx, db, anon):
    _criar(ctx, [7400])
    velho = db.produtos.find_one({"java_id": 7400})
    db.produtos.delete_one({"_id": velho["_id"]})
    novo = {k: v for k, v in velho.items() if k != "_id"}
    novo_id = db.produtos.insert_one(novo).inserted_id  # same product, another document
    assert anon.get(f"/produtos/{novo_id}").get_json()["estoque"] == 1  # now in the read cache

    resultado = sync.aplicar_lote(ctx, [env(produto("atualizado", 7400, estoque=8), seq=410)])

    assert resultado[0]["resultado"] == "aplicado" and resultado[0]["id"] == str(novo_id)
    assert db.produtos.find_one({"_id": novo_id})["estoque"] == 8
    assert anon.get(f"/produtos/{novo_id}").get_json()["estoque"] == 8


class _Comandos(monitoring.CommandListener):
    def __init__(self):
        self.nomes: list[str] = []

    def started(self, event):
        self.nomes.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_known_products_are_written_without_a_read(app, mongo_uri, db_name):
    """The point of remembering: a batch of known products costs one ``update``."""
    from adapters.mongo import CODEC_OPTIONS

    comandos = _Comandos()
    client = MongoClient(mongo_uri, event_listeners=[comandos])
    try:
        repo = MongoProdutoSync(client.get_database(db_name, codec_options=CODEC_OPTIONS))
        base = uuid.uuid4().int % 10_000 + 80_000
        client[db_name].produtos.insert_many([{"java_id": base + n, "nome": "x", "sync_seq": 0} for n in range(3)])
        agora = datetime.now(UTC)
        comandos.nomes.clear()
        primeiro = repo.aplicar_varios([Ev(base + n, 10 + n, 10 + n) for n in range(3)], agora)
        assert comandos.nomes == ["find", "update"]  # unknown until now: read once
        comandos.nomes.clear()
        segundo = repo.aplicar_varios([Ev(base + n, 20 + n, 20 + n) for n in range(3)], agora)
        assert comandos.nomes == ["update"]
        assert [r for r, _ in primeiro + segundo] == ["aplicado"] * 6
        estoques = [d["estoque"] for d in client[db_name].produtos.find({"java_id": {"$gte": base, "$lt": base + 3}})]
        assert sorted(estoques) == [20, 21, 22]
    finally:
        client.close()


def _produtos_sync(mongo_uri, db_name, cache):
    """A worker process's repository (its own client, watched) sharing ``cache``'s Redis."""
    from adapters.mongo import CODEC_OPTIONS

    comandos = _Comandos()
    client = MongoClient(mongo_uri, event_listeners=[comandos])
    return MongoProdutoSync(client.get_database(db_name, codec_options=CODEC_OPTIONS), cache), comandos, client


def test_products_another_process_has_read_are_not_read_again(ctx, mongo_uri, db_name, db):
    """Worker processes share what they learned (CRM id -> document) in Redis: the
    second process's first batch of the same products is one ``update``."""
    base = uuid.uuid4().int % 10_000 + 60_000
    db.produtos.insert_many([{"java_id": base + n, "nome": "x", "sync_seq": 0} for n in range(3)])
    um, comandos_um, c1 = _produtos_sync(mongo_uri, db_name, ctx.sync_produtos.cache)
    outro, comandos_outro, c2 = _produtos_sync(mongo_uri, db_name, ctx.sync_produtos.cache)
    agora = datetime.now(UTC)
    try:
        primeiro = um.aplicar_varios([Ev(base + n, 10 + n, 10 + n) for n in range(3)], agora)
        segundo = outro.aplicar_varios([Ev(base + n, 20 + n, 20 + n) for n in range(3)], agora)
        assert comandos_um.nomes == ["find", "update"]
        assert comandos_outro.nomes == ["update"]
    finally:
        c1.close()
        c2.close()
    assert [r for r, _ in primeiro + segundo] == ["aplicado"] * 6
    assert sorted(d["estoque"] for d in db.produtos.find({"java_id": {"$in": [base, base + 1, base + 2]}})) == [
        20, 21, 22,
    ]  # fmt: skip


def test_a_stale_shared_id_is_found_out_and_replaced(ctx, mongo_uri, db_name, db):
    """A product stored anew after one process shared its old document: the next
    process's write misses, reads back, gets the event applied the one-by-one way and
    shares the new document."""
    from adapters.cache import IdsCompartilhados

    java_id = uuid.uuid4().int % 10_000 + 50_000
    velho = db.produtos.insert_one({"java_id": java_id, "nome": "x", "sync_seq": 0}).inserted_id
    cache = ctx.sync_produtos.cache
    um, _, c1 = _produtos_sync(mongo_uri, db_name, cache)
    outro, _, c2 = _produtos_sync(mongo_uri, db_name, cache)
    agora = datetime.now(UTC)
    compartilhados = IdsCompartilhados(cache.client, cache.prefix)
    try:
        assert um.aplicar_varios([Ev(java_id, 10, 10)], agora) == [("aplicado", str(velho))]
        assert compartilhados.buscar([java_id]) == {java_id: str(velho)}
        db.produtos.delete_one({"_id": velho})
        novo = db.produtos.insert_one({"java_id": java_id, "nome": "x", "sync_seq": 10}).inserted_id

        assert outro.aplicar_varios([Ev(java_id, 20, 20)], agora) == [("ausente", None)]
        assert compartilhados.buscar([java_id]) == {}
        assert outro.aplicar(java_id, Ev(java_id, 20, 20).campos, 20, agora, reviver=False) == ("aplicado", str(novo))
    finally:
        c1.close()
        c2.close()
    assert compartilhados.buscar([java_id]) == {java_id: str(novo)}
    assert db.produtos.find_one({"_id": novo})["estoque"] == 20


def test_sync_goes_on_without_the_shared_ids(mongo_uri, db_name, db):
    """Redis down: the ids are read from MongoDB, the batch is applied, nothing raises
    from the shared map (the cache's own invalidation failing is the task's retry)."""
    import redis as redis_lib
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from adapters.cache import IdsCompartilhados
    from devstack.procs import free_port

    morto = redis_lib.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    compartilhados = IdsCompartilhados(morto, "x")
    assert compartilhados.buscar([1, 2]) == {}
    compartilhados.gravar({1: "a"})
    compartilhados.esquecer(1)

    base = uuid.uuid4().int % 10_000 + 40_000
    db.produtos.insert_many([{"java_id": base + n, "nome": "x", "sync_seq": 0} for n in range(2)])
    repo, comandos, client = _produtos_sync(mongo_uri, db_name, None)
    repo._compartilhados = compartilhados
    try:
        assert [r for r, _ in repo.aplicar_varios([Ev(base, 5, 5), Ev(base + 1, 6, 6)], datetime.now(UTC))] == [
            "aplicado", "aplicado",
        ]  # fmt: skip
        assert comandos.nomes == ["find", "update"]
    finally:
        client.close()
