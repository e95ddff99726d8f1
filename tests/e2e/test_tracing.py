"""Tracing across real processes: bridge, Celery workers and gunicorn export their spans
over OTLP/HTTP to a stand-in collector on 127.0.0.1 (``tests/otlp_collector.py``: an
in-memory exporter cannot be shared between processes), and each unit of work is one
connected trace.
"""

from __future__ import annotations

import itertools
import json

import pytest

from tests.conftest import make_key
from tests.e2e.conftest import start_gunicorn
from tests.helpers import ENDERECO, http
from tests.otlp_collector import Collector
from tests.otlp_collector import env as otlp_env
from tests.secrets_audit import register

pytestmark = pytest.mark.e2e

SENHA = "senha-do-tracing-1"
EMAIL = "cliente.tracing@example.com"


@pytest.fixture
def collector(tmp_path):
    # A .log file under the test's folder: the secrets audit reads every exported span.
    c = Collector(tmp_path / "otlp-spans.log")
    yield c
    c.close()


def produto(acao: str, java_id: int, estoque: int) -> str:
    return json.dumps({"acao": acao, "produto": {"id": java_id, "nome": f"P{java_id}", "preco": 5, "estoque": estoque}})


def chain(trace: list[dict], span: dict) -> list[tuple[str, str]]:
    """(service, name) from ``span`` up to its trace's root; fails if a parent is missing."""
    by_id = {s["span_id"]: s for s in trace}
    out = [(span["service"], span["name"])]
    while span["parent_span_id"]:
        assert span["parent_span_id"] in by_id, f"{span['name']}: parent not in the trace"
        span = by_id[span["parent_span_id"]]
        out.append((span["service"], span["name"]))
    return out


def whole(trace: list[dict]) -> bool:
    """Every span's parent has arrived (processes export on their own schedule)."""
    ids = {s["span_id"] for s in trace}
    return bool(trace) and all(s["parent_span_id"] in ids for s in trace if s["parent_span_id"])


def connected(trace: list[dict]) -> dict:
    """The trace's one root (every other span's parent is in the trace)."""
    roots = [s for s in trace if not s["parent_span_id"]]
    assert len(roots) == 1, [(s["service"], s["name"]) for s in roots]
    for span in trace:
        chain(trace, span)
    return roots[0]


def mongo_writes(trace: list[dict], collection: str) -> list[dict]:
    return [
        s
        for s in trace
        if s["attributes"].get("db.system") == "mongodb"
        and s["attributes"].get("db.mongodb.collection") == collection
        and s["name"].rsplit(".", 1)[-1] in ("update", "findAndModify", "insert")
    ]


def no_secret_in(spans: list[dict], *secrets: str) -> None:
    text = json.dumps(spans, ensure_ascii=False)
    assert not [s for s in secrets if s in text]


