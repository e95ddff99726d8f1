"""``make run``'s launcher: embedded MongoDB and Redis, every Procfile process, clean Ctrl-C.

The launcher runs with no MONGO_URI and no REDIS_URL, its data folder and preferred
ports moved to throwaway ones, so it starts mongoeco on SQLite and its own redis-server.
"""

import signal
import sys

import pytest
from celery import Celery

from devstack import procs
from tests.e2e.conftest import Server, base_env
from tests.helpers import alive, descendants, http, wait_for
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e


def start_launcher(tmp_path, var_dir, api_port, mongo_port, redis_port, n, **extra):
    env = base_env(
        PONTE_VAR_DIR=var_dir,
        API_PORT=api_port,
        PONTE_LOCAL_MONGO_PORT=mongo_port,
        PONTE_LOCAL_REDIS_PORT=redis_port,
        WEB_CONCURRENCY=1,
        FLOWER_PORT=procs.free_port(),
        **extra,
    )
    env.pop("FLOWER_BASIC_AUTH", None)
    server = Server([sys.executable, "-m", "devstack.run"], env, tmp_path / f"run{n}.log")
    server.flower_url = f"http://127.0.0.1:{env['FLOWER_PORT']}"
    url = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(lambda: http("GET", url + "/ready")[0] == 200, timeout=60, what="launcher /ready")
    except AssertionError:
        server.close()
        raise AssertionError(server.output()) from None
    return server, url


def stop_launcher(server, seen=frozenset(), sig=signal.SIGINT):
    """Ctrl-C (or ``sig``): exit 0, and none of its processes (nor any in ``seen``) left."""
    family = descendants(server.proc.pid) | set(seen)
    assert family, "the launcher started no process"
    server.signal(sig)  # SIGINT: what Ctrl-C sends
    code = server.wait(timeout=90)
    wait_for(lambda: not any(alive(pid) for pid in family), timeout=30, what="every child to exit")
    server.close()
    assert code == 0, f"the launcher exited {code} after Ctrl-C:\n{server.output()[-3000:]}"
    return server.output()


