"""Backups of the database: make one (and rotate), restore one, list them.

The files and the database are ports (``domain.ports.BackupFiles``/``DatabaseDump``); a
restore verifies every checksum of the manifest before it touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.backups import InvalidBackup, Manifest, backup_name, check, problems, to_rotate
from domain.ports import BackupFiles, DatabaseDump


@dataclass(frozen=True)
class Criado:
    path: str
    manifest: Manifest
    removidos: list[str]


@dataclass(frozen=True)
class Resumo:
    """One backup as ``backup list`` shows it: its manifest (None if unreadable) and what
    does not match it (empty: verified)."""

    name: str
    path: str
    manifest: Manifest | None
    problems: list[str]


def criar(files: BackupFiles, database: DatabaseDump, agora: datetime, version: dict, keep: int) -> Criado:
    """Dump the database into a new backup, then keep only the newest ``keep`` backups."""
    name = backup_name(agora)
    path = files.start(name)
    try:
        counts = database.dump(path)
        manifest = Manifest(database.db_name, agora, files.measure(path), counts, version)
        files.write_manifest(path, manifest)
    except BaseException:
        files.abandon(name)
        raise
    final = files.finish(name)
    removidos = to_rotate(files.names(), keep)
    for old in removidos:
        files.remove(old)
    return Criado(final, manifest, removidos)


def restaurar(files: BackupFiles, database: DatabaseDump, path: str, replace: bool) -> tuple[Manifest, dict[str, int]]:
    """Check every file against the manifest first; then restore all collections or none."""
    manifest = files.read_manifest(path)
    check(manifest, files.measure(path))
    return manifest, database.restore(path, manifest, replace)


def listar(files: BackupFiles) -> list[Resumo]:
    resumos = []
    for name in files.names():
        path = files.path(name)
        try:
            manifest = files.read_manifest(path)
        except InvalidBackup as exc:
            resumos.append(Resumo(name, path, None, [exc.message]))
            continue
        resumos.append(Resumo(name, path, manifest, problems(manifest, files.measure(path))))
    return resumos