def test_a_crm_event_is_one_trace_from_the_bridge_to_its_mongodb_write(pipeline, collector):
    otel = otlp_env(collector)
    pipeline.start_worker(**otel)
    # Written before the bridge runs, these are read together: one batch task.
    for java_id in (601, 602, 603):
        pipeline.crm.xadd("ponte:eventos", {"canal": "produtos", "payload": produto("criado", java_id, 1)})
    pipeline.start_bridge(**otel)
    pipeline.crm.publish("produtos", produto("criado", 600, 7))
    pipeline.wait(lambda: all(pipeline.api_get(f"/produtos?java_id={i}") for i in (600, 601, 602, 603)))

    def the_trace():
        spans = collector.snapshot()
        lido = [s for s in spans if s["attributes"].get("ponte.crm_id") == 600 and s["service"] == "ponte-bridge"]
        trace = collector.trace(lido[0]["trace_id"]) if lido else []
        return trace if mongo_writes(trace, "produtos") and whole(trace) else None

    trace = pipeline.wait(the_trace, what="the event's trace down to its MongoDB write")
    root = connected(trace)
    assert root["service"] == "ponte-bridge" and root["name"] == "receive produtos" and root["kind"] == "CONSUMER"
    assert root["attributes"]["messaging.destination.name"] == "produtos"
    assert isinstance(root["attributes"]["ponte.seq"], int) and root["attributes"]["ponte.event_id"]
    assert chain(trace, mongo_writes(trace, "produtos")[0])[1:] == [
        ("ponte-worker", "run/tasks.sync.aplicar_evento"),
        ("ponte-bridge", "apply_async/tasks.sync.aplicar_evento"),
        ("ponte-bridge", "receive produtos"),
    ]
    assert {s["resource"]["process.pid"] for s in trace if s["service"] == "ponte-worker"} != {
        root["resource"]["process.pid"]
    }
    # A log search meets the trace: the worker's line for this event names it.
    event_id = root["attributes"]["ponte.event_id"]
    linhas = [json.loads(x) for x in pipeline.servers[0].output().splitlines() if x.startswith("{")]
    assert {x.get("trace_id") for x in linhas if x.get("event_id") == event_id} == {root["trace_id"]}
    _batch_links_every_event(pipeline, collector, root["trace_id"])


def _batch_links_every_event(pipeline, collector, other_trace: str) -> None:
    """Each event of the stream's batch its own trace from the bridge; the batch task links them all."""

    def read():
        spans = {s["attributes"]["ponte.crm_id"]: s for s in collector.snapshot() if s["name"] == "receive produtos"}
        return {601, 602, 603} <= set(spans) and spans

    eventos = pipeline.wait(read, what="the bridge's spans of the batch's events")
    ligados = {eventos[i]["trace_id"] for i in (601, 602, 603)}
    assert len(ligados) == 3 and other_trace not in ligados

    def batch_task():
        runs = [s for s in collector.snapshot() if s["name"] == "run/tasks.sync.aplicar_lote"]
        return runs and runs[0]

    lote = pipeline.wait(batch_task, what="the batch task's span")
    assert {link["trace_id"] for link in lote["links"]} == ligados
    trace = pipeline.wait(lambda: whole(t := collector.trace(lote["trace_id"])) and t, what="the batch's trace")
    assert chain(trace, lote)[-1] == ("ponte-bridge", "send sync batch")


def test_a_dead_letter_names_its_trace(pipeline, collector):
    otel = otlp_env(collector)
    pipeline.start_worker(**otel)
    pipeline.start_bridge(**otel)
    pipeline.crm.publish("produtos", b'{"acao": "criado", "produto": ')
    staff = pipeline.app.test_client()
    staff.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(pipeline.app, ('admin',), 'e2e')}"
    pipeline.wait(lambda: staff.get("/eventos-rejeitados").get_json(), what="the dead letter")
    rejeitado = staff.get("/eventos-rejeitados").get_json()[0]
    assert staff.get(f"/eventos-rejeitados/{rejeitado['id']}").get_json()["trace_id"] == rejeitado["trace_id"]
    assert rejeitado["historico"][0]["trace_id"] == rejeitado["trace_id"]

    def stored_in_its_trace():
        trace = collector.trace(rejeitado["trace_id"])
        return trace if mongo_writes(trace, "eventos_rejeitados") and whole(trace) else None

    trace = pipeline.wait(stored_in_its_trace, what="the dead letter's trace")
    root = connected(trace)
    assert (root["service"], root["name"]) == ("ponte-bridge", "receive produtos")
    assert root["attributes"]["ponte.resultado"] == "rejeitado"
    assert root["attributes"]["ponte.event_id"] == rejeitado["event_id"]


def traced_web(pipeline, tmp_path, otel: dict):
    """A real gunicorn on the pipeline's stores, traced as ``otel`` says."""
    web = start_gunicorn(pipeline.mongo_uri, pipeline.redis_url, pipeline.db_name, tmp_path, REDIS_PREFIX="e2e", **otel)
    pipeline.servers.append(web)
    return web


