"""A backup made by beat (a real ``celery beat`` and worker, from their Procfile lines)
appears in BACKUP_DIR, is rotated to BACKUP_KEEP, and restores onto a fresh embedded store
with ``flask --app wsgi backup restore``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pymongo import MongoClient

from adapters.backups import FolderBackupFiles
from devstack import procs
from tests.e2e.test_procfile_signals import run
from tests.helpers import ROOT
from tests.integration.test_backups import estado, semear

pytestmark = pytest.mark.e2e


def test_a_backup_made_by_beat_restores_onto_a_fresh_embedded_store(pipeline, mongo_client, tmp_path):
    origem = mongo_client[pipeline.db_name]
    semear(origem)
    antes = estado(origem)
    pasta = tmp_path / "backups"
    backup = {"BACKUP_DIR": pasta, "BACKUP_INTERVAL_S": 1, "BACKUP_KEEP": 2}
    worker = run(pipeline, "worker", WORKER_QUEUES="default", WORKER_CONCURRENCY=1, **backup)
    beat = run(pipeline, "beat", PONTE_VAR_DIR=tmp_path, **backup)
    # Three backups made: the first was rotated away, two remain.
    pipeline.wait(lambda: worker.output().count("old backups removed") >= 3, what="three backups by beat")
    # Stopped first: at one backup a second with BACKUP_KEEP=2, rotation would delete the
    # backup being restored under the restore's feet.
    beat.close()
    worker.close()
    files = FolderBackupFiles(pasta)
    assert len(files.names()) == 2
    assert "1 old backups removed" in worker.output()

    proc, uri = procs.start_mongo(procs.free_port(), engine="memory")
    try:
        env = {**pipeline.env(PONTE_ENV="test"), "MONGO_URI": uri, "MONGO_DB": "ecommerce"}
        restaurado = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "backup", "restore", files.path(files.names()[-1])],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert restaurado.returncode == 0, restaurado.stderr
        assert f"from {pipeline.db_name}) into ecommerce" in restaurado.stdout
        with MongoClient(uri, tz_aware=True) as fresco:
            assert estado(fresco["ecommerce"]) == antes
    finally:
        procs.stop(proc)
