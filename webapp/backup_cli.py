"""``flask --app wsgi backup create|restore|list``: backups of MongoDB in mongodump's layout.

They work on whatever ``MONGO_URI``/``MONGO_DB`` name (the embedded mongoeco or a real
MongoDB); see docs/operations.md, *Back up MongoDB*.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from adapters.backups import FolderBackupFiles, MongoDatabaseDump, ponte_version
from domain.errors import DomainError
from services import backups
from services.common import agora

backup = AppGroup("backup", help="Backups of MongoDB (mongodump's layout, with a checksummed manifest).")


def _resources():
    return current_app.extensions["ponte"]


def _folder(folder: str | None) -> FolderBackupFiles:
    folder = folder or _resources().cfg["BACKUP_DIR"]
    if not folder:
        raise click.UsageError("no backup folder: pass --dir or set BACKUP_DIR")
    return FolderBackupFiles(folder)


def _database() -> MongoDatabaseDump:
    return _resources().database_dump()


@backup.command("create")
@click.option("--dir", "folder", help="Folder of the backups (default: BACKUP_DIR).")
def create(folder: str | None):
    """Write a backup of MONGO_DB; then keep only the newest BACKUP_KEEP backups."""
    files = _folder(folder)
    feito = backups.criar(files, _database(), agora(), ponte_version(), _resources().cfg["BACKUP_KEEP"])
    m = feito.manifest
    click.echo(f"{feito.path}: {m.db}, {len(m.collections)} collections, {m.documents} documents, {m.size} bytes")
    for old in feito.removidos:
        click.echo(f"removed {old} (BACKUP_KEEP={_resources().cfg['BACKUP_KEEP']})")


@backup.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--drop", is_flag=True, help="Replace collections that already hold documents.")
def restore(path: str, drop: bool):
    """Verify the backup at PATH against its manifest, then restore it into MONGO_DB: every
    collection, or (on any error) none."""
    database = _database()
    try:
        manifest, counts = backups.restaurar(FolderBackupFiles(path), database, path, replace=drop)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"restored {path} (taken {manifest.created_at.isoformat()} from {manifest.db}) into {database.db_name}: "
        f"{len(counts)} collections, {sum(counts.values())} documents"
    )


@backup.command("list")
@click.option("--dir", "folder", help="Folder of the backups (default: BACKUP_DIR).")
def list_(folder: str | None):
    """List the backups, oldest first, each checked against its manifest."""
    resumos = backups.listar(_folder(folder))
    for r in resumos:
        m = r.manifest
        state = "verified" if not r.problems else "NOT VERIFIED: " + "; ".join(r.problems)
        if m is None:
            click.echo(f"{r.name}  {state}")
            continue
        click.echo(
            f"{r.name}  {m.created_at.isoformat()}  {m.db}  {len(m.collections)} collections  "
            f"{m.documents} documents  {m.size} bytes  {state}"
        )
    click.echo(f"{len(resumos)} backups in {_folder(folder).root}")
