"""``make run``: the embedded default, then every process of the Procfile.

With no ``MONGO_URI`` it starts mongoeco on SQLite (data under ``var/mongo``, kept
across restarts); with no ``REDIS_URL``/``REDIS_HOST`` and nothing answering on
localhost:6379 it starts redis-server (AOF under ``var/redis``). Then supervisord runs the
Procfile with those URIs in the environment (``devstack.supervise``): a process that dies is
restarted, the others keep serving. Ctrl-C (or SIGTERM) stops everything it started; exit 0.

Tests (and anyone who needs to) can move the data folder with ``PONTE_VAR_DIR`` and the
preferred local ports with ``PONTE_LOCAL_MONGO_PORT`` / ``PONTE_LOCAL_REDIS_PORT``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

from honcho.environ import parse_procfile

import settings
from deploy import redis_acl
from devstack import procs, redis_users, supervise

ROOT = Path(__file__).resolve().parent.parent
# Overridable so that tests never touch a developer's var/.
VAR = Path(os.environ.get("PONTE_VAR_DIR", ROOT / "var"))
# The ports the embedded default prefers (the standard ones); tests pick free ones.
MONGO_PORT = int(os.environ.get("PONTE_LOCAL_MONGO_PORT", "27017"))
REDIS_PORT = int(os.environ.get("PONTE_LOCAL_REDIS_PORT", "6379"))


def _say(msg: str) -> None:
    print(f"[ponte] {msg}", flush=True)


def embedded_services(env: dict[str, str]) -> list:
    """Start what the environment does not configure; fill ``env`` with its URIs."""
    started = []
    VAR.mkdir(parents=True, exist_ok=True)
    if not env.get("MONGO_URI"):
        port = MONGO_PORT if procs.port_is_free(MONGO_PORT) else procs.free_port()
        log = open(VAR / "mongo.log", "a")  # noqa: SIM115 - kept open for the child's life
        proc, uri = procs.start_mongo(port, engine="sqlite", path=str(VAR / "mongo" / "ponte.sqlite"), log=log)
        started.append(proc)
        env["MONGO_URI"] = uri
        _say(f"embedded MongoDB stand-in (mongoeco, SQLite in {VAR / 'mongo'}): {uri}")
        limites_do_embutido(uri, env.get("MONGO_DB") or settings.DEFAULTS["MONGO_DB"])
    if not env.get("REDIS_URL") and not env.get("REDIS_HOST"):
        state = procs.redis_state("127.0.0.1", REDIS_PORT)
        if state == "auth":
            _say(f"the Redis on 127.0.0.1:{REDIS_PORT} wants credentials (set REDIS_URL to use it); starting our own")
        if state == "open":
            env["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
            for user in (redis_acl.CRM, redis_acl.CRM_PEDIDOS):  # its users are its own business
                _write_private(VAR / f"redis-{user}.url", env["REDIS_URL"] + "\n", replace=True)
            _say(f"using the Redis already answering on 127.0.0.1:{REDIS_PORT} (no ACL users of Ponte's)")
        else:
            started.append(_embedded_redis(env))
    return started


def limites_do_embutido(uri: str, db_name: str) -> None:
    """Say so when the embedded store holds more than it carries well (adapters.embutido)."""
    from pymongo import MongoClient

    from adapters import embutido

    client = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        if mensagem := embutido.aviso(client[db_name]):
            _say(f"WARNING: {mensagem}")
    except Exception as exc:  # a check that fails must not keep the stack from starting
        _say(f"could not count the embedded store's products: {exc}")
    finally:
        client.close()


def _embedded_redis(env: dict[str, str]):
    """redis-server with production's ACL users (deploy/redis_acl.py): Ponte's processes as
    ``ponte``; the CRM's URLs in ``var/redis-crm.url`` and ``var/redis-crm-pedidos.url``."""
    port = REDIS_PORT if procs.port_is_free(REDIS_PORT) else procs.free_port()
    acl_file, passwords = redis_users.prepare(VAR / "redis-acl")
    log = open(VAR / "redis.log", "a")  # noqa: SIM115 - kept open for the child's life
    proc = procs.start_redis(port, data_dir=str(VAR / "redis"), log=log, acl_file=str(acl_file))
    env["REDIS_URL"] = redis_users.url(redis_acl.PONTE, passwords[redis_acl.PONTE], port)
    for user in (redis_acl.CRM, redis_acl.CRM_PEDIDOS):
        _write_private(VAR / f"redis-{user}.url", redis_users.url(user, passwords[user], port) + "\n", replace=True)
    _say(f"embedded redis-server (AOF in {VAR / 'redis'}, ACL users) on 127.0.0.1:{port}")
    _say(f"the CRM publishes with the URL in {VAR / 'redis-crm.url'}")
    return proc


def _write_private(path: Path, text: str, replace: bool = False) -> None:
    """Create ``path`` readable by its owner only (0600) and write ``text`` to it."""
    if replace:
        path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def local_secret(env: dict[str, str]) -> None:
    """Without SECRET_KEY, use (and on first run generate) ``var/secret.key``."""
    if env.get("SECRET_KEY"):
        return
    path = VAR / "secret.key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48) + "\n")
    env["SECRET_KEY"] = path.read_text().strip()


