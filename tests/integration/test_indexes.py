"""Indexes for every list query exist after start-up, and creating them is idempotent."""

import pytest
from pymongo.errors import DuplicateKeyError

from adapters.mongo import INDEXES, INDICE_JAVA_ANTIGO, ensure_indexes
from adapters.repositories import chave_java


def test_indexes_created_on_first_use_and_idempotent(app, client, db):
    assert client.get("/produtos").status_code == 200
    for collection, models in INDEXES.items():
        names = set(db[collection].index_information())
        assert {m.document["name"] for m in models} <= names
    ensure_indexes(db)  # again, as every new process does
    assert client.get("/clientes").status_code == 200


def test_java_id_is_unique_but_optional(db):
    ensure_indexes(db)
    db.produtos.insert_many([{"nome": "a"}, {"nome": "b"}])  # no java_id: allowed twice
    db.produtos.insert_one({"nome": "c", "java_id": 7, **chave_java(7)})
    with pytest.raises(DuplicateKeyError):
        db.produtos.insert_one({"nome": "d", "java_id": 7, **chave_java(7)})


def test_a_database_from_before_chave_java_is_migrated_keeping_uniqueness(db):
    # The old index set: unique on the numeric CRM id, products stored without the key.
    db.produtos.create_index("java_id", name=INDICE_JAVA_ANTIGO, unique=True,
                             partialFilterExpression={"java_id": {"$exists": True}})  # fmt: skip
    db.produtos.insert_many([{"nome": "a", "java_id": 7}, {"nome": "b"}])
    ensure_indexes(db)
    indices = db.produtos.index_information()
    assert INDICE_JAVA_ANTIGO not in indices and {"chave_java_unica", "por_java_id"} <= set(indices)
    assert db.produtos.find_one({"java_id": 7})["chave_java"] == "7"
    assert "chave_java" not in db.produtos.find_one({"nome": "b"})
    with pytest.raises(DuplicateKeyError):
        db.produtos.insert_one({"nome": "c", "java_id": 7, **chave_java(7)})
    ensure_indexes(db)  # once migrated, a no-op
