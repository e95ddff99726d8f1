"""Redis over TLS (``rediss://``) with the shipped ACL file: a real redis-server with
``--tls-port``, certificates made here with openssl (a CA, the server's for 127.0.0.1,
a client's), and every kind of Redis client Ponte has: redis-py (``RedisConnector``,
``redis_from_settings``), the Celery broker (``broker_use_ssl``) and the rate limiter."""

from __future__ import annotations

import runpy
import shutil
import ssl
import subprocess
import time

import pytest
import redis

import settings
from adapters.despachante import celery_produtor
from adapters.redis_client import celery_broker_ssl, redis_from_settings, tls_options
from deploy import redis_acl
from devstack import procs

PONTE_PASSWORD = "ponte-tls-password-0123456789"
PASSWORDS = {
    redis_acl.PONTE: PONTE_PASSWORD,
    redis_acl.CRM: "crm-tls-password-0123456789",
    redis_acl.CRM_PEDIDOS: "crm-pedidos-tls-password-0123",
}


def _openssl(*args, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(folder) -> None:
    """ca.pem, then server.pem (for 127.0.0.1 and localhost) and client.pem, both signed by it.
    The extensions are what Python 3.13's strict verification (VERIFY_X509_STRICT) asks of a
    chain: a critical CA basicConstraints, key identifiers, key usages."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=ponte-test-ca", "-days", "1",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    common = (
        "basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid,issuer\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    (folder / "server.cnf").write_text(
        common + "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    (folder / "client.cnf").write_text(common + "extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "1", "-out", f"{name}.pem", "-extfile", f"{name}.cnf", cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory):
    """redis-server on a TLS port only, clients must show a certificate, ACL users loaded."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("redis-tls")
    _certificates(folder)
    acl = redis_acl.write(folder / "users.acl", PASSWORDS)
    port = procs.free_port()
    log = open(folder / "redis.log", "w")
    proc = subprocess.Popen(
        [procs.redis_binary(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(folder / "server.pem"), "--tls-key-file", str(folder / "server.key"),
         "--tls-ca-cert-file", str(folder / "ca.pem"), "--tls-auth-clients", "yes",
         "--aclfile", str(acl), "--save", "", "--appendonly", "no"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    env = {
        "REDIS_URL": f"rediss://{redis_acl.PONTE}:{PONTE_PASSWORD}@127.0.0.1:{port}/0",
        "REDIS_TLS_CA_FILE": str(folder / "ca.pem"),
        "REDIS_TLS_CERTFILE": str(folder / "client.pem"),
        "REDIS_TLS_KEYFILE": str(folder / "client.key"),
    }
    try:
        _wait_ready(proc, settings.load(env), folder)
        yield env
    finally:
        procs.stop(proc)
        log.close()


def _wait_ready(proc, cfg, folder) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            if redis_from_settings(cfg, socket_timeout=1).ping():
                return
        except redis.RedisError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (folder / "redis.log").read_text()[-2000:]
            if "TLS" in tail and "not" in tail and "support" in tail:
                pytest.skip("this redis-server was built without TLS")
            raise RuntimeError(f"redis-server with TLS did not start:\n{tail}")
        time.sleep(0.1)


def test_ponte_reaches_redis_over_verified_tls_as_its_acl_user(tls_redis):
    cfg = settings.load(tls_redis)
    client = redis_from_settings(cfg)
    assert client.acl_whoami() == redis_acl.PONTE
    assert client.connection_pool.connection_class is redis.SSLConnection
    client.close()


def test_the_server_certificate_is_verified_and_the_client_certificate_presented(tls_redis):
    no_ca = settings.load({**tls_redis, "REDIS_TLS_CA_FILE": ""})  # the system's CAs do not know ours
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        redis_from_settings(no_ca, socket_timeout=2).ping()
    no_client_cert = settings.load({**tls_redis, "REDIS_TLS_CERTFILE": "", "REDIS_TLS_KEYFILE": ""})
    with pytest.raises(redis.RedisError):  # tls-auth-clients yes: the handshake fails
        redis_from_settings(no_client_cert, socket_timeout=2).ping()


def test_the_celery_broker_publishes_over_tls_with_the_ca_and_client_certificate(tls_redis):
    cfg = settings.load(tls_redis)
    produtor = celery_produtor(cfg["REDIS_URL"], celery_broker_ssl(cfg))
    assert produtor.conf.broker_use_ssl["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    produtor.send_task("tasks.nenhuma", queue="tls-check")
    client = redis_from_settings(cfg)
    assert client.llen("tls-check") == 1
    client.delete("tls-check")
    client.close()


def test_celeryconfig_gives_the_worker_the_tls_files(tls_redis, monkeypatch):
    # What `celery -A tasks worker` reads: the module, loaded from this environment.
    for key, value in tls_redis.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PONTE_ENV", "test")
    config = runpy.run_module("celeryconfig")
    assert config["broker_url"] == tls_redis["REDIS_URL"]
    assert config["broker_use_ssl"] == {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_check_hostname": True,
        "ssl_ca_certs": tls_redis["REDIS_TLS_CA_FILE"],
        "ssl_certfile": tls_redis["REDIS_TLS_CERTFILE"],
        "ssl_keyfile": tls_redis["REDIS_TLS_KEYFILE"],
    }
    # Without rediss:// nothing changes: plain redis:// gets no TLS options at all.
    assert celery_broker_ssl({"REDIS_URL": "redis://r:6379/0"}) is None
    assert tls_options({"REDIS_URL": "redis://r:6379/0", "REDIS_TLS_CA_FILE": "x"}) == {}


def test_the_api_and_its_rate_limiter_use_redis_over_tls(tls_redis, mongo_uri, db_name):
    from webapp import create_app

    app = create_app({"PONTE_ENV": "test", "MONGO_URI": mongo_uri, "MONGO_DB": db_name, **tls_redis})
    try:
        resp = app.test_client().get("/ready")
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["dependencias"]["redis"] == "ok"
        # A rate-limited route: Flask-Limiter's counter lives in the same Redis, over TLS.
        assert app.test_client().post("/auth/login", json={}).status_code in (400, 401, 422)
        client = redis_from_settings(settings.load(tls_redis))
        assert any(b"LIMITS" in key or b"limit" in key.lower() for key in client.scan_iter(count=1000))
        client.close()
    finally:
        app.extensions["ponte"].close()
