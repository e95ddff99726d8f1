"""The composition root (``bootstrap.py``): it builds every entrypoint's resources without
connecting to anything, it is the one hasher every process shares, and it imports no
entrypoint (import-linter takes no single-file module as a root, so this checks it)."""

from __future__ import annotations

import ast

from celery import Celery

import bootstrap
import settings
from tests.conftest import FAST_ARGON2
from tests.helpers import ROOT

# Nothing listens on port 1: a client that tried to connect would fail at once.
NOWHERE = {"MONGO_URI": "mongodb://127.0.0.1:1", "MONGO_TIMEOUT_MS": 200, "REDIS_URL": "redis://127.0.0.1:1/0"}


def _cfg(**extra):
    return settings.load(environ={}, overrides={"PONTE_ENV": "test", **NOWHERE, **FAST_ARGON2, **extra})


def test_every_entrypoint_is_built_with_its_stores_down():
    """Clients are made on first use, in the process that uses them (after any fork)."""
    cfg = _cfg()
    web, worker = bootstrap.for_web(cfg), bootstrap.for_worker(cfg, Celery("ponte-test", set_as_current=False))
    parts = bootstrap.for_bridge(cfg)
    presence = bootstrap.presence(cfg, timeout_s=1)
    assert (web.cfg, worker.cfg) == (cfg, cfg)  # and no connection tried: it would have failed
    for res in (web, worker):
        res.close()
    parts.redis.close()
    presence.close()


def test_a_crm_password_hashed_by_the_bridge_is_checked_by_the_api():
    cfg = _cfg(SECRET_KEY="bootstrap-test-secret")
    hash_senha = bootstrap.for_bridge(cfg).hash_senha
    senha_hash = hash_senha("s3nha-do-crm", "java:7")
    assert hash_senha("s3nha-do-crm", "java:7") == senha_hash  # a resend tells itself from a change
    assert bootstrap.for_web(cfg).hasher.verify(senha_hash, "s3nha-do-crm")
    assert (
        bootstrap.password_hasher(_cfg(SECRET_KEY="another")).hash_for_account("s3nha-do-crm", "java:7") != senha_hash
    )


def test_the_composition_root_imports_no_entrypoint():
    arvore = ast.parse((ROOT / "bootstrap.py").read_text())
    nomes = {a.name for n in ast.walk(arvore) if isinstance(n, ast.Import) for a in n.names}
    nomes |= {n.module for n in ast.walk(arvore) if isinstance(n, ast.ImportFrom) and n.module}
    assert {nome.split(".")[0] for nome in nomes}.isdisjoint({"webapp", "tasks", "bridge", "devstack"})
