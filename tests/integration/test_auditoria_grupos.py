"""Audit records written together (a sync batch) are stored as one document and read
back one record per event: filters, order, pagination and totals as if stored apart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pymongo import MongoClient, monitoring

from adapters.mongo import ensure_indexes
from adapters.repositories import MongoAuditoriaRepository
from domain.auditoria import AuditoriaFiltro, RegistroAuditoria

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def registro(recurso_id, acao="atualizado", ator="sistema:java", minuto=0, request_id=None):
    return RegistroAuditoria(
        ator=ator, recurso="produto", recurso_id=recurso_id, acao=acao, campos=["estoque"],
        em=T0 + timedelta(minutes=minuto), request_id=request_id or uuid.uuid4().hex,
    )  # fmt: skip


def test_a_group_is_one_document_and_reads_as_its_records(db):
    repo = MongoAuditoriaRepository(db)
    repo.add(registro("p1", acao="criado", ator="staff:ana", minuto=0))
    lote = [registro("p1", minuto=1), registro("p2", minuto=2), registro("p3", acao="removido", minuto=3)]
    repo.add_many(lote)
    repo.add_many([registro("p4", minuto=4)])  # a group of one is a plain record
    assert db.auditoria.count_documents({}) == 3

    todos, total = repo.list(AuditoriaFiltro(), 0, 10)
    assert total == 5
    assert [r.recurso_id for r in todos] == ["p4", "p3", "p2", "p1", "p1"]  # newest first
    assert len({r.id for r in todos}) == 5  # each record keeps an id of its own
    assert {r.request_id for r in todos} >= {r.request_id for r in lote}
    assert todos[1].acao == "removido" and todos[1].ator == "sistema:java" and todos[1].campos == ["estoque"]

    def ids(**filtro):
        return [r.recurso_id for r in repo.list(AuditoriaFiltro(**filtro), 0, 10)[0]]

    assert ids(recurso_id="p1") == ["p1", "p1"]
    assert ids(acao="removido") == ["p3"]
    assert ids(ator="staff:ana") == ["p1"]
    assert ids(recurso_id="p2", acao="removido") == []
    assert ids(desde=T0 + timedelta(minutes=2), ate=T0 + timedelta(minutes=3)) == ["p3", "p2"]
    pagina, total = repo.list(AuditoriaFiltro(ator="sistema:java"), 1, 2)
    assert total == 4 and [r.recurso_id for r in pagina] == ["p3", "p2"]
    assert repo.list(AuditoriaFiltro(), 10**30, 10) == ([], 5)


def test_sync_batches_are_listed_per_event_through_the_api(app, client):
    import json

    from domain.eventos import Envelope
    from services import sync
    from webapp.deps import build_contexto

    base = 80_000 + uuid.uuid4().int % 10_000

    def env(java_id, estoque, seq):
        payload = {
            "acao": "atualizado",
            "produto": {"id": java_id, "nome": f"P{java_id}", "preco": 5, "estoque": estoque},
        }
        return Envelope(uuid.uuid4().hex, "produtos", json.dumps(payload), "2026-11-29T00:00:00+00:00", seq)

    with app.app_context():
        ctx = build_contexto(app, "sistema:java")
        sync.aplicar_lote(ctx, [env(base + i, 1, 20_000_000 + i) for i in range(3)])  # created one by one
        lote = [env(base + i, 2, 20_000_010 + i) for i in range(3)]
        sync.aplicar_lote(ctx, lote)  # known products: one bulk_write, one grouped audit document
        produto_id = ctx.produtos.por_java_id(base + 1).id
    resp = client.get(f"/auditoria?recurso=produto&recurso_id={produto_id}")
    assert resp.status_code == 200
    assert [r["request_id"] for r in resp.get_json()] == [lote[1].event_id, resp.get_json()[1]["request_id"]]
    assert json.loads(resp.headers["X-Pagination"])["total"] == 2


def test_a_group_is_written_by_an_upsert_on_its_own_unique_key(mongo_uri, db_name):
    """Not an insert: on the mongoeco stand-in as shipped an insert is checked against every stored
    document, so a sync batch's audit write would grow with the whole trail
    (``bench/notes.md``); an upsert through the unique ``grupo`` index does not."""

    class Comandos(monitoring.CommandListener):
        def __init__(self):
            self.vistos = []

        def started(self, event):
            if event.command_name in ("insert", "update"):
                self.vistos.append(event.command)

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    comandos = Comandos()
    client = MongoClient(mongo_uri, event_listeners=[comandos])
    try:
        db = client[db_name]
        ensure_indexes(db)
        repo = MongoAuditoriaRepository(db)
        repo.add_many([registro("g1", minuto=1), registro("g2", minuto=2)])
        repo.add_many([registro("g3", minuto=3), registro("g4", minuto=4)])
        (primeiro, segundo) = comandos.vistos
        assert [next(iter(c)) for c in comandos.vistos] == ["update", "update"]
        (u,) = primeiro["updates"]
        assert u["upsert"] is True and set(u["q"]) == {"grupo"}
        assert segundo["updates"][0]["q"]["grupo"] != u["q"]["grupo"]
        assert db.auditoria.index_information()["grupo_unico"]["unique"] is True
        assert db.auditoria.count_documents({"grupo": {"$exists": True}}) == 2
        assert [r.recurso_id for r in repo.list(AuditoriaFiltro(), 0, 10)[0]] == ["g4", "g3", "g2", "g1"]
    finally:
        client.close()
