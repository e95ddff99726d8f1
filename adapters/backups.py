"""Backups on disk in mongodump's layout, and their dump and restore through pymongo.

A backup is a folder ``<BACKUP_DIR>/<name>/`` holding ``manifest.json`` and
``<db>/<collection>.bson`` (the documents' BSON, concatenated, exactly as mongodump writes
them) with ``<db>/<collection>.metadata.json`` (mongodump's canonical extended JSON:
options, indexes, uuid, collectionName, type), so ``mongorestore`` reads it as well.

A restore loads every collection into a temporary one (``<name>.__restore_<tag>``) with its
indexes, and only when all of them loaded completely renames each over its target.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from bson.raw_bson import RawBSONDocument
from bson.son import SON
from pymongo.database import Database
from pymongo.errors import OperationFailure

from domain.backups import MANIFEST, FileEntry, InvalidBackup, Manifest, is_backup_name
from domain.errors import Conflito

ROOT = Path(__file__).resolve().parent.parent
# Documents travel as their raw bytes: no decode and re-encode, so every BSON type
# (Decimal128, dates, int64 vs int32) is written and restored exactly as stored.
RAW = CodecOptions(document_class=RawBSONDocument)
TEMPORARY = ".__restore_"
BATCH = 1000
CHUNK = 1 << 20


def ponte_version() -> dict[str, str | None]:
    """The version of pyproject.toml and, when known, the commit (PONTE_COMMIT, or git)."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    commit = os.environ.get("PONTE_COMMIT")
    git = shutil.which("git")
    if not commit and git:  # no git on the host (a container): the version alone
        argv = [git, "rev-parse", "HEAD"]
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=5, check=False)  # noqa: S603 - fixed argv
        commit = out.stdout.strip() or None
    return {"version": version, "commit": commit}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderBackupFiles:
    """The backups of one folder; a backup being written is hidden as ``.<name>.partial``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if is_backup_name(p.name) and (p / MANIFEST).is_file())

    def path(self, name: str) -> str:
        return str(self.root / name)

    def start(self, name: str) -> str:
        partial = self.root / f".{name}.partial"
        partial.mkdir(parents=True)
        return str(partial)

    def abandon(self, name: str) -> None:
        shutil.rmtree(self.root / f".{name}.partial", ignore_errors=True)

    def finish(self, name: str) -> str:
        # A rename within one folder: the backup appears whole or not at all.
        final = self.root / name
        os.rename(self.root / f".{name}.partial", final)
        _fsync(self.root)
        return str(final)

    def remove(self, name: str) -> None:
        shutil.rmtree(self.root / name)

    def measure(self, path: str) -> dict[str, FileEntry]:
        base = Path(path)
        found = {}
        for file in sorted(p for p in base.rglob("*") if p.is_file() and p != base / MANIFEST):
            digest, size = hashlib.sha256(), 0
            with open(file, "rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            found[file.relative_to(base).as_posix()] = FileEntry(size, digest.hexdigest())
        return found

    def write_manifest(self, path: str, manifest: Manifest) -> None:
        target = Path(path) / MANIFEST
        tmp = target.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest.to_dict(), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)

    def read_manifest(self, path: str) -> Manifest:
        target = Path(path) / MANIFEST
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidBackup(f"{target}: no manifest, this is not a finished backup") from None
        except (OSError, ValueError) as exc:
            raise InvalidBackup(f"{target}: unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise InvalidBackup(f"{target}: not a manifest")
        return Manifest.from_dict(data)


def _index_spec(index: dict) -> dict:
    """An index as MongoDB's listIndexes reports it: no ``ns`` (gone since 4.4, and wrong
    under another name), and the ``_id_`` index without the ``unique`` mongoeco adds."""
    spec = {k: v for k, v in index.items() if k != "ns"}
    if spec.get("name") == "_id_":
        spec.pop("unique", None)
    return spec


def metadata_json(db: Database, info: dict) -> str:
    """mongodump's ``<collection>.metadata.json`` (mongo-tools mongodump/metadata_dump.go)."""
    name = info["name"]
    meta: dict = {}
    if info.get("options"):
        meta["options"] = info["options"]
    meta["indexes"] = [_index_spec(dict(i)) for i in db[name].list_indexes()]
    if (info.get("info") or {}).get("uuid") is not None:
        meta["uuid"] = info["info"]["uuid"].as_uuid().hex
    meta["collectionName"] = name
    meta["type"] = info.get("type", "collection")
    return json_util.dumps(meta, json_options=json_util.CANONICAL_JSON_OPTIONS)


