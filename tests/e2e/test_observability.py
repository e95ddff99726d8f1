"""Operations end to end: one request id followed through every process, metrics summed
across gunicorn workers and Celery processes, readiness that sees the workers.

Real gunicorn (2 workers), a real Celery worker and a real bridge share one Redis and
one metrics directory, as they would on one host.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import start_gunicorn
from tests.helpers import ENDERECO, http

pytestmark = pytest.mark.e2e

SENHA = "senha-observavel-1"


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def samples(web) -> dict[tuple[str, frozenset], float]:
    status, _, text = http("GET", web.url + "/metrics", headers=web.auth)
    assert status == 200, text
    got = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            got[(s.name, frozenset(s.labels.items()))] = s.value
    return got


def value(got, name: str, **labels) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def comprar(web, rid: str, produto_id: str) -> dict:
    email = f"obs-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        http("POST", web.url + "/clientes", {"nome": "Obs", "email": email, "senha": SENHA, "endereco": ENDERECO})[0]
        == 201
    )
    token = http("POST", web.url + "/auth/login", {"email": email, "senha": SENHA})[2]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    item = {"produto_id": produto_id, "quantidade": 1}
    assert http("POST", web.url + "/carrinhos/me/itens", item, headers=auth)[0] == 200
    body = {"pagamento_metodo": "cartao", "cartao_token": "tok_falha_2"}  # two transient failures, then paid
    status, headers, pedido = http("POST", web.url + "/pedidos", body, headers=auth | {"X-Request-ID": rid})
    assert status == 201, pedido
    assert headers["X-Request-ID"] == rid
    return pedido


def test_one_request_id_through_api_payment_and_shipment_and_metrics_of_all(pipeline, tmp_path):
    worker = pipeline.start_worker(concurrency=2, WORKER_HEARTBEAT_S=1)
    bridge = pipeline.start_bridge()
    web = start_gunicorn(
        pipeline.mongo_uri, pipeline.redis_url, pipeline.db_name, tmp_path, REDIS_PREFIX="e2e", WORKER_HEARTBEAT_S=1
    )
    try:
        anon = http("GET", web.url + "/metrics")
        assert anon[0] == 401

        produto = http("POST", web.url + "/produtos", {"nome": "Lupa", "preco": 40, "estoque": 9}, headers=web.auth)[2]
        rid = f"obs-{uuid.uuid4().hex}"
        pedido = comprar(web, rid, produto["id"])

        # -- the request id in every process's log ------------------------------------
        def task_lines():
            return [line for line in json_lines(worker.output()) if line.get("request_id") == rid]

        pipeline.wait(
            lambda: any(line.get("task_name") == "tasks.envios.criar" for line in task_lines()),
            timeout=60,
            what="the shipment task logging the API request id",
        )
        names = {line.get("task_name") for line in task_lines()}
        assert {"tasks.pagamentos.processar", "tasks.envios.criar"} <= names
        assert any(pedido["id"] in line["message"] for line in task_lines())
        web_lines = [line for line in json_lines(web.output()) if rid in line.get("message", "")]
        assert any("POST /pedidos" in line["message"] for line in web_lines)  # gunicorn's access line

        # -- a CRM event: its event id in the bridge's and the worker's lines ---------
        pipeline.crm.publish(
            "produtos", json.dumps({"acao": "criado", "produto": {"id": 880, "nome": "CRM", "preco": 1, "estoque": 1}})
        )
        pipeline.crm.publish("produtos", b"{not json")  # dead-lettered by the bridge
        event_id = pipeline.wait(
            lambda: next(
                (line["event_id"] for line in json_lines(bridge.output()) if "acao=criado" in line["message"]), None
            ),
            what="the bridge's line for the event",
        )
        pipeline.wait(
            lambda: any(
                line.get("event_id") == event_id and line.get("task_name") == "tasks.sync.aplicar_evento"
                for line in json_lines(worker.output())
            ),
            what="the sync task logging the event id",
        )

        # -- HTTP metrics summed over both gunicorn workers ---------------------------
        before = value(
            samples(web), "ponte_http_requests_total", method="GET", route="/produtos/<produto_id>", status="200"
        )
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: http("GET", f"{web.url}/produtos/{produto['id']}")[0], range(80)))
        assert statuses == [200] * 80
        web_dirs = list((tmp_path / "metrics").glob("web-*"))
        pids = {p.name.rsplit("_", 1)[1] for d in web_dirs for p in d.glob("counter_*.db")}
        assert len(pids) >= 2, "both gunicorn workers served requests"

        got = pipeline.wait(
            lambda: (
                (g := samples(web))
                and task_count_in(g, "tasks.sync.rejeitar_evento", "dead_lettered") >= 1
                and task_count_in(g, "tasks.envios.criar", "succeeded") >= 1
                and g
            ),
            what="task outcomes in /metrics",
        )
        after = value(got, "ponte_http_requests_total", method="GET", route="/produtos/<produto_id>", status="200")
        assert after - before == 80  # every worker's share, not just the one that answered the scrape
        assert value(got, "ponte_http_requests_total", method="POST", route="/pedidos", status="201") == 1
        assert value(got, "ponte_http_request_duration_seconds_count", method="POST", route="/pedidos") == 1
        assert task_count_in(got, "tasks.pagamentos.processar", "retried") == 2
        assert task_count_in(got, "tasks.pagamentos.processar", "succeeded") == 1
        assert task_count_in(got, "tasks.sync.aplicar_evento", "succeeded") >= 1
        assert value(got, "ponte_celery_task_duration_seconds_count", task="tasks.envios.criar") >= 1
        assert value(got, "ponte_bridge_events_total", stage="recebidos") >= 2
        assert value(got, "ponte_bridge_events_total", stage="rejeitados") >= 1
        assert value(got, "ponte_dead_letters") >= 1
        assert ("ponte_queue_depth", frozenset({("queue", "sync")})) in got
        assert value(got, "ponte_dependency_up", dependency="redis") == 1

        # -- readiness sees the worker, and sees it leave -----------------------------
        status, _, ready = http("GET", web.url + "/ready")
        assert status == 200 and ready["status"] == "ok", ready
        assert all(f["workers"] == 1 for f in ready["filas"].values()), ready
        worker.signal()
        assert worker.wait(timeout=30) == 0
        pipeline.wait(lambda: http("GET", web.url + "/ready")[2]["status"] == "degradado", what="degraded readiness")
        assert http("GET", web.url + "/ready")[0] == 200  # the API still serves without workers
        pedido_now = http("GET", f"{web.url}/pedidos/{pedido['id']}", headers=web.auth)[2]
        assert pedido_now["status"] == "confirmado"
    finally:
        web.close()


def task_count_in(got, task, outcome) -> float:
    return value(got, "ponte_celery_tasks_total", task=task, outcome=outcome)
