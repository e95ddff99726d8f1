"""The CRM sync end to end: real bridge processes, real Celery workers, real Redis.

Everything is published as the Java CRM does it (``PUBLISH`` of contracts/examples/
byte for byte, or ``XADD`` for the durable stream) and read back through the API.
"""

from __future__ import annotations

import json
import os
import random
import signal

import pytest

from adapters.despachante import CeleryDespachante, celery_produtor
from tests.conftest import make_key
from tests.helpers import JAVA_EVENTS, alive, descendants
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e


def java(name: str) -> bytes:
    return (JAVA_EVENTS / name).read_bytes()


def produto(acao: str, java_id: int, estoque: int, nome: str | None = None) -> str:
    nome = nome or f"Produto {java_id}"
    return json.dumps({"acao": acao, "produto": {"id": java_id, "nome": nome, "preco": 9.9, "estoque": estoque}})


def envelope(canal: str, payload: str, seq: int, event_id: str | None = None) -> dict:
    """What the bridge would enqueue for ``payload``."""
    return {"event_id": event_id or f"e{seq}", "canal": canal, "payload": payload,
            "recebido_em": "2026-11-29T00:00:00+00:00", "seq": seq, "origem": "test"}  # fmt: skip


def estoque_de(pipeline, java_id: int):
    itens = pipeline.api_get(f"/produtos?java_id={java_id}")
    return itens[0]["estoque"] if itens else None


def test_each_java_file_published_ends_in_the_expected_state(pipeline):
    pipeline.start_worker()
    pipeline.start_bridge()
    r = pipeline.crm  # the Java CRM's user: PUBLISH and XADD only
    for name in ("produtos-criado-id0", "produtos-atualizado", "produtos-html-unicode", "produtos-null-descricao",
                 "produtos-big-price"):  # fmt: skip
        r.publish("produtos", java(f"{name}.json"))
    r.publish("canal-clientes", java("canal-clientes.json"))

    pipeline.wait(lambda: len(pipeline.api_get("/produtos")) == 4, what="4 visible products")
    por_id = {p["java_id"]: p for p in pipeline.api_get("/produtos?sort=nome")}
    assert (por_id[7]["nome"], por_id[7]["preco"], por_id[7]["estoque"]) == ("Notebook Gamer", 4299, 10)
    assert por_id[9]["nome"] == "Café <Premium> & \"Moído\" = 1'kg'"
    assert por_id[8]["descricao"] is None and str(por_id[8]["preco"]) == "0.10"
    assert por_id[10]["preco"] == 12500000
    # The customer: stored with its CRM id, password hashed (it logs in), never in clear.
    login = pipeline.app.test_client().post("/auth/login", json={"email": "maria@example.com", "senha": "s3nh@Forte"})
    assert login.status_code == 200
    # With the customer and products synced, the CRM's finished cart becomes an order.
    from pymongo import MongoClient

    db = MongoClient(pipeline.mongo_uri)[pipeline.db_name]
    r.publish("carrinho:3", java("carrinho-3.json"))
    pipeline.wait(lambda: db.pedidos.count_documents({}) == 1, what="the order of the CRM's cart")
    pedido = db.pedidos.find_one()
    assert sorted((i["nome"], i["quantidade"]) for i in pedido["itens"]) == sorted(
        [("Notebook Gamer", 1), ("Café <Premium> & \"Moído\" = 1'kg'", 3)]
    )
    assert pedido["pagamento_metodo"] == "boleto" and pedido["endereco"]["cidade"] == "Goiânia"
    # Staff confirm the boleto: the order is confirmado and its shipment is created.
    staff = pipeline.app.test_client()
    staff.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(pipeline.app, ('admin',), 'e2e')}"
    pid = str(pedido["_id"])
    pipeline.wait(lambda: staff.get(f"/pedidos/{pid}/pagamento").get_json()["status"] == "aguardando_confirmacao")
    pagamento = staff.get(f"/pedidos/{pid}/pagamento").get_json()
    assert staff.post(f"/pagamentos/{pagamento['id']}/confirmacao").status_code == 200
    assert staff.get(f"/pedidos/{pid}").get_json()["status"] == "confirmado"
    pipeline.wait(lambda: staff.get(f"/pedidos/{pid}/envio").status_code == 200, what="shipment of the CRM's order")
    cliente = json.dumps(db.clientes.find_one({"java_id": 3}), default=str)
    assert "s3nh@Forte" not in cliente
    for server in pipeline.servers:
        assert "s3nh@Forte" not in server.output()
    r.publish("produtos", java("produtos-removido.json"))
    pipeline.wait(lambda: pipeline.api_get("/produtos?java_id=7") == [], what="removido hides the product")