class MongoDatabaseDump:
    """Dump and restore one database over pymongo (a real MongoDB or mongoeco)."""

    def __init__(self, db: Database):
        self.db = db.with_options(codec_options=RAW)
        self.db_name = db.name

    def _collections(self) -> list[dict]:
        infos = self.db.list_collections()
        return sorted(
            (i for i in infos if i.get("type", "collection") == "collection" and not _internal(i["name"])),
            key=lambda i: i["name"],
        )

    def dump(self, path: str) -> dict[str, int]:
        folder = Path(path) / self.db_name
        folder.mkdir(parents=True)
        counts = {}
        for info in self._collections():
            name = info["name"]
            (folder / f"{name}.metadata.json").write_text(metadata_json(self.db, info), encoding="utf-8")
            counts[name] = self._dump_documents(name, folder / f"{name}.bson")
        _fsync(folder)
        return counts

    def _dump_documents(self, name: str, target: Path) -> int:
        # One pass in _id order: each collection is read as one cursor (see docs/operations.md
        # for what that means while the CRM publishes).
        count = 0
        with open(target, "wb") as f:
            for doc in self.db[name].find({}, sort=[("_id", 1)], batch_size=BATCH):
                f.write(doc.raw)
                count += 1
            f.flush()
            os.fsync(f.fileno())
        return count

    def restore(self, path: str, manifest: Manifest, replace: bool) -> dict[str, int]:
        source = Path(path) / manifest.db
        names = sorted(manifest.collections)
        if not replace:
            self._refuse_non_empty(names)
        tag = uuid.uuid4().hex[:12]
        loaded = {}
        try:
            for name in names:
                loaded[name] = self._load(source, name, name + TEMPORARY + tag, manifest.collections[name])
        except BaseException:
            for name in names:
                self.db.drop_collection(name + TEMPORARY + tag)
            raise
        for name in names:
            self._rename(name + TEMPORARY + tag, name)
        return loaded

    def _refuse_non_empty(self, names: list[str]) -> None:
        full = [n for n in names if self.db[n].find_one({}, {"_id": 1}) is not None]
        if full:
            raise Conflito(
                f"{', '.join(full)} already hold documents in {self.db_name}: restore with --drop to replace them"
            )

    def _load(self, source: Path, name: str, temporary: str, expected: int) -> int:
        self.db.drop_collection(temporary)
        self._create_with_indexes(source / f"{name}.metadata.json", temporary)
        count = 0
        try:
            with open(source / f"{name}.bson", "rb") as f:
                batch = []
                for doc in bson.decode_file_iter(f, RAW):
                    batch.append(doc)
                    if len(batch) >= BATCH:
                        count += self._insert(temporary, batch)
                count += self._insert(temporary, batch)
        except BSONError as exc:
            raise InvalidBackup(f"{name}.bson: not valid BSON ({exc})") from None
        if count != expected:
            raise InvalidBackup(f"{name}.bson holds {count} documents, the manifest says {expected}")
        return count

    def _insert(self, collection: str, batch: list) -> int:
        if not batch:
            return 0
        # Ordered and acknowledged: it raises on the first document refused, so all went in.
        self.db[collection].insert_many(batch, ordered=True)
        n = len(batch)
        batch.clear()
        return n

    def _create_with_indexes(self, metadata: Path, collection: str) -> None:
        try:
            meta = json_util.loads(metadata.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidBackup(f"{metadata.name}: unreadable ({exc})") from None
        self.db.create_collection(collection, **(meta.get("options") or {}))
        # Built on the empty collection, before the documents: mongoeco builds an index over
        # existing data very slowly, and a unique index refuses a duplicate at once.
        specs = [{k: v for k, v in i.items() if k not in ("v", "ns")} for i in meta.get("indexes", [])]
        specs = [s for s in specs if s.get("name") != "_id_"]
        if specs:
            self.db.command(SON([("createIndexes", collection), ("indexes", specs)]))

    def _rename(self, source: str, target: str) -> None:
        command = SON([("renameCollection", f"{self.db_name}.{source}"), ("to", f"{self.db_name}.{target}")])
        command["dropTarget"] = True
        try:
            self.db.client.admin.command(command)
        except OperationFailure as exc:
            # mongoeco runs renameCollection on the database itself, MongoDB only on admin.
            if "current database" not in str(exc):
                raise
            self.db.command(command)


def _internal(name: str) -> bool:
    """system.* collections, and a restore's temporaries left by a crash."""
    return name.startswith("system.") or TEMPORARY in name
