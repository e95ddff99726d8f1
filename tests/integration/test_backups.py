"""Backups on a real mongoeco: made, then the data changed, then restored to exactly what
was backed up (documents, Decimal128, dates, indexes); damaged backups refused untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bson
import pytest
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.objectid import ObjectId
from pymongo.errors import DuplicateKeyError

from adapters.backups import FolderBackupFiles, MongoDatabaseDump
from adapters.mongo import ensure_indexes
from domain.backups import MANIFEST, InvalidBackup
from domain.errors import Conflito
from services import backups

T0 = datetime(2026, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)


def semear(db) -> None:
    """Products with Decimal128 prices, customers, orders with dates, under Ponte's indexes."""
    ensure_indexes(db)
    produtos = [
        {"_id": ObjectId(), "nome": f"Caneca {i}", "preco": Decimal128(f"{i}9.90"), "estoque": i, "criado_em": T0}
        for i in range(1, 6)
    ]
    produtos[0] |= {"java_id": 101, "chave_java": "101"}
    db.produtos.insert_many(produtos)
    clientes = [
        {"_id": ObjectId(), "nome": n, "email_norm": f"{n}@x.com", "criado_em": T0 + timedelta(days=i)}
        for i, n in enumerate(["ana", "bia", "caio"])
    ]
    clientes[0] |= {"java_id": 201, "chave_java": "201"}
    db.clientes.insert_many(clientes)
    db.pedidos.insert_one(
        {
            "_id": ObjectId(),
            "cliente_id": clientes[0]["_id"],
            "itens": [{"produto_id": produtos[1]["_id"], "preco": Decimal128("29.90"), "quantidade": 2}],
            "total": Decimal128("59.80"),
            "status": "pago",
            "criado_em": T0 + timedelta(hours=3),
        }
    )


def mudar(db) -> None:
    """Changes after the backup: an update, a delete, an insert, an index dropped and added."""
    db.produtos.update_one({"java_id": 101}, {"$set": {"preco": Decimal128("1.00")}})
    db.clientes.delete_one({"nome": "bia"})
    db.pedidos.insert_one({"_id": ObjectId(), "status": "novo", "criado_em": T0 + timedelta(days=9)})
    db.pedidos.drop_index("por_status")
    db.produtos.create_index("nome", name="so_depois")


def estado(db) -> dict:
    """Every collection's documents (in _id order) and index specs."""
    return {
        name: {
            "docs": list(db[name].find(sort=[("_id", 1)])),
            "indexes": sorted((_sem_ns(i) for i in db[name].list_indexes()), key=lambda i: i["name"]),
        }
        for name in sorted(db.list_collection_names())
    }


def _sem_ns(index) -> dict:
    return {k: v for k, v in index.items() if k != "ns"}


def fazer_backup(db, pasta: Path, quando: datetime = T0, keep: int = 10):
    return backups.criar(FolderBackupFiles(pasta), MongoDatabaseDump(db), quando, {"version": "test"}, keep)


def restaurar(db, path: str, replace: bool = True):
    return backups.restaurar(FolderBackupFiles(path), MongoDatabaseDump(db), path, replace)


def test_restore_brings_back_the_backed_up_state_and_twice_is_the_same(db, tmp_path):
    semear(db)
    antes = estado(db)
    feito = fazer_backup(db, tmp_path)
    mudar(db)
    assert estado(db) != antes

    manifest, counts = restaurar(db, feito.path)
    assert estado(db) == antes
    assert counts == {name: len(c["docs"]) for name, c in antes.items()} == manifest.collections
    produto = db.produtos.find_one({"java_id": 101})
    assert produto["preco"] == Decimal128("19.90")
    assert db.pedidos.find_one({"status": "pago"})["criado_em"] == T0 + timedelta(hours=3)
    assert db.pedidos.find_one({"status": "pago"})["criado_em"].utcoffset() == timedelta(0)

    restaurar(db, feito.path)
    assert estado(db) == antes
    assert not [n for n in db.list_collection_names() if "__restore_" in n]


def test_unique_and_partial_indexes_work_after_a_restore(db, tmp_path):
    semear(db)
    feito = fazer_backup(db, tmp_path)
    mudar(db)
    restaurar(db, feito.path)
    with pytest.raises(DuplicateKeyError):
        db.clientes.insert_one({"email_norm": "ana@x.com"})
    db.produtos.insert_many([{"nome": "sem java_id"}, {"nome": "outro sem java_id"}])  # partial: allowed
    with pytest.raises(DuplicateKeyError):
        db.produtos.insert_one({"java_id": 101, "chave_java": "101"})
    with pytest.raises(DuplicateKeyError):
        db.clientes.insert_one({"email_norm": "outra@x.com", "java_id": 201, "chave_java": "201"})