def flower_auth(env: dict[str, str]) -> None:
    """Flower always behind basic auth: without FLOWER_BASIC_AUTH, ``var/flower.auth``."""
    if env.get("FLOWER_BASIC_AUTH"):
        return
    path = VAR / "flower.auth"
    if not path.exists():
        _write_private(path, f"admin:{secrets.token_urlsafe(18)}\n")
    env["FLOWER_BASIC_AUTH"] = path.read_text().strip()
    _say(f"Flower on http://127.0.0.1:{env.get('FLOWER_PORT', '5555')} (user:password in {path})")


def first_run_staff_key(env: dict[str, str]) -> None:
    """On first run, create an ``admin`` staff key and keep it in ``var/staff.key``."""
    path = VAR / "staff.key"
    if path.exists():
        _say(f"staff key: {path} (delete it to get a new one on the next run)")
        return
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "keys",
            "create",
            "--name",
            "local-admin",
            "--scope",
            "admin",
            "--quiet",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        _say(f"could not create a staff key: {result.stderr.strip()[-500:]}")
        return
    key = result.stdout.strip()
    _write_private(path, key + "\n")
    port = env.get("API_PORT", "8000")
    # Never printed: the terminal of `make run` ends up in logs and scrollback.
    _say(f"first run: created an admin staff key in {path} (mode 600); use it as:")
    _say(f'    curl -X POST http://127.0.0.1:{port}/produtos -H "Authorization: Bearer $(cat {path})" \\')
    _say('         -H \'Content-Type: application/json\' -d \'{"nome": "Caneca", "preco": 29.9, "estoque": 5}\'')


# Settings `make run` records for the commands run beside it (settings.STACK_FILE).
STACK_SETTINGS = ("MONGO_URI", "REDIS_URL", "SECRET_KEY", "METRICS_DIR", "LOG_FILE", "BACKUP_DIR")


def local_files(env: dict[str, str]) -> None:
    """Logs, metrics and backups of this stack under ``var/``: one log file per process
    (grep them for a request id; only warnings and errors reach the terminal), metrics no
    other Ponte stack on the host counts, and
    the backups beat makes (``flask --app wsgi backup list`` finds them)."""
    env.setdefault("LOG_FILE", str(VAR / "log" / "{role}-{pid}.log"))
    # Every line is in those files; the terminal gets warnings and errors. Relaying every
    # line (supervisord, then this launcher) had cut the API's rate by more than half.
    env.setdefault("LOG_STDOUT_LEVEL", "WARNING")
    env.setdefault("METRICS_DIR", str(VAR / "metrics"))
    env.setdefault("BACKUP_DIR", str(VAR / "backups"))


def write_stack_file(env: dict[str, str]) -> Path:
    """Record what this stack chose, so that ``flask --app wsgi ...`` or an extra worker
    started from this checkout finds it (read by ``settings.load`` in development only)."""
    path = VAR / settings.STACK_FILE
    path.unlink(missing_ok=True)
    lines = [f"# written by make run (pid {os.getpid()}); removed when it stops"]
    lines += [f"{key}={env[key]}" for key in STACK_SETTINGS if env.get(key)]
    _write_private(path, "\n".join(lines) + "\n", replace=True)
    return path


def watch_stores(started: list, stopping: threading.Event) -> None:
    """Say so when an embedded store dies. It is not restarted: it holds the data and chose
    its port before the processes were given its URI (``make run`` again brings it back)."""

    def watch(proc) -> None:
        code = proc.wait()
        if not stopping.is_set():
            name = "embedded MongoDB" if "devstack.mongo_server" in proc.args else "embedded redis-server"
            _say(f"{name} (pid {proc.pid}) exited with status {code}: /ready answers 503; Ctrl-C and make run again")

    for proc in started:
        threading.Thread(target=watch, args=(proc,), daemon=True).start()


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PONTE_ENV", "development")
    # The Procfile's commands (gunicorn, celery) live next to this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    started = embedded_services(env)
    stopping = threading.Event()
    watch_stores(started, stopping)
    stack = None
    try:
        local_secret(env)
        local_files(env)
        stack = write_stack_file(env)
        flower_auth(env)
        first_run_staff_key(env)
        # supervisord rather than honcho (which stops everything when one process dies) or a
        # restart loop of our own: docs/operations.md, "Start the stack on one machine".
        config = supervise.write_config(procfile.processes, VAR, ROOT)
        host, port = env.get("API_HOST", "127.0.0.1"), env.get("API_PORT", "8000")
        _say(f"API on http://{host}:{port}  (docs: /docs, /redoc)  Ctrl-C stops everything")
        _say(f"a process that dies is restarted; see them: .venv/bin/supervisorctl -c {config} status")
        return supervise.run(config, env, _say)
    finally:
        stopping.set()
        if stack is not None:
            stack.unlink(missing_ok=True)
        for proc in reversed(started):
            procs.stop(proc)
        _say("embedded services stopped")


if __name__ == "__main__":
    sys.exit(main())