class Loja:
    """A shop over real HTTP, on a gunicorn traced like the worker."""

    def __init__(self, pipeline, web):
        self.pipeline, self.web = pipeline, web
        status, _, criado = self.call("POST", "/produtos", {"nome": "Caneca", "preco": 25, "estoque": 9}, web.auth)
        assert status == 201, criado
        self.produto = criado

    def call(self, method: str, path: str, body=None, headers=None):
        return http(method, self.web.url + path, body, headers)

    def comprar(self, cartao_token: str) -> dict:
        register(cartao_token)  # a payment token: never in a span
        novo = {"nome": "Cliente T", "email": EMAIL, "senha": SENHA, "endereco": ENDERECO}
        assert self.call("POST", "/clientes", novo)[0] == 201
        token = register(self.call("POST", "/auth/login", {"email": EMAIL, "senha": SENHA})[2]["access_token"])
        cliente = {"Authorization": f"Bearer {token}"}
        assert self.call("POST", "/carrinhos/me/itens", {"produto_id": self.produto["id"], "quantidade": 2}, cliente)[0]
        status, _, pedido = self.call("POST", "/pedidos", {"pagamento_metodo": "cartao", "cartao_token": cartao_token},
                                      cliente)  # fmt: skip
        assert status == 201, pedido
        return pedido

    def esperar_envio(self, pedido_id: str) -> None:
        self.pipeline.wait(
            lambda: self.call("GET", f"/pedidos/{pedido_id}/envio", headers=self.web.auth)[0] == 200, what="shipment"
        )


def _checkout_trace(collector, pipeline, pedido_id: str) -> list[dict]:
    def complete():
        post = [s for s in collector.snapshot() if s["name"] == "POST /pedidos" and s["service"] == "ponte-web"]
        trace = collector.trace(post[-1]["trace_id"]) if post else []
        return trace if any(s["name"] == "run/tasks.envios.criar" for s in trace) and whole(trace) else None

    return pipeline.wait(complete, what=f"the trace of order {pedido_id} down to its shipment")


def test_a_checkout_is_one_trace_from_http_to_the_pedidos_message(pipeline, collector, tmp_path):
    pipeline.start_worker(**otlp_env(collector))
    loja = Loja(pipeline, traced_web(pipeline, tmp_path, otlp_env(collector)))
    avisos = pipeline.redis.pubsub(ignore_subscribe_messages=True)
    avisos.subscribe("pedidos")
    pedido = loja.comprar("tok_aprova")
    loja.esperar_envio(pedido["id"])
    trace = _checkout_trace(collector, pipeline, pedido["id"])
    root = connected(trace)
    assert (root["service"], root["name"], root["kind"]) == ("ponte-web", "POST /pedidos", "SERVER")
    # The stock reservation, the payment task, the shipment task, each under the one before.
    assert mongo_writes([s for s in trace if s["service"] == "ponte-web"], "produtos"), "stock reserved in the trace"
    envio = next(s for s in trace if s["name"] == "run/tasks.envios.criar")
    assert [name for _, name in chain(trace, envio)] == [
        "run/tasks.envios.criar",
        "apply_async/tasks.envios.criar",
        "run/tasks.pagamentos.processar",
        "apply_async/tasks.pagamentos.processar",
        "POST /pedidos",
    ]
    # The CRM's notice carries the trace (W3C traceparent), as the contract says.
    mensagens = []
    pipeline.wait(lambda: mensagens.extend(_recebidas(avisos)) or mensagens, what="the pedidos message")
    avisos.close()
    traceparent = json.loads(mensagens[0])["traceparent"]
    assert traceparent.split("-")[1] == root["trace_id"]
    assert traceparent.split("-")[2] in {s["span_id"] for s in trace}
    publish = [s for s in trace if s["name"] == "PUBLISH" and s["service"] == "ponte-worker"]
    assert publish and publish[0]["attributes"]["db.statement"] == "PUBLISH ? ?"
    no_secret_in(collector.snapshot(), SENHA, EMAIL, "tok_aprova", loja.web.key)


