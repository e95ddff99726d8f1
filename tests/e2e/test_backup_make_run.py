"""Under ``make run`` beat backs the embedded store up into ``var/backups`` by default; a
shell beside it finds them (``var/stack.env``), and one restores onto a fresh mongoeco."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from pymongo import MongoClient

from adapters.backups import FolderBackupFiles
from devstack import procs
from tests.e2e.conftest import base_env
from tests.e2e.test_launcher import start_launcher, stop_launcher
from tests.helpers import ROOT, http, wait_for
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e


def flask(env, *args):
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "backup", *args]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout


def test_make_run_backs_up_into_var_backups_and_the_backup_restores_elsewhere(tmp_path):
    var_dir = tmp_path / "var"
    ports = {"api_port": procs.free_port(), "mongo_port": procs.free_port(), "redis_port": procs.free_port()}
    server, url = start_launcher(tmp_path, var_dir, n=1, BACKUP_INTERVAL_S=2, **ports)
    files = FolderBackupFiles(var_dir / "backups")
    try:
        auth = {"Authorization": f"Bearer {register((var_dir / 'staff.key').read_text().strip())}"}
        body = {"nome": "Guardado", "preco": 12.34, "estoque": 3}
        assert http("POST", url + "/produtos", body=body, headers=auth)[0] == 201

        def backup_com_produto():
            names = files.names()
            return names and files.read_manifest(files.path(names[-1])).collections.get("produtos") == 1

        wait_for(backup_com_produto, timeout=90, interval=0.5, what="a backup by beat holding the product")
        listed = flask(base_env(PONTE_VAR_DIR=var_dir), "list")  # BACKUP_DIR from var/stack.env
        assert f"backups in {var_dir / 'backups'}" in listed and "verified" in listed
        newest = files.path(files.names()[-1])
    finally:
        stop_launcher(server)

    proc, uri = procs.start_mongo(procs.free_port(), engine="memory")
    try:
        flask(base_env(PONTE_ENV="test", MONGO_URI=uri, MONGO_DB="ecommerce"), "restore", newest)
        with MongoClient(uri, tz_aware=True) as fresco:
            produto = fresco.ecommerce.produtos.find_one({"nome": "Guardado"})
            assert produto["preco"].to_decimal() == Decimal("12.34") and produto["criado_em"].tzinfo is not None
    finally:
        procs.stop(proc)
