"""``make run`` supervises its processes: one killed with SIGKILL comes back, the rest serve.

Issue 17, section 2: under the launcher, kill -9 in turn the bridge, the Celery worker's main
process, the gunicorn master and beat. Each is back within seconds (a new PID for that
Procfile entry, and supervisord's log says which process died, how, and that it restarted);
the others keep their PIDs; a product read and a CRM event still work. Ctrl-C then exits 0
and leaves no process behind. Processes are found by walking /proc from the launcher's PID.
"""

import json
import os
import signal

import pytest
import redis

from devstack import procs
from devstack.supervise import ENTRIES, main_processes
from tests.e2e.test_launcher import start_launcher, stop_launcher
from tests.helpers import descendants, http, wait_for
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e

# The order of the issue: the bridge, a worker's main process, a gunicorn master, beat.
KILLED = ("bridge", "worker", "web", "beat")


def _crm_event_applies(crm, url: str, n: int, entry: str) -> None:
    """The CRM publishes a new product; it becomes visible through the API."""
    nome = f"Resiste {entry} {n}"
    event = {"acao": "criado", "produto": {"id": 9100 + n, "nome": nome, "preco": 10, "estoque": 1}}
    # PUBLISH answers how many subscribers got it: 0 while the new bridge is not yet the leader.
    wait_for(lambda: crm.publish("produtos", json.dumps(event)) >= 1, timeout=30, what="a bridge subscribed")

    def visible():
        status, _, body = http("GET", url + "/produtos?q=" + nome.replace(" ", "%20"))
        return status == 200 and [p for p in body if p["nome"] == nome]

    wait_for(visible, timeout=30, what=f"the CRM's product after killing {entry}")


def _kill_and_wait_back(server, entry: str) -> int:
    before = wait_for(lambda: len(main := main_processes(server.proc.pid)) == len(ENTRIES) and main, what="all up")
    os.kill(before[entry], signal.SIGKILL)

    def back():
        now = main_processes(server.proc.pid)
        return now.get(entry) not in (None, before[entry]) and now

    now = wait_for(back, timeout=15, what=f"{entry} restarted")
    others = {k: v for k, v in before.items() if k != entry}
    assert {k: now.get(k) for k in others} == others, f"killing {entry} restarted others too"
    died = f"exited: {entry} (terminated by SIGKILL; not expected)"
    wait_for(lambda: died in server.output(), timeout=10, what=f"the log saying {entry} died")
    assert f"spawned: '{entry}' with pid {now[entry]}" in server.output()
    return now[entry]


def test_a_killed_process_comes_back_and_the_others_keep_serving(tmp_path):
    var_dir = tmp_path / "var"
    ports = {"api_port": procs.free_port(), "mongo_port": procs.free_port(), "redis_port": procs.free_port()}
    server, url = start_launcher(tmp_path, var_dir, n=1, **ports)
    seen: set[int] = set()
    try:
        key = register((var_dir / "staff.key").read_text().strip())
        auth = {"Authorization": f"Bearer {key}"}
        body = {"nome": "Fica", "preco": 1, "estoque": 1}
        status, _, produto = http("POST", url + "/produtos", body=body, headers=auth)
        assert status == 201
        for line in (var_dir / "redis-acl" / "redis-users.env").read_text().split():
            register(line.split("=", 1)[1])
        crm = redis.Redis.from_url((var_dir / "redis-crm.url").read_text().strip())
        for n, entry in enumerate(KILLED):
            seen |= descendants(server.proc.pid)
            _kill_and_wait_back(server, entry)
            read = wait_for(lambda: (r := http("GET", url + f"/produtos/{produto['id']}"))[0] == 200 and r, timeout=30)
            assert read[2]["nome"] == "Fica", read
            _crm_event_applies(crm, url, n, entry)
        seen |= descendants(server.proc.pid)
    finally:
        # Ctrl-C: exit 0, and nothing left, not even what a killed process had started.
        output = stop_launcher(server, seen)
    assert "stopped: web (exit status 0)" in output
    for port in ports.values():
        assert procs.port_is_free(port), f"port {port} still in use after Ctrl-C"