def test_ordering_under_parallelism_with_random_delays(pipeline):
    """2,000 interleaved updates to 5 products, 4 worker processes, random delays:
    each product ends equal to its last published event."""
    pipeline.start_worker(concurrency=4, SYNC_FAULT_DELAY_MS=6)
    pipeline.start_bridge()
    rng = random.Random(42)
    ultimo = {}
    with pipeline.crm.pipeline(transaction=False) as pipe:
        for _ in range(2000):
            java_id = rng.randint(101, 105)
            estoque = rng.randint(0, 1_000_000)
            ultimo[java_id] = estoque
            pipe.publish("produtos", produto("atualizado", java_id, estoque))
        pipe.execute()
    pipeline.wait(
        lambda: pipeline.stats().get("enfileirados", 0) >= 2000 and pipeline.redis.llen("sync") == 0,
        timeout=120, what="all enqueued and taken",
    )  # fmt: skip
    pipeline.wait(
        lambda: all(estoque_de(pipeline, k) == v for k, v in ultimo.items()), timeout=120, what="final states"
    )
    # Nothing left to apply could still change them: the queue is drained and no task is running.
    pipeline.wait(lambda: pipeline.redis.llen("sync") == 0 and not pipeline.redis.hlen("unacked"), timeout=60)
    assert {k: estoque_de(pipeline, k) for k in ultimo} == ultimo
    # A burst travels in batches: far fewer tasks than events, each product still exact.
    worker_log = pipeline.servers[0].output()
    lotes = worker_log.count("Task tasks.sync.aplicar_lote[")
    avulsos = worker_log.count("Task tasks.sync.aplicar_evento[")
    assert lotes >= 1 and lotes + avulsos < 2000, (lotes, avulsos)


def test_out_of_order_delivery_duplicates_and_id0_linking(pipeline):
    pipeline.start_worker(concurrency=4)
    despachante = CeleryDespachante(celery_produtor(pipeline.redis_url))

    envelopes = [
        envelope("produtos", produto("atualizado", 201, 1), 1),
        envelope("produtos", produto("removido", 201, 0), 3),
        envelope("produtos", produto("atualizado", 201, 2), 2),  # stale: older than the removido
        envelope("produtos", produto("criado", 0, 5, nome="Luminária"), 4),
        envelope("produtos", produto("atualizado", 202, 6, nome="Luminária"), 5),  # carries the real id
        envelope("produtos", produto("atualizado", 203, 7), 6),
        envelope("produtos", produto("atualizado", 203, 8), 7),
    ]
    delivered = envelopes + envelopes[3:]  # duplicates, as redelivery would produce
    for env in reversed(delivered):  # worst order
        despachante.enviar(env)
    pipeline.wait(lambda: estoque_de(pipeline, 203) == 8 and estoque_de(pipeline, 202) == 6, what="applied")
    pipeline.wait(lambda: pipeline.redis.llen("sync") == 0 and not pipeline.redis.hlen("unacked"), timeout=60)
    assert pipeline.api_get("/produtos?java_id=201") == []
    assert [p["nome"] for p in pipeline.api_get("/produtos?q=luminaria")] == ["Luminária"]


def test_garbage_is_dead_lettered_and_nothing_dies(pipeline):
    worker = pipeline.start_worker()
    bridge = pipeline.start_bridge()
    r = pipeline.crm
    garbage = [
        b"{not json",
        b'{"acao":"criado","produto":{"id":"sete","nome":"X","preco":1,"estoque":1}}',
        b'{"acao":"explodido","produto":{"id":1,"nome":"X","preco":1,"estoque":1}}',
        b'{"acao":"criado","produto":{"id":1,"nome":"X","preco":-5,"estoque":1}}',
        ('{"acao":"criado","produto":{"id":1,"nome":"' + "x" * 100_000 + '","preco":1,"estoque":1}}').encode(),
        b"\xff\xfe\x00binary",
    ]
    for payload in garbage:
        r.publish("produtos", payload)
    r.publish("produtos", produto("atualizado", 301, 3).encode())
    pipeline.wait(lambda: estoque_de(pipeline, 301) == 3, what="the valid event after the garbage")
    from pymongo import MongoClient

    db = MongoClient(pipeline.mongo_uri)[pipeline.db_name]
    pipeline.wait(lambda: db.eventos_rejeitados.count_documents({}) == len(garbage), what="dead letters")
    motivos = " | ".join(d["motivo"] for d in db.eventos_rejeitados.find())
    for reason in ("JSON inválido", "formato desconhecido", "preco", "payload maior", "UTF-8"):
        assert reason in motivos
    assert bridge.proc.poll() is None and worker.proc.poll() is None


