"""A password inside MONGO_URI or REDIS_URL never leaves the process: not in the log lines
of a connection that fails, nor in ``/ready``, ``/metrics`` or a 503's body.

The stores here are unreachable (a free port) or refuse the password (a real redis-server
with the shipped ACL file), which is when a URL is most likely to end up in an error. The
module's ``*PASSWORD*`` constants are also audited in every log of the suite
(``tests/secrets_audit.py``)."""

from __future__ import annotations

import logging
import subprocess

import pytest

from deploy import redis_acl
from devstack import procs
from tests.conftest import FAST_ARGON2, make_key
from webapp import create_app

MONGO_PASSWORD = "m0ngo-uri-password-never-shown"
REDIS_PASSWORD = "r3dis-uri-password-never-shown"


def _app(mongo_uri: str, redis_url: str, db_name: str):
    cfg = {"PONTE_ENV": "test", "MONGO_URI": mongo_uri, "MONGO_DB": db_name, "REDIS_URL": redis_url}
    return create_app({**cfg, "MONGO_TIMEOUT_MS": 300, "REDIS_PREFIX": f"test:{db_name}", **FAST_ARGON2})


def _assert_nowhere(*texts: str) -> None:
    for text in texts:
        assert MONGO_PASSWORD not in text and REDIS_PASSWORD not in text, text[:500]


def _logged(caplog) -> str:
    """What was logged, raw (before Ponte's redaction) and as the handlers render it."""
    formatter = logging.Formatter("%(message)s")
    return "\n".join(f"{r.getMessage()} {formatter.format(r)}" for r in caplog.records)


@pytest.fixture
def acl_redis(tmp_path):
    """A redis-server that knows only the ACL file's users (default off)."""
    acl = redis_acl.write(tmp_path / "users.acl", {user: "x" * 24 for user in redis_acl.PASSWORD_VARIABLES})
    port = procs.free_port()
    cmd = [procs.redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--aclfile", str(acl)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from tests.helpers import wait_for

        wait_for(lambda: procs.redis_answers("127.0.0.1", port), timeout=10, what="redis-server with ACL")
        yield port
    finally:
        procs.stop(proc)


def test_unreachable_mongo_with_a_password_shows_it_nowhere(redis_url, db_name, caplog):
    caplog.set_level(logging.DEBUG)
    mongo_uri = f"mongodb://ponte:{MONGO_PASSWORD}@127.0.0.1:{procs.free_port()}/ecommerce?directConnection=true"
    app = _app(mongo_uri, redis_url, db_name)
    try:
        client = app.test_client()
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.get_json()["dependencias"]["mongo"] == "indisponivel"
        # A route that needs MongoDB: the 503 error body, and what the handler logged.
        produtos = client.get("/produtos")
        assert produtos.status_code == 503
        _assert_nowhere(ready.get_data(as_text=True), produtos.get_data(as_text=True), _logged(caplog))
        assert "MongoDB unavailable" in _logged(caplog)  # the failure itself was logged
    finally:
        app.extensions["ponte"].close()


def test_redis_refusing_or_unreachable_shows_its_password_nowhere(mongo_uri, db_name, acl_redis, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = f"redis://ponte:{REDIS_PASSWORD}@127.0.0.1:{acl_redis}/0"  # WRONGPASS
    gone = f"rediss://ponte:{REDIS_PASSWORD}@127.0.0.1:{procs.free_port()}/0"
    for redis_url in (wrong, gone):
        app = _app(mongo_uri, redis_url, db_name)
        try:
            anon = app.test_client()
            ready = anon.get("/ready")
            assert ready.status_code == 503 and ready.get_json()["dependencias"]["redis"] == "indisponivel"
            staff = app.test_client()
            staff.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(app, ('metrics:read',))}"
            metrics = staff.get("/metrics")
            assert metrics.status_code == 200
            # The login route counts attempts in Redis: 503 when Redis refuses us.
            login = anon.post("/auth/login", json={"email": "a@b.example", "senha": "Qualquer-1"})
            assert login.status_code == 503, login.get_json()
            texts = [ready.get_data(as_text=True), metrics.get_data(as_text=True), login.get_data(as_text=True)]
            _assert_nowhere(*texts, _logged(caplog))
        finally:
            app.extensions["ponte"].close()
    assert "readiness: redis unavailable" in _logged(caplog)