def _recebidas(pubsub) -> list[bytes]:
    out = []
    while (msg := pubsub.get_message(timeout=0.1)) is not None:
        out.append(msg["data"])
    return out


def test_a_retried_payment_shows_each_try_in_the_checkout_trace(pipeline, collector, tmp_path):
    pipeline.start_worker(**otlp_env(collector), PAGAMENTO_RETRY_MAX_S=1)
    loja = Loja(pipeline, traced_web(pipeline, tmp_path, otlp_env(collector)))
    pedido = loja.comprar("tok_falha_2")  # the simulated gateway fails twice, then charges
    loja.esperar_envio(pedido["id"])
    trace = _checkout_trace(collector, pipeline, pedido["id"])
    connected(trace)
    tentativas = sorted(
        (s for s in trace if s["name"] == "run/tasks.pagamentos.processar"), key=lambda s: len(chain(trace, s))
    )
    assert len(tentativas) == 3
    motivos = [t["attributes"].get("celery.retry.reason") for t in tentativas]
    assert all(motivos[:2]) and motivos[2] is None, motivos
    # Each retry is published by the try before it: one chain, in order.
    by_id = {s["span_id"]: s for s in trace}
    for antes, depois in itertools.pairwise(tentativas):
        publicacao = by_id[depois["parent_span_id"]]
        assert publicacao["name"] == "apply_async/tasks.pagamentos.processar"
        assert publicacao["parent_span_id"] == antes["span_id"]
    no_secret_in(collector.snapshot(), SENHA, EMAIL, "tok_falha_2", loja.web.key)


def console_spans(*servers) -> list[dict]:
    """The spans the console exporter printed, one JSON object per line among the log lines,
    in the shape of the collector's (``tests/otlp_collector.py``)."""
    spans = []
    for server in servers:
        for line in server.output().splitlines():
            if not line.startswith('{"name"'):
                continue
            span = json.loads(line)
            spans.append({
                "trace_id": span["context"]["trace_id"].removeprefix("0x"),
                "span_id": span["context"]["span_id"].removeprefix("0x"),
                "parent_span_id": (span["parent_id"] or "").removeprefix("0x") or None,
                "name": span["name"],
                "service": span["resource"]["attributes"]["service.name"],
                "attributes": span["attributes"],
            })  # fmt: skip
    return spans


def test_the_console_exporter_prints_one_trace_per_crm_event_and_per_checkout(pipeline, tmp_path):
    console = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    worker = pipeline.start_worker(**console)
    bridge = pipeline.start_bridge(**console)
    web = traced_web(pipeline, tmp_path, console)
    pipeline.crm.publish("produtos", produto("criado", 700, 3))

    def traced(first: str, last: str):
        spans = console_spans(worker, bridge, web)
        for root in (s for s in spans if s["name"] == first and not s["parent_span_id"]):
            trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
            if any(s["name"] == last for s in trace) and whole(trace):
                return trace
        return None

    trace = pipeline.wait(lambda: traced("receive produtos", "run/tasks.sync.aplicar_evento"), what="the event")
    assert {s["service"] for s in trace} == {"ponte-bridge", "ponte-worker"} and mongo_writes(trace, "produtos")
    loja = Loja(pipeline, web)
    pedido = loja.comprar("tok_aprova")
    loja.esperar_envio(pedido["id"])
    trace = pipeline.wait(lambda: traced("POST /pedidos", "run/tasks.envios.criar"), what="the checkout")
    assert connected(trace)["service"] == "ponte-web"
    assert {"run/tasks.pagamentos.processar", "PUBLISH"} <= {s["name"] for s in trace}