def test_the_backup_is_in_mongodumps_layout(db, tmp_path):
    semear(db)
    feito = fazer_backup(db, tmp_path)
    pasta = Path(feito.path) / db.name
    with open(pasta / "produtos.bson", "rb") as f:
        docs = list(bson.decode_file_iter(f, CodecOptions(tz_aware=True)))
    assert docs == list(db.produtos.find(sort=[("_id", 1)]))
    meta = json.loads((pasta / "produtos.metadata.json").read_text())
    assert meta["collectionName"] == "produtos" and meta["type"] == "collection"
    chave = next(i for i in meta["indexes"] if i["name"] == "chave_java_unica")
    por_java = next(i for i in meta["indexes"] if i["name"] == "por_java_id")
    # Canonical extended JSON, as mongodump writes it.
    assert por_java["key"] == {"java_id": {"$numberInt": "1"}}
    assert chave["unique"] is True and chave["partialFilterExpression"] == {"chave_java": {"$exists": True}}
    assert {"name": "_id_", "key": {"_id": {"$numberInt": "1"}}} in meta["indexes"]
    clientes = json.loads((pasta / "clientes.metadata.json").read_text())["indexes"]
    assert {i["name"] for i in clientes} >= {"chave_java_unica", "por_java_id"}
    manifest = json.loads((Path(feito.path) / MANIFEST).read_text())
    assert manifest["db"] == db.name and datetime.fromisoformat(manifest["created_at"]).utcoffset() is not None
    assert manifest["collections"]["produtos"] == {"documents": 5}
    entry = manifest["files"][f"{db.name}/produtos.bson"]
    assert entry["size"] == (pasta / "produtos.bson").stat().st_size and len(entry["sha256"]) == 64


def _danificar_e_recusar(db, tmp_path, estragar, motivo):
    semear(db)
    feito = fazer_backup(db, tmp_path)
    mudar(db)
    depois = estado(db)
    estragar(Path(feito.path) / db.name / "produtos.bson")
    with pytest.raises(InvalidBackup, match=motivo) as exc:
        restaurar(db, feito.path)
    assert "nothing was restored" in exc.value.message
    assert estado(db) == depois


def test_a_truncated_file_is_refused_and_nothing_changes(db, tmp_path):
    def truncar(path: Path):
        path.write_bytes(path.read_bytes()[:-7])

    _danificar_e_recusar(db, tmp_path, truncar, r"produtos\.bson: \d+ bytes, the manifest says \d+ \(truncated")


def test_a_file_with_one_byte_changed_is_refused_and_nothing_changes(db, tmp_path):
    def alterar(path: Path):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    _danificar_e_recusar(db, tmp_path, alterar, r"produtos\.bson: SHA-256 differs from the manifest \(altered\)")


def test_a_collection_that_fails_to_load_leaves_every_collection_as_it_was(db, tmp_path):
    # Checksums that match a broken file (the manifest rewritten after it): the load of
    # produtos fails after clientes loaded, and nothing is swapped in.
    semear(db)
    feito = fazer_backup(db, tmp_path)
    mudar(db)
    depois = estado(db)
    path = Path(feito.path) / db.name / "produtos.bson"
    path.write_bytes(path.read_bytes()[:-7])
    files = FolderBackupFiles(tmp_path)
    manifest = files.read_manifest(feito.path)
    files.write_manifest(feito.path, type(manifest)(**{**vars(manifest), "files": files.measure(feito.path)}))
    with pytest.raises(InvalidBackup, match=r"produtos\.bson: not valid BSON"):
        restaurar(db, feito.path)
    assert estado(db) == depois


def test_without_drop_a_restore_refuses_collections_that_hold_documents(db, mongo_client, tmp_path):
    semear(db)
    antes = estado(db)
    feito = fazer_backup(db, tmp_path)
    with pytest.raises(Conflito, match="--drop"):
        restaurar(db, feito.path, replace=False)
    assert estado(db) == antes
    vazio = mongo_client[db.name + "_novo"]
    try:
        ensure_indexes(vazio)  # what a Ponte process started on the fresh store did
        restaurar(vazio, feito.path, replace=False)
        assert estado(vazio) == antes
    finally:
        mongo_client.drop_database(vazio.name)


def test_rotation_keeps_the_newest_backup_keep(db, tmp_path):
    semear(db)
    feitos = [fazer_backup(db, tmp_path, T0 + timedelta(minutes=i), keep=2) for i in range(4)]
    files = FolderBackupFiles(tmp_path)
    assert files.names() == [Path(f.path).name for f in feitos[-2:]]
    assert feitos[-1].removidos == [Path(feitos[1].path).name]
    assert sorted(p.name for p in tmp_path.iterdir()) == files.names()  # nothing half-written left


def test_list_says_which_backups_are_verified(db, tmp_path):
    semear(db)
    bom = fazer_backup(db, tmp_path, T0)
    mau = fazer_backup(db, tmp_path, T0 + timedelta(minutes=1))
    (Path(mau.path) / db.name / "clientes.bson").write_bytes(b"")
    resumos = backups.listar(FolderBackupFiles(tmp_path))
    assert [(r.path, r.problems == []) for r in resumos] == [(bom.path, True), (mau.path, False)]
    assert resumos[0].manifest.documents == 9
