"""Fixtures that run Ponte's real processes (gunicorn, celery, the launcher)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

import pytest
import redis as redis_lib

from adapters import contrato, publicador
from deploy import redis_acl
from devstack import procs, redis_users
from tests.helpers import ROOT, http, wait_for
from tests.secrets_audit import register

TEST_SECRET = "e2e-secret-key-that-is-long-enough-for-production-mode"

pytestmark = pytest.mark.e2e


def base_env(**extra) -> dict[str, str]:
    """A clean environment: the caller decides every Ponte setting explicitly (tracing too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_", "OTEL_"))}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _redis_caiu(exc, _pubsub, _thread) -> None:
    """A drill restarts Redis under the listener: it reconnects and resubscribes by itself."""
    if not isinstance(exc, redis_lib.ConnectionError):
        raise exc
    time.sleep(0.1)  # not a synchronisation: the pace of reconnection attempts


class OuvintePedidos:
    """Every message Ponte publishes on ``pedidos`` during the e2e run, from each Redis
    the suite starts, to check against the contract at the end."""

    def __init__(self):
        self.mensagens: list[bytes] = []

    def ouvir(self, client: redis_lib.Redis):
        """Subscribe (confirmed before returning); return what stops listening."""
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(**{publicador.CANAL: lambda m: self.mensagens.append(m["data"])})
        thread = pubsub.run_in_thread(sleep_time=0.05, daemon=True, exception_handler=_redis_caiu)
        wait_for(lambda: client.pubsub_numsub(publicador.CANAL)[0][1] >= 1, what="subscribed to pedidos")

        def parar():
            thread.stop()
            thread.join(timeout=10)
            pubsub.close()

        return parar


@pytest.fixture(scope="session", autouse=True)
def pedidos_publicados(request, redis_url):
    """The contract holds for what Ponte really publishes: every ``pedidos`` message of the
    run validates against its schema, and a run with the payment tests saw some."""
    ouvinte = OuvintePedidos()
    client = redis_lib.Redis.from_url(redis_url)
    parar = ouvinte.ouvir(client)
    yield ouvinte
    parar()
    client.close()
    recusadas = [(m, v.motivo) for m in ouvinte.mensagens if not (v := contrato.validar("pedidos", m)).aceita]
    assert recusadas == [], "pedidos messages outside the contract"
    if any(item.path.name == "test_pagamentos.py" for item in request.session.items):
        assert ouvinte.mensagens, "the payment tests published nothing on pedidos"


class Server:
    """A process we started, stopped by PID only."""

    def __init__(self, cmd: list[str], env: dict[str, str], log_path, cwd=ROOT):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 60, status: int = 200):
        """Poll ``url`` until it answers ``status``; fail at once, with the log, if we died."""

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"process exited with {self.proc.returncode}:\n{self.output()}")
            return http("GET", url)[0] == status

        try:
            wait_for(ready, timeout=timeout, what=url)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.output()}") from None

    def signal(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            procs.stop(self.proc, timeout=15)
        self.log.close()


def create_key_with_cli(env: dict[str, str], *scopes: str) -> str:
    """``flask --app wsgi keys create``, exactly as an operator runs it."""
    args = [a for s in (scopes or ("admin",)) for a in ("--scope", s)]
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "create", "--name", "e2e", *args, "--quiet"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return register(result.stdout.strip())


def start_gunicorn(mongo_uri, redis_url, db_name, tmp_path, **extra) -> Server:
    """A real gunicorn serving Ponte in production mode on a free port."""
    port = procs.free_port()
    settings = {
        "MONGO_URI": mongo_uri,
        "MONGO_DB": db_name,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"test:{db_name}",
        "API_PORT": port,
        "WEB_CONCURRENCY": 2,
        "PONTE_ENV": "production",
        # The throwaway stores have no users (mongoeco supports none): production would
        # refuse their credential-less URLs otherwise.
        "TRUSTED_NETWORK": "true",
        "SECRET_KEY": TEST_SECRET,
        "METRICS_DIR": tmp_path / "metrics",
    }
    env = base_env(**(settings | extra))
    server = Server([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env, tmp_path / "web.log")
    server.url = f"http://127.0.0.1:{port}"
    try:
        server.key = create_key_with_cli(env)
        server.auth = {"Authorization": f"Bearer {server.key}"}
        server.wait_http(server.url + "/health")
    except BaseException:
        server.close()
        raise
    return server


@pytest.fixture
def gunicorn(mongo_uri, redis_url, db_name, tmp_path):
    """A real gunicorn (2 workers) serving Ponte on a free port."""
    server = start_gunicorn(mongo_uri, redis_url, db_name, tmp_path)
    try:
        yield server
    finally:
        server.close()


class Pipeline:
    """Real Celery workers and bridges on their own redis-server, MongoDB through MONGO_URI."""

    def __init__(self, tmp_path, mongo_uri: str, db_name: str):
        import redis as redis_lib

        self.tmp_path = tmp_path
        self.redis_port = procs.free_port()
        self.redis_log = open(tmp_path / "redis.log", "w")
        self.acl_file, passwords = redis_users.prepare(tmp_path / "redis-acl")
        # The drills' own user, for what no principal of production may do (FLUSHALL).
        admin_password = register(secrets.token_urlsafe(24))
        with open(self.acl_file, "a") as f:
            f.write(f"user test-admin on >{admin_password} ~* &* +@all\n")
        for password in passwords.values():
            register(password)
        self.redis_proc = self.start_redis()
        # Ponte's processes as the ``ponte`` user; the test publishes as the CRM does, as ``crm``.
        self.redis_url = redis_users.url(redis_acl.PONTE, passwords[redis_acl.PONTE], self.redis_port)
        self.redis = redis_lib.Redis.from_url(self.redis_url)
        self.crm = redis_lib.Redis.from_url(redis_users.url(redis_acl.CRM, passwords[redis_acl.CRM], self.redis_port))
        self.admin = redis_lib.Redis.from_url(redis_users.url("test-admin", admin_password, self.redis_port))
        self.mongo_uri, self.db_name = mongo_uri, db_name
        self.servers: list[Server] = []
        self._app = None

    def start_redis(self):
        """This pipeline's redis-server, empty (no persistence): also to restart it as new."""
        return procs.start_redis(self.redis_port, log=self.redis_log, acl_file=str(self.acl_file))

    def env(self, **extra) -> dict[str, str]:
        return base_env(
            MONGO_URI=self.mongo_uri,
            MONGO_DB=self.db_name,
            MONGO_TIMEOUT_MS=1000,
            REDIS_URL=self.redis_url,
            REDIS_PREFIX="e2e",
            BRIDGE_LOCK_TTL_MS=2000,
            SYNC_RETRY_MAX_S=2,
            ARGON2_MEMORY_KIB=1024,
            ARGON2_TIME_COST=1,
            METRICS_DIR=self.tmp_path / "metrics",
            **extra,
        )

    def start_worker(self, concurrency: int = 2, name: str = "w", **extra) -> Server:
        cmd = [
            *(sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "default,sync,pagamentos,envios"),
            *("-c", str(concurrency), "--loglevel=INFO", "--without-mingle", "--without-gossip"),
            *("-n", f"{name}-{len(self.servers)}@%h"),
        ]
        server = Server(cmd, self.env(**extra), self.tmp_path / f"worker{len(self.servers)}.log")
        self.servers.append(server)
        self._wait_log(server, "ready.")
        return server

    def start_bridge(self, wait_leader: bool = True, **extra) -> Server:
        server = Server(
            [sys.executable, "-m", "bridge"], self.env(**extra), self.tmp_path / f"bridge{len(self.servers)}.log"
        )
        self.servers.append(server)
        self._wait_log(server, "started")
        if wait_leader:
            self._wait_log(server, "is the leader")
            self.wait(lambda: self.redis.pubsub_numsub("produtos")[0][1] >= 1, what="bridge subscribed")
        return server

    def _wait_log(self, server: Server, text: str, timeout: float = 60) -> None:
        def seen():
            if server.proc.poll() is not None:
                raise AssertionError(f"process exited {server.proc.returncode}:\n{server.output()[-3000:]}")
            return text in server.output()

        self.wait(seen, timeout=timeout, what=f"{text!r} in the log")

    @staticmethod
    def wait(predicate, timeout: float = 60, what: str = "condition"):
        from tests.helpers import wait_for

        return wait_for(predicate, timeout=timeout, interval=0.1, what=what)

    @property
    def app(self):
        """A Flask app on the same database and Redis: reads go through the real API."""
        if self._app is None:
            from webapp import create_app

            self._app = create_app(
                {
                    "PONTE_ENV": "test",
                    "MONGO_URI": self.mongo_uri,
                    "MONGO_DB": self.db_name,
                    "REDIS_URL": self.redis_url,
                    "REDIS_PREFIX": "e2e",
                    "RATELIMIT_ENABLED": False,
                }
            )
        return self._app

    def api_get(self, path: str):
        return self.app.test_client().get(path).get_json()

    def stats(self) -> dict[str, int]:
        return {k.decode(): float(v) for k, v in self.redis.hgetall("e2e:bridge:stats").items()}

    def close(self) -> None:
        for server in self.servers:
            server.close()
        if self._app is not None:
            self._app.extensions["ponte"].close()
        self.redis.close()
        self.crm.close()
        self.admin.close()
        procs.stop(self.redis_proc)
        self.redis_log.close()


@pytest.fixture
def pipeline(tmp_path, mongo_uri, db_name, pedidos_publicados):
    p = Pipeline(tmp_path, mongo_uri, db_name)
    parar = pedidos_publicados.ouvir(p.redis)
    try:
        yield p
    finally:
        parar()
        p.close()
