"""``devstack.mongo_server --seed``: the benchmarks' data loaded before the server serves.

What the seed stores must be what a pymongo insert would have stored (types included),
under the indexes the seed created first, which must keep holding afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson import BSON, Decimal128, ObjectId
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from adapters.mongo import CODEC_OPTIONS, INDEXES, ensure_indexes
from devstack import procs


def test_a_seeded_server_serves_the_documents_and_their_indexes(tmp_path):
    agora = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    docs = [
        {
            "_id": ObjectId(),
            "java_id": 900 + n,
            "chave_java": str(900 + n),
            "nome": f"P{n}",
            "preco": Decimal("10.10"),
            "criado_em": agora,
        }
        for n in range(1_500)
    ]
    clientes = [{"_id": ObjectId(), "java_id": 50 + n, "chave_java": str(50 + n), "email_norm": f"c{n}@x.com"}
                for n in range(3)]  # fmt: skip
    seed = tmp_path / "seed.bson"
    with seed.open("wb") as f:
        for coll in ("produtos", "clientes"):
            f.write(BSON.encode({"ns": f"semeado.{coll}", "indexes": [m.document for m in INDEXES[coll]]}))
        f.write(BSON.encode({"ns": "semeado.clientes", "documents": clientes}))
        for start in range(0, len(docs), 1000):
            f.write(
                BSON.encode(
                    {"ns": "semeado.produtos", "documents": docs[start : start + 1000]}, codec_options=CODEC_OPTIONS
                )
            )

    proc, uri = procs.start_mongo(procs.free_port(), engine="memory", seed=str(seed))
    client = MongoClient(uri)
    try:
        db = client.get_database("semeado", codec_options=CODEC_OPTIONS)
        assert db.produtos.count_documents({}) == 1_500
        lido = db.produtos.find_one({"java_id": 1_399})
        assert lido == {**docs[499], "preco": Decimal("10.10")}
        assert isinstance(client.semeado.produtos.find_one({"java_id": 900})["preco"], Decimal128)
        assert set(db.produtos.index_information()) == {"_id_"} | {m.document["name"] for m in INDEXES["produtos"]}
        ensure_indexes(db)  # what every process does on start: nothing to build
        with pytest.raises(DuplicateKeyError):
            db.produtos.insert_one({"java_id": 900, "chave_java": "900", "nome": "outro"})  # the unique index holds
        assert set(db.clientes.index_information()) == {"_id_"} | {m.document["name"] for m in INDEXES["clientes"]}
        with pytest.raises(DuplicateKeyError):
            db.clientes.insert_one({"java_id": 51, "chave_java": "51", "email_norm": "outro@x.com"})
    finally:
        client.close()
        procs.stop(proc)
