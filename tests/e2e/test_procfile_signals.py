"""Every Procfile process, run from its Procfile line, stops on SIGTERM: exit 0 within a
bound, and the worker finishes its task in hand and leaves the rest queued (none lost).

Each command runs as ``sh -c "exec <line>"``: the shell expands ``${VAR:-default}`` as
honcho or systemd would and is then replaced by the process, which gets the signal.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest
from honcho.environ import parse_procfile
from pymongo import MongoClient

from devstack import procs
from tests.e2e.conftest import Server
from tests.helpers import ROOT, http

pytestmark = pytest.mark.e2e

STOP_BOUND_S = 30
FLOWER_PASSWORD = "flower-pass-123"
PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes


def run(pipeline, name: str, n: int = 0, **extra) -> Server:
    server = Server(["sh", "-c", f"exec {PROCFILE[name]}"], pipeline.env(**extra), pipeline.tmp_path / f"{name}{n}.log")
    pipeline.servers.append(server)
    return server


def stop_ok(server: Server) -> float:
    started = time.monotonic()
    server.signal()
    code = server.wait(timeout=STOP_BOUND_S)
    assert code == 0, server.output()[-3000:]
    return time.monotonic() - started


def healthcheck(pipeline, package: str, **extra) -> int:
    cmd = [sys.executable, "-m", f"{package}.healthcheck"]
    return subprocess.run(cmd, env=pipeline.env(**extra), cwd=ROOT, capture_output=True, timeout=30).returncode


def produto(java_id: int) -> str:
    return json.dumps({"acao": "criado", "produto": {"id": java_id, "nome": f"P{java_id}", "preco": 1, "estoque": 1}})


def test_worker_and_bridge_stop_cleanly_finishing_the_task_in_hand(pipeline):
    # Each sync task takes 2 s: one is in flight when SIGTERM arrives, two wait in the queue.
    slow = {"SYNC_FAULT_DELAY_MS": 2000, "SYNC_FAULT_DELAY_MIN_MS": 2000}
    worker = run(pipeline, "worker", WORKER_QUEUES="sync", WORKER_CONCURRENCY=1, **slow)
    bridge = run(pipeline, "bridge")
    pipeline.wait(lambda: "ready." in worker.output(), what="worker ready")
    pipeline.wait(lambda: pipeline.redis.pubsub_numsub("produtos")[0][1] >= 1, what="bridge subscribed")
    ids = [9101, 9102, 9103]
    for java_id in ids:
        pipeline.crm.publish("produtos", produto(java_id))
    pipeline.wait(lambda: "aplicar_evento" in worker.output() and "received" in worker.output(), what="task in hand")
    # The container healthchecks see both alive (heartbeat and liveness key in Redis).
    assert healthcheck(pipeline, "tasks", WORKER_QUEUES="sync") == 0
    assert healthcheck(pipeline, "bridge") == 0

    stop_ok(worker)
    assert stop_ok(bridge) < STOP_BOUND_S
    db = MongoClient(pipeline.mongo_uri)[pipeline.db_name]
    done = {d["java_id"] for d in db.produtos.find({"java_id": {"$in": ids}})}
    assert len(done) >= 1, "the task in hand was finished before exiting"
    assert "Warm shutdown" in worker.output()
    assert healthcheck(pipeline, "tasks", WORKER_QUEUES="sync") == 1  # withdrawn at shutdown

    # What the stopped worker had not started is still queued: a new worker applies it.
    run(pipeline, "worker", n=1, WORKER_QUEUES="sync")
    pipeline.wait(
        lambda: db.produtos.count_documents({"java_id": {"$in": ids}}) == len(ids), timeout=60, what="every event"
    )


def test_web_beat_and_flower_stop_cleanly_and_flower_refuses_to_run_open(pipeline):
    api_port, flower_port = procs.free_port(), procs.free_port()
    web = run(pipeline, "web", API_PORT=api_port, WEB_CONCURRENCY=2)
    beat = run(pipeline, "beat", PONTE_VAR_DIR=pipeline.tmp_path)
    flower = run(pipeline, "flower", FLOWER_PORT=flower_port, FLOWER_BASIC_AUTH=f"ops:{FLOWER_PASSWORD}")
    open_flower = run(pipeline, "flower", n=1, FLOWER_PORT=procs.free_port(), FLOWER_BASIC_AUTH="")

    web.wait_http(f"http://127.0.0.1:{api_port}/health")
    basic = {"Authorization": "Basic " + base64.b64encode(f"ops:{FLOWER_PASSWORD}".encode()).decode()}
    flower_url = f"http://127.0.0.1:{flower_port}"
    pipeline.wait(lambda: http("GET", flower_url + "/healthcheck", headers=basic)[0] == 200, what="flower up")
    assert http("GET", flower_url + "/healthcheck")[0] == 401
    pipeline.wait(lambda: "beat: Starting" in beat.output(), what="beat started")
    assert open_flower.wait(timeout=STOP_BOUND_S) != 0
    assert "FLOWER_BASIC_AUTH" in open_flower.output()

    for server in (web, beat, flower):
        stop_ok(server)
    assert procs.port_is_free(api_port) and procs.port_is_free(flower_port)