def test_run_command_starts_everything_keeps_data_and_stops_cleanly(tmp_path):
    var_dir = tmp_path / "var"
    ports = {"api_port": procs.free_port(), "mongo_port": procs.free_port(), "redis_port": procs.free_port()}

    server, url = start_launcher(tmp_path, var_dir, n=1, **ports)
    try:
        # First run: an admin key was created in var/staff.key (owner-only), never printed.
        key_file = var_dir / "staff.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        key = register(key_file.read_text().strip())
        register((var_dir / "flower.auth").read_text().strip().split(":", 1)[1])
        register((var_dir / "secret.key").read_text().strip())
        assert key not in server.output() and "staff.key" in server.output()
        auth = {"Authorization": f"Bearer {key}"}
        body = {"nome": "Persistente", "preco": 1, "estoque": 1}
        assert http("POST", url + "/produtos", body=body)[0] == 401
        status, _, criado = http("POST", url + "/produtos", body=body, headers=auth)
        assert status == 201
        # The bridge of the Procfile turns the CRM's message into a visible product.
        import redis

        from tests.helpers import JAVA_EVENTS

        # The embedded Redis has production's users: Ponte's processes are `ponte`, the CRM `crm`.
        passwords = dict(line.split("=", 1) for line in (var_dir / "redis-acl" / "redis-users.env").read_text().split())
        for password in passwords.values():
            register(password)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=ports["redis_port"]).get("x")  # the default user is off
        r = redis.Redis(port=ports["redis_port"], username="ponte", password=passwords["ponte"])
        crm = redis.Redis.from_url((var_dir / "redis-crm.url").read_text().strip())
        wait_for(lambda: r.pubsub_numsub("produtos")[0][1] >= 1, timeout=30, what="bridge subscribed")
        crm.publish("produtos", (JAVA_EVENTS / "produtos-criado-id0.json").read_bytes())
        visible = wait_for(lambda: http("GET", url + "/produtos?q=notebook")[2], timeout=10, what="CRM product")
        assert visible[0]["nome"] == "Notebook Gamer"
        # Flower, behind basic auth, shows the worker and every queue it consumes.
        import base64

        assert wait_for(lambda: http("GET", server.flower_url + "/")[0] == 401, timeout=30, what="flower up")
        basic = {
            "Authorization": "Basic "
            + base64.b64encode((var_dir / "flower.auth").read_text().strip().encode()).decode()
        }
        assert http("GET", server.flower_url + "/", headers=basic)[0] == 200
        # Flower leaves these two open even with auth on; Ponte's flowerconfig.py closes them.
        for path in ("/metrics", "/healthcheck"):
            assert http("GET", server.flower_url + path)[0] == 401, path
            assert http("GET", server.flower_url + path, headers=basic)[0] == 200, path

        def filas():
            status, _, workers = http("GET", server.flower_url + "/api/workers?refresh=1", headers=basic, timeout=20)
            nomes = {q["name"] for w in (workers or {}).values() for q in w.get("active_queues", [])}
            return nomes if status == 200 else set()

        assert wait_for(lambda: {"default", "sync", "pagamentos", "envios"} <= filas(), timeout=60, what="queues")
        # The Celery worker of the Procfile is up on the launcher's Redis.
        celery = Celery(broker=f"redis://ponte:{passwords['ponte']}@127.0.0.1:{ports['redis_port']}/0")
        assert wait_for(lambda: celery.control.ping(timeout=1.0), timeout=30, what="celery worker ping")
        assert http("GET", url + "/docs")[0] == 200
    finally:
        output = stop_launcher(server)
    assert "embedded MongoDB stand-in" in output and "embedded redis-server" in output
    for port in ports.values():
        assert procs.port_is_free(port), f"port {port} still in use after Ctrl-C"
    assert (var_dir / "mongo" / "ponte.sqlite").exists()
    assert (var_dir / "secret.key").stat().st_mode & 0o777 == 0o600

    server, url = start_launcher(tmp_path, var_dir, n=2, **ports)
    try:
        status, _, lido = http("GET", url + f"/produtos/{criado['id']}")
        assert status == 200 and lido["nome"] == "Persistente"
        # Same key file, same data: the key still works and is not printed again.
        assert http("PATCH", url + f"/produtos/{criado['id']}", body={"estoque": 2}, headers=auth)[0] == 200
        assert key not in server.output()
    finally:
        stop_launcher(server)


def test_run_command_uses_a_redis_already_answering(tmp_path, redis_proprio):
    # A developer's own Redis, open on the preferred port: used as it is.
    redis_port = redis_proprio.connection_pool.connection_kwargs["port"]
    server, url = start_launcher(tmp_path, tmp_path / "var", procs.free_port(), procs.free_port(), redis_port, n=1)
    try:
        assert http("GET", url + "/ready")[0] == 200
    finally:
        output = stop_launcher(server, sig=signal.SIGTERM)  # as a service manager stops it
    assert "SIGTERM: stopping every process" in output
    assert f"using the Redis already answering on 127.0.0.1:{redis_port}" in output
    assert procs.redis_answers("127.0.0.1", redis_port), "the launcher must not stop a Redis it did not start"


def test_run_command_starts_its_own_redis_beside_one_that_wants_credentials(tmp_path, redis_url):
    # The session's Redis has ACL users (default off): without credentials it is of no use.
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    server, url = start_launcher(tmp_path, tmp_path / "var", procs.free_port(), procs.free_port(), redis_port, n=1)
    try:
        assert http("GET", url + "/ready")[0] == 200
    finally:
        output = stop_launcher(server)
    assert f"127.0.0.1:{redis_port} wants credentials" in output and "embedded redis-server" in output
    assert procs.redis_answers("127.0.0.1", redis_port), "the launcher must not stop a Redis it did not start"
