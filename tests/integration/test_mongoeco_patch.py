"""``devstack.mongoeco_patch``: a single insert no longer reads every stored document,
and every duplicate key is still refused, through the launcher on both engines."""

from __future__ import annotations

import pytest
from bson import Int64, ObjectId
from mongoeco import MongoClient as EmbeddedClient
from mongoeco.engines import memory as memory_module
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from devstack import mongoeco_patch, procs

STORED = 300


@pytest.fixture
def patched(monkeypatch):
    """The patch applied in this process, undone afterwards."""
    for _, class_name, method_name in mongoeco_patch.TARGETS:
        cls = {"MemoryEngine": MemoryEngine, "SQLiteEngine": SQLiteEngine}[class_name]
        monkeypatch.setattr(cls, method_name, getattr(cls, method_name))
    assert mongoeco_patch.apply() == [f"{c}.{m}" for _, c, m in mongoeco_patch.TARGETS]


def _insert_one_after(engine, registrar) -> None:
    with EmbeddedClient(engine) as client:
        col = client.teste.c
        col.insert_many([{"_id": ObjectId(), "n": n} for n in range(STORED)])
        registrar.clear()
        col.insert_one({"_id": ObjectId(), "n": -1})
        assert col.count_documents({}) == STORED + 1


def test_a_single_insert_in_memory_compares_no_stored_id(patched, monkeypatch):
    comparados = []
    original = memory_module.bson_equality_key
    monkeypatch.setattr(memory_module, "bson_equality_key", lambda v: comparados.append(v) or original(v))
    _insert_one_after(MemoryEngine(), comparados)
    assert len(comparados) < 5  # mongoeco as shipped: one per stored document (>= 300)


def test_a_single_insert_on_sqlite_reads_no_stored_document(patched, monkeypatch, tmp_path):
    leituras = []
    original = SQLiteEngine._load_documents

    def contar(self, *args, **kwargs):
        leituras.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLiteEngine, "_load_documents", contar)
    _insert_one_after(SQLiteEngine(str(tmp_path / "x.sqlite")), leituras)
    assert leituras == []  # as shipped: the whole collection, decoded


def test_applying_twice_wraps_once(patched):
    metodo = MemoryEngine._ensure_unique_indexes
    mongoeco_patch.apply()
    assert MemoryEngine._ensure_unique_indexes is metodo


def test_a_mongoeco_without_the_method_is_served_unpatched_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(mongoeco_patch, "TARGETS", (("mongoeco.engines.memory", "MemoryEngine", "_sumiu"),))
    assert mongoeco_patch.apply() == []
    assert "MemoryEngine._sumiu not patched" in caplog.text


@pytest.mark.parametrize(("engine", "unpatched"), [("memory", False), ("sqlite", False), ("memory", True)])
def test_the_launcher_still_refuses_every_duplicate(engine, unpatched, tmp_path):
    """Patched as ``make run`` serves it, and as shipped (``--unpatched``) for comparison."""
    path = str(tmp_path / "ponte.sqlite") if engine == "sqlite" else None
    proc, uri = procs.start_mongo(procs.free_port(), engine=engine, path=path, unpatched=unpatched)
    try:
        col = MongoClient(uri).teste.c
        col.create_index("email", unique=True, partialFilterExpression={"email": {"$exists": True}})
        oid = ObjectId()
        col.insert_many([{"_id": oid}, {"_id": "chave:1"}, {"_id": 7}, {"_id": {"a": 1}}, {"email": "a@x"}])
        for repetido in ({"_id": oid}, {"_id": "chave:1"}, {"_id": {"a": 1}}, {"email": "a@x"},
                         {"_id": 7.0}, {"_id": Int64(7)}):  # fmt: skip
            with pytest.raises(DuplicateKeyError):
                col.insert_one(repetido)
        assert col.count_documents({}) == 5
    finally:
        procs.stop(proc)