def test_mongodb_outage_events_published_meanwhile_are_applied_after(pipeline, tmp_path):
    from devstack import procs

    port = procs.free_port()
    path = str(tmp_path / "outage.sqlite")
    mongo, uri = procs.start_mongo(port, engine="sqlite", path=path)
    try:
        pipeline.mongo_uri = uri
        pipeline.start_worker(concurrency=2)
        pipeline.start_bridge()
        pipeline.crm.publish("produtos", produto("atualizado", 401, 1))
        pipeline.wait(lambda: estoque_de(pipeline, 401) == 1, what="first event")
        procs.stop(mongo)  # MongoDB goes away...
        for n in range(402, 422):
            pipeline.crm.publish("produtos", produto("atualizado", n, n))
        worker_log = pipeline.servers[0]
        pipeline.wait(lambda: "falha transitória" in worker_log.output(), what="tasks retrying")
        mongo, uri = procs.start_mongo(port, engine="sqlite", path=path)  # ...and comes back
        pipeline.wait(lambda: len(pipeline.api_get("/produtos?page_size=100")) == 21, timeout=120, what="all applied")
        assert all(estoque_de(pipeline, n) == n for n in range(402, 422))
    finally:
        procs.stop(mongo)


def test_a_transient_failure_that_outlasts_the_retries_is_dead_lettered(pipeline):
    """A CRM cart whose checkout another attempt keeps holding (``CheckoutEmAndamento``, a
    transient failure): the worker retries it with backoff ``SYNC_MAX_RETRIES`` times, then
    keeps it as a dead letter saying why, and no order is made."""
    from datetime import UTC, datetime, timedelta

    from bson import ObjectId
    from pymongo import MongoClient

    from services.pedidos import hash_do_corpo

    worker = pipeline.start_worker(concurrency=1, SYNC_MAX_RETRIES=2)
    despachante = CeleryDespachante(celery_produtor(pipeline.redis_url))
    cliente = {k: v for k, v in json.loads(java("canal-clientes.json")).items() if k != "senha"}
    despachante.enviar(envelope("canal-clientes", json.dumps(cliente), 1))
    despachante.enviar(envelope("produtos", produto("atualizado", 901, 5), 2))
    db = MongoClient(pipeline.mongo_uri)[pipeline.db_name]
    pipeline.wait(lambda: db.clientes.find_one({"java_id": 3}) and estoque_de(pipeline, 901) == 5, what="synced")
    carrinho = json.dumps([{"produto": json.loads(produto("atualizado", 901, 5))["produto"], "quantidade": 1}])
    agora, cliente_id = datetime.now(UTC), db.clientes.find_one({"java_id": 3})["_id"]
    db.idempotencia.insert_one(
        {"_id": f"java-carrinho:{cliente_id}:carrinho-preso", "hash": hash_do_corpo({"p": carrinho}),
         "estado": "em_andamento", "pedido_id": str(ObjectId()), "dono": "outra-tentativa", "criado_em": agora,
         "expira_em": agora + timedelta(hours=1)}
    )  # fmt: skip
    despachante.enviar(envelope("carrinho:3", carrinho, 3, event_id="carrinho-preso"))
    rejeitado = pipeline.wait(
        lambda: db.eventos_rejeitados.find_one({"event_id": "carrinho-preso"}), what="the dead letter"
    )
    assert rejeitado["tentativas"] == 3, rejeitado
    assert rejeitado["motivo"].startswith("tentativas esgotadas (3): CheckoutEmAndamento"), rejeitado["motivo"]
    assert worker.output().count("evento event_id=carrinho-preso: falha transitória") == 2
    assert db.pedidos.count_documents({}) == 0


def test_worker_killed_mid_task_the_task_is_redone(pipeline):
    worker = pipeline.start_worker(concurrency=1, SYNC_FAULT_DELAY_MS=2500, SYNC_FAULT_DELAY_MIN_MS=2500)
    pipeline.start_bridge()
    pipeline.crm.publish("produtos", produto("atualizado", 501, 5))
    pipeline.wait(lambda: "aplicar_evento" in worker.output() and "received" in worker.output(), what="task started")
    children = descendants(worker.proc.pid)
    assert children
    for pid in children:
        os.kill(pid, signal.SIGKILL)  # the pool process dies mid-task
    pipeline.wait(lambda: estoque_de(pipeline, 501) == 5, timeout=90, what="task redone after SIGKILL")
    assert worker.proc.poll() is None
    assert "WorkerLostError" in worker.output() or "exited" in worker.output()


