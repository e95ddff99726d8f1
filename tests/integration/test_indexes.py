"""Indexes for every list query exist after start-up, and creating them is idempotent."""

from adapters.mongo import INDEXES, ensure_indexes


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
    db.produtos.insert_one({"nome": "c", "java_id": 7})
    import pytest
    from pymongo.errors import DuplicateKeyError

    with pytest.raises(DuplicateKeyError):
        db.produtos.insert_one({"nome": "d", "java_id": 7})
