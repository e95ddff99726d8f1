"""Indexes for every list query exist after start-up, and creating them is idempotent."""

from datetime import UTC, datetime

import pytest
from pymongo.errors import DuplicateKeyError

from adapters.mongo import INDEXES, INDICE_JAVA_ANTIGO, ensure_indexes
from adapters.repositories import MongoClienteRepository, chave_java
from domain.errors import Conflito


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


def test_a_customers_java_id_is_unique_through_its_key_but_optional(db):
    ensure_indexes(db)
    indices = db.clientes.index_information()
    assert indices["chave_java_unica"]["unique"] is True
    assert indices["chave_java_unica"]["partialFilterExpression"] == {"chave_java": {"$exists": True}}
    assert indices["por_java_id"]["key"] == [("java_id", 1)] and not indices["por_java_id"].get("unique")
    db.clientes.insert_many([{"email_norm": "a@x.com"}, {"email_norm": "b@x.com"}])  # no java_id: allowed twice
    db.clientes.insert_one({"email_norm": "c@x.com", "java_id": 7, **chave_java(7)})
    with pytest.raises(DuplicateKeyError):
        db.clientes.insert_one({"email_norm": "d@x.com", "java_id": 7, **chave_java(7)})


def test_a_customer_added_with_a_java_id_stores_its_key(db):
    ensure_indexes(db)
    clientes = MongoClienteRepository(db)
    cliente = clientes.add({"nome": "Ana", "email": "ana@x.com"}, datetime.now(UTC), java_id=8)
    assert db.clientes.find_one({"java_id": 8})["chave_java"] == "8" and cliente.java_id == 8
    with pytest.raises(Conflito):
        clientes.add({"nome": "Bia", "email": "bia@x.com"}, datetime.now(UTC), java_id=8)


def test_a_customers_database_from_before_chave_java_is_migrated_keeping_uniqueness(db):
    # The old index set on clientes: unique on the numeric CRM id, customers without the key.
    db.clientes.create_index("java_id", name=INDICE_JAVA_ANTIGO, unique=True,
                             partialFilterExpression={"java_id": {"$exists": True}})  # fmt: skip
    db.clientes.insert_many([{"email_norm": "a@x.com", "java_id": 7}, {"email_norm": "b@x.com"}])
    ensure_indexes(db)
    indices = db.clientes.index_information()
    assert INDICE_JAVA_ANTIGO not in indices and {"chave_java_unica", "por_java_id"} <= set(indices)
    assert db.clientes.find_one({"java_id": 7})["chave_java"] == "7"
    assert "chave_java" not in db.clientes.find_one({"email_norm": "b@x.com"})
    with pytest.raises(DuplicateKeyError):
        db.clientes.insert_one({"email_norm": "c@x.com", "java_id": 7, **chave_java(7)})
    ensure_indexes(db)  # once migrated, a no-op