def test_stream_mode_bridge_killed_and_restarted_loses_nothing(pipeline):
    pipeline.start_worker(concurrency=4)
    bridge = pipeline.start_bridge()
    r = pipeline.crm
    for n in range(601, 651):
        r.xadd("ponte:eventos", {"canal": "produtos", "payload": produto("atualizado", n, n)})
    bridge.signal(signal.SIGKILL)  # maybe mid-batch: read but not acknowledged
    bridge.wait(timeout=10)
    for n in range(651, 701):  # published while no bridge runs: the stream keeps them
        r.xadd("ponte:eventos", {"canal": "produtos", "payload": produto("atualizado", n, n)})
    pipeline.start_bridge()
    pipeline.wait(
        lambda: len(pipeline.api_get("/produtos?java_id=700")) == 1
        and sum(1 for n in range(601, 701) if estoque_de(pipeline, n) == n) == 100,
        timeout=120, what="all 100 stream entries applied",
    )  # fmt: skip
    pending = pipeline.redis.xpending("ponte:eventos", "ponte-bridge")
    pipeline.wait(
        lambda: pipeline.redis.xpending("ponte:eventos", "ponte-bridge")["pending"] == 0, what="all acknowledged"
    )
    assert pending is not None


def test_two_bridges_enqueue_once_and_the_standby_takes_over(pipeline):
    pipeline.start_worker(concurrency=2)
    first = pipeline.start_bridge()
    second = pipeline.start_bridge(wait_leader=False)
    for n in range(701, 731):
        pipeline.crm.publish("produtos", produto("atualizado", n, n))
    pipeline.wait(lambda: estoque_de(pipeline, 730) == 30 + 700, what="first batch")
    pipeline.wait(lambda: pipeline.stats().get("enfileirados") == 30, what="stats")
    both = first.output() + second.output()
    assert both.count("resultado=enfileirado") == 30  # one bridge took them, once
    assert "is the leader" not in second.output()
    first.signal(signal.SIGKILL)
    pipeline._wait_log(second, "is the leader", timeout=15)  # takes over within the lock TTL
    pipeline.wait(lambda: pipeline.redis.pubsub_numsub("produtos")[0][1] >= 1, what="standby subscribed")
    for n in range(731, 741):
        pipeline.crm.publish("produtos", produto("atualizado", n, n))
    pipeline.wait(lambda: all(estoque_de(pipeline, n) == n for n in range(731, 741)), what="after failover")


def test_bridge_sigterm_exits_zero_and_hands_over(pipeline):
    pipeline.start_worker()
    first = pipeline.start_bridge()
    second = pipeline.start_bridge(wait_leader=False)
    with pipeline.crm.pipeline(transaction=False) as pipe:
        for n in range(801, 1001):
            pipe.publish("produtos", produto("atualizado", n, n))
        pipe.execute()
    first.signal(signal.SIGTERM)  # while messages are still arriving
    assert first.wait(timeout=20) == 0
    assert "stopped" in first.output()
    stats = pipeline.stats()
    assert stats["recebidos"] > 0
    assert stats["recebidos"] == stats["enfileirados"]  # every message it received was enqueued
    pipeline._wait_log(second, "is the leader", timeout=10)  # released at once, not after the TTL
    family = descendants(second.proc.pid)
    second.signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0
    assert not any(alive(pid) for pid in family)


def test_a_publish_on_the_customer_channel_does_not_take_over_an_api_account(pipeline):
    """The issue's reproduction, as it was tried: an API customer logs in; one PUBLISH on
    canal-clientes names their e-mail with another password; the bridge and a worker apply
    it. The account is linked to the CRM id, and only its own password opens it."""
    pipeline.start_worker()
    pipeline.start_bridge()
    api = pipeline.app.test_client()
    cadastro = {"nome": "Alvo", "email": "alvo@example.com", "senha": "Original-Pass1"}
    assert api.post("/clientes", json=cadastro).status_code == 201
    assert api.post("/auth/login", json={"email": "alvo@example.com", "senha": "Original-Pass1"}).status_code == 200
    ataque = {**json.loads(java("canal-clientes.json")), "id": 4242, "email": "alvo@example.com"}
    ataque["senha"] = register("Hacked-Pass9")  # never in a log line: the bridge hashes it first
    register("Original-Pass1")
    pipeline.crm.publish("canal-clientes", json.dumps(ataque))
    pipeline.wait(
        lambda: pipeline.app.extensions["ponte"].mongo.db().clientes.find_one({"java_id": 4242}), what="linked"
    )
    assert api.post("/auth/login", json={"email": "alvo@example.com", "senha": "Hacked-Pass9"}).status_code == 401
    assert api.post("/auth/login", json={"email": "alvo@example.com", "senha": "Original-Pass1"}).status_code == 200
