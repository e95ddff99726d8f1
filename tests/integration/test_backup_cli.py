"""``flask --app wsgi backup create|list|restore`` through Flask's CliRunner and, once, as a
real process, against the test's mongoeco database."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import base_env
from tests.helpers import ROOT
from tests.integration.test_backups import estado, mudar, semear


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["backup", *args], catch_exceptions=False)


def test_create_list_and_restore_with_the_cli(app, db, tmp_path):
    semear(db)
    antes = estado(db)
    criado = _run(app, "create", "--dir", str(tmp_path))
    assert criado.exit_code == 0, criado.output
    path = criado.output.split(":")[0]
    assert Path(path).parent == tmp_path and f"{db.name}, " in criado.output and "9 documents" in criado.output

    listado = _run(app, "list", "--dir", str(tmp_path))
    assert listado.exit_code == 0 and "verified" in listado.output and "9 documents" in listado.output

    mudar(db)
    recusado = _run(app, "restore", path)
    assert recusado.exit_code == 1 and "--drop" in recusado.output
    restaurado = _run(app, "restore", path, "--drop")
    assert restaurado.exit_code == 0, restaurado.output
    assert estado(db) == antes


def test_a_tampered_backup_is_refused_with_a_clear_error(app, db, tmp_path):
    semear(db)
    path = _run(app, "create", "--dir", str(tmp_path)).output.split(":")[0]
    arquivo = Path(path) / db.name / "pedidos.bson"
    data = bytearray(arquivo.read_bytes())
    data[-3] ^= 0xFF
    arquivo.write_bytes(bytes(data))
    mudar(db)
    depois = estado(db)

    recusado = _run(app, "restore", path, "--drop")
    assert recusado.exit_code == 1
    assert f"{db.name}/pedidos.bson: SHA-256 differs from the manifest (altered)" in recusado.output
    assert "nothing was restored" in recusado.output
    assert estado(db) == depois
    assert "NOT VERIFIED" in _run(app, "list", "--dir", str(tmp_path)).output


def test_without_a_folder_create_says_what_to_set(app):
    resultado = _run(app, "create")
    assert resultado.exit_code == 2 and "BACKUP_DIR" in resultado.output


def test_the_cli_as_a_real_process(app_config, db, tmp_path):
    semear(db)
    antes = estado(db)
    env = base_env(**{k: v for k, v in app_config.items() if k.isupper()}, BACKUP_DIR=tmp_path, BACKUP_KEEP=1)

    def flask(*args, check=True):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "backup", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=check,
        )  # fmt: skip

    primeiro = flask("create").stdout.split(":")[0]
    segundo = flask("create").stdout
    assert f"removed {Path(primeiro).name} (BACKUP_KEEP=1)" in segundo
    path = segundo.split(":")[0]
    mudar(db)
    flask("restore", path, "--drop")
    assert estado(db) == antes
    (Path(path) / db.name / "clientes.bson").write_bytes(b"\x00")
    recusado = flask("restore", path, "--drop", check=False)
    assert recusado.returncode == 1 and "clientes.bson: 1 bytes" in recusado.stderr


def test_beat_schedules_backups_only_when_backup_dir_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    monkeypatch.setenv("PONTE_VAR_DIR", str(tmp_path))  # no make run stack file
    assert "backup-mongodb" not in runpy.run_module("celeryconfig")["beat_schedule"]
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path))
    monkeypatch.setenv("BACKUP_INTERVAL_S", "3600")
    entry = runpy.run_module("celeryconfig")["beat_schedule"]["backup-mongodb"]
    assert entry == {"task": "tasks.backups.criar", "schedule": 3600.0, "options": {"expires": 3600.0}}
