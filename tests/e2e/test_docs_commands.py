"""The docs' commands, run as written against a real ``make run`` stack.

A copy of the working tree (with its ``.venv``) runs ``make run`` on free ports; one bash
process then runs the blocks of ``tests.docs_blocks.RUN`` in order, sharing its variables as
a reader's terminal does. The only change to the text is the API's port: ``127.0.0.1:8000``
points at the port this stack got (the Redis URLs in ``var/`` already name theirs). Between
blocks the test waits for what the docs say takes "a moment" (a task, a worker), with a
deadline, then checks what each block did.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import pytest

from devstack import procs
from tests.docs_blocks import RUN, find
from tests.e2e.conftest import Server, base_env
from tests.helpers import ROOT, alive, descendants, http, wait_for
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e


class Shell:
    """One bash process fed block after block, as a reader types them into a terminal."""

    def __init__(self, cwd, env):
        self.proc = subprocess.Popen(
            ["bash"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.transcript: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._n = 0
        self.send("set -eo pipefail")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, text: str, timeout: float = 60) -> str:
        """Run ``text``; return what it printed. Fails if the shell stopped (set -e)."""
        self._n += 1
        marker = f"@@block-{self._n}-done"
        self.proc.stdin.write(f"{text}\nprintf '\\n{marker}\\n'\n")
        self.proc.stdin.flush()
        out, deadline = [], time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"block did not finish in {timeout}s:\n{text}\n{''.join(out)}") from None
            if line is None:
                self.transcript += out
                raise AssertionError(f"the shell stopped (exit {self.proc.wait()}) in:\n{text}\n{''.join(out)}")
            if line.strip() == marker:
                self.transcript += out
                return "".join(out)
            out.append(line)

    def var(self, name: str) -> str:
        return self.send(f'printf "%s" "${name}"').strip()

    def close(self):
        family = descendants(self.proc.pid) | {self.proc.pid}
        self.proc.stdin.close()
        for pid in family:
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def _copy_tree(dest):
    """The working tree as git sees it (tracked and new files), with the same .venv."""
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name in names:
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")


@pytest.fixture
def stack(tmp_path):
    repo = tmp_path / "ponte"
    _copy_tree(repo)
    ports = {k: procs.free_port() for k in ("API_PORT", "PONTE_LOCAL_MONGO_PORT", "PONTE_LOCAL_REDIS_PORT")}
    env = base_env(**ports, FLOWER_PORT=procs.free_port(), WEB_CONCURRENCY=1)
    env.pop("FLOWER_BASIC_AUTH", None)
    server = Server(["make", "run"], env, tmp_path / "make-run.log", cwd=repo)
    server.url = f"http://127.0.0.1:{ports['API_PORT']}"
    try:
        wait_for(lambda: http("GET", server.url + "/ready")[0] == 200, timeout=90, what="make run's /ready")
        # The copy's own files, not the repository's: make run ran in the copy.
        server.key = register((repo / "var" / "staff.key").read_text().strip())
        register((repo / "var" / "secret.key").read_text().strip())
        register("s3nh@Forte")
        for line in (repo / "var" / "redis-acl" / "redis-users.env").read_text().split():
            register(line.split("=", 1)[1])
    except BaseException:
        server.close()
        raise AssertionError(server.output()) from None
    # A reader's shell: none of the ports above, and no .venv on PATH unless a block activates it.
    shell_env = {k: v for k, v in env.items() if k not in ports}
    shell_env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if "/.venv/" not in p + "/")
    shell = Shell(repo, shell_env)
    yield server, shell, repo, ports
    shell.close()
    _ctrl_c(server)


def _ctrl_c(server):
    """What Ctrl-C does in a terminal: SIGINT to the whole foreground group (make and all)."""
    family = descendants(server.proc.pid)
    os.killpg(server.proc.pid, signal.SIGINT)
    server.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in family), timeout=30, what="every process of make run to exit")
    server.close()
    # Make ends by the SIGINT it got too, but reports no failed recipe: the launcher exited 0.
    assert "make: ***" not in server.output(), server.output()[-2000:]


def _as_here(text: str, ports: dict) -> str:
    # redis-cli needs no change: the URLs make run wrote name its port.
    return text.replace("127.0.0.1:8000", f"127.0.0.1:{ports['API_PORT']}")


def test_the_documented_commands_run_as_written(stack):
    server, shell, repo, ports = stack
    staff = {"Authorization": f"Bearer {server.key}"}

    def run(i: int) -> str:
        return shell.send(_as_here(find(*RUN[i]).text, ports))

    def get(path: str):
        status, _, body = http("GET", server.url + path, headers=staff)
        assert status == 200, (path, status, body)
        return body

    # README's Quick start: a product, then a customer who logs in and reads their record.
    assert '"Café Moído"' in run(0)
    assert '"email": "maria@example.com"' in run(1).replace('":"', '": "')
    assert shell.var("TOKEN")
    # security.md: a key created, listed and revoked from the shell.
    keys = run(2)
    assert "revoked " in keys and "ops" in keys
    # orders.md's walkthrough: checkout, then (once paid) the shipment through to delivery.
    run(3)
    pedido = shell.var("PEDIDO")
    wait_for(lambda: http("GET", f"{server.url}/pedidos/{pedido}/envio", headers=staff)[0] == 200, timeout=60)
    trail = run(4)
    assert "entregue" in trail and "preparando" in trail
    assert "confirmado" in trail and '"status":"entregue"' in trail.replace(" ", "")  # from SUBSCRIBE pedidos
    # operations.md: follow one request id through the log files of web and worker.
    run(5)
    wait_for(lambda: _logs_with(repo, "pedido-maria-1") >= {"web", "worker"}, timeout=60, what="logs")
    assert "var/log/web-" in run(6)
    # orders.md, from the CRM: its customer and products, then (once applied) its cart.
    run(7)
    wait_for(lambda: get("/produtos?java_id=9") and get("/produtos?java_id=7"), timeout=60, what="products")
    wait_for(lambda: get("/clientes?email=maria@example.com")[0].get("java_id") == 3, timeout=60)
    run(8)
    wait_for(lambda: any(p["pagamento_metodo"] == "boleto" for p in get("/pedidos?status=pendente")), timeout=60)
    # sync.md: a refused event waits as a dead letter; the shell and the API show it.
    run(9)
    wait_for(lambda: get("/eventos-rejeitados?estado=pendente"), timeout=60, what="a dead letter")
    letters = run(10)
    assert "preco" in letters and " of " in letters  # the API's reason, the CLI's count
    # operations.md: two more workers on sync from the same checkout, then stopped.
    run(11)
    wait_for(lambda: http("GET", server.url + "/ready")[2]["filas"]["sync"]["workers"] >= 3, timeout=90)
    workers = int(shell.var("WORKERS"))
    family = descendants(workers) | {workers}
    run(12)
    wait_for(lambda: not any(alive(pid) for pid in family), timeout=60, what="the extra workers to stop")
    # operations.md: supervisord's view of make run's processes, and one restarted by hand.
    status = run(13)
    assert all(f"{entry} " in status for entry in ("web", "worker", "bridge", "beat", "flower")), status
    assert status.count("RUNNING") >= 5 and "bridge: started" in status, status
    # gunicorn found LOG_FILE's folder made (it used to print a traceback per handler).
    assert "Traceback" not in server.output()


def _logs_with(repo, text: str) -> set[str]:
    """Roles (file name prefixes) of the log files under var/log that contain ``text``."""
    return {p.name.split("-")[0] for p in (repo / "var" / "log").glob("*.log") if text in p.read_text(errors="replace")}
