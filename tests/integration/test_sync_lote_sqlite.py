"""A full bridge batch on the embedded default's engine (mongoeco on SQLite).

That engine refuses a query whose ``$in`` holds about 450 values or more ("Expression
tree is too large (maximum depth 1000)"), where the in-memory engine and MongoDB take
it. A batch of ``BRIDGE_BATCH_MAX`` (500) events asks ``$in`` of that size in three
places: the CRM ids this process does not know, the names an id-0 product awaits, and
the read-back after a write that did not match. Each failure sent the whole batch down
the one-by-one path, which made the initial load seven times slower (issue #19).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pymongo import MongoClient

import settings
from adapters.mongo import CODEC_OPTIONS, ensure_indexes
from adapters.sync_repositories import MongoProdutoSync
from devstack import procs

LOTE = settings.DEFAULTS["BRIDGE_BATCH_MAX"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    pasta = tmp_path_factory.mktemp("sqlite")
    with open(pasta / "mongo.log", "w") as log:
        proc, uri = procs.start_mongo(procs.free_port(), engine="sqlite", path=str(pasta / "ponte.sqlite"), log=log)
        client = MongoClient(uri, tz_aware=True)
        try:
            database = client.get_database(f"lote_{uuid.uuid4().hex[:8]}", codec_options=CODEC_OPTIONS)
            ensure_indexes(database)
            yield database
        finally:
            client.close()
            procs.stop(proc)


class _Ev:
    def __init__(self, java_id: int, acao: str, seq: int):
        self.java_id, self.acao, self.seq = java_id, acao, seq
        self.campos = {"nome": f"Lote {java_id}", "preco": Decimal("2.50"), "estoque": 4, "descricao": None}


def _eventos(base: int, acao: str, seq: int) -> list[_Ev]:
    return [_Ev(base + n, acao, seq + n) for n in range(LOTE)]


def test_a_full_batch_of_new_products_is_created_together(db):
    """``aplicar_varios`` reads the unknown ids, ``criar_varios`` the awaited names:
    both with every one of the batch's values."""
    base = uuid.uuid4().int % 100_000 * 1_000 + 1_000_000
    repo = MongoProdutoSync(db)
    eventos = _eventos(base, "criado", 1)

    assert {r for r, _ in repo.aplicar_varios(eventos, datetime.now(UTC))} == {"ausente"}
    assert [r for r, _ in repo.criar_varios(eventos, datetime.now(UTC))] == ["criado"] * LOTE
    assert db.produtos.count_documents({"java_id": {"$gte": base, "$lt": base + LOTE}}) == LOTE


def test_a_full_batch_of_products_another_process_stored_is_applied(db):
    """A process that knows none of them (a worker just started) reads their ids; one is
    then deleted under it, so the write does not match and the batch is read back."""
    base = uuid.uuid4().int % 100_000 * 1_000 + 1_000_000
    MongoProdutoSync(db).criar_varios(_eventos(base, "criado", 1), datetime.now(UTC))
    novo = MongoProdutoSync(db)

    resultados = novo.aplicar_varios(_eventos(base, "atualizado", 1_000), datetime.now(UTC))
    assert [r for r, _ in resultados] == ["aplicado"] * LOTE
    db.produtos.delete_one({"java_id": base})
    resultados = novo.aplicar_varios(_eventos(base, "atualizado", 2_000), datetime.now(UTC))
    assert [r for r, _ in resultados] == ["ausente"] + ["aplicado"] * (LOTE - 1)
