"""Backup task (queue ``default``): beat calls it every ``BACKUP_INTERVAL_S`` when
``BACKUP_DIR`` is set. Thin: the service dumps, writes the manifest and rotates."""

from __future__ import annotations

import logging

from adapters.backups import FolderBackupFiles, ponte_version
from services import backups
from services.common import agora
from tasks import app, resources

logger = logging.getLogger(__name__)


# Acknowledged on receipt: a backup can outlast the broker's visibility timeout, and a second
# copy started beside a running one would double the load; one lost to a killed worker is
# simply the next interval's.
@app.task(name="tasks.backups.criar", acks_late=False)
def criar() -> str | None:
    cfg = resources.cfg()
    if not cfg["BACKUP_DIR"]:
        logger.warning("backup: BACKUP_DIR is not set on this worker; nothing written")
        return None
    files = FolderBackupFiles(cfg["BACKUP_DIR"])
    database = resources.get().database_dump()
    feito = backups.criar(files, database, agora(), ponte_version(), cfg["BACKUP_KEEP"])
    logger.info(
        "backup %s: %d documents in %d collections, %d bytes; %d old backups removed",
        feito.path,
        feito.manifest.documents,
        len(feito.manifest.collections),
        feito.manifest.size,
        len(feito.removidos),
    )
    return feito.path
