"""Tracing's configuration, its privacy filter and sampler, and what it costs when off."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision

from adapters import logs, tracing
from settings import ConfigError
from tests.helpers import ROOT

SENHA = "senha-que-nao-sai-1"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, Console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_tracing_is_off_unless_an_exporter_is_named(environ, expected):
    assert tracing.exporters(environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "jaeger"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
    ],
)
def test_a_tracing_setting_ponte_cannot_honour_stops_start_up(environ):
    with pytest.raises(ConfigError):
        tracing.exporters(environ)


# Every entrypoint, as its process runs it, with OTEL_* unset (make run's default).
OFF_PROBE = """
import json, sys, threading
from celery import signals
from opentelemetry import trace
import redis
import settings
from adapters import logs, tracing
from bridge.__main__ import build
import tasks, wsgi

cfg = settings.load()
bridge = build(cfg)
assert tracing.setup(cfg, "bridge") is False
signals.worker_process_init.send(sender=None)
signals.beat_init.send(sender=None)
assert wsgi.app.test_client().get("/health").status_code == 200
print(json.dumps({
    "threads": [t.name for t in threading.enumerate()],
    "provider": type(trace.get_tracer_provider()).__name__,
    "modules": sorted(m for m in sys.modules if m.startswith(("opentelemetry.instrumentation", "opentelemetry.sdk.t"))),
    "redis_wrapped": hasattr(redis.Redis.execute_command, "__wrapped__"),
    "flask_wrapped": hasattr(wsgi.app, "_original_wsgi_app"),
    "log_hook": logs._trace_fields is not None,
    "bridge_span": tracing.event("produtos", "pubsub", "e1") is tracing._NULL,
    "active": tracing.active(),
}))
"""


def test_off_by_default_nothing_is_instrumented_and_no_exporter_thread_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "MONGO_", "REDIS_"))}
    # Stores that answer nothing: connecting is lazy, and nothing here waits on them.
    env.update(PONTE_ENV="test", PONTE_VAR_DIR=str(tmp_path), METRICS_DIR=str(tmp_path / "m"),
               MONGO_URI="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100",
               REDIS_URL="redis://127.0.0.1:1/0")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", OFF_PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert not [t for t in state["threads"] if t.startswith("Otel")], state["threads"]
    assert state["provider"] == "ProxyTracerProvider" and state["modules"] == []
    assert not (state["redis_wrapped"] or state["flask_wrapped"] or state["log_hook"] or state["active"])
    assert state["bridge_span"]  # the bridge's per-message call is a shared no-op context


def test_make_run_and_the_procfile_set_no_tracing_variable():
    for path in ("Procfile", "devstack/run.py", "devstack/supervise.py", "Makefile"):
        assert "OTEL_" not in (ROOT / path).read_text(), path


def _provider_with(exporter) -> TracerProvider:
    provider = TracerProvider(sampler=ALWAYS_ON, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(tracing._PrivacyFilter(exporter)))
    return provider


def test_exported_spans_carry_no_secret_no_email_and_no_query_string():
    exporter = InMemorySpanExporter()
    tracer = _provider_with(exporter).get_tracer("test")
    with tracer.start_as_current_span("GET /clientes", attributes={
        "http.url": "http://api/clientes?email=maria@example.com",
        "http.target": "/clientes?email=maria@example.com",
        "url.query": "email=maria@example.com",
        "http.request.header.authorization": ("Bearer abcdefghijkl",),
        "http.request.header.x_api_key": ("ponte_0123abcd_" + "x" * 20,),
        "db.statement": f"login senha={SENHA}",
        "ponte.destino": "mongodb://ponte:s3cret-pw@db:27017/x",
        "celery.hostname": "w-0@worker.example.com",
        "ponte.seq": 7,
    }) as span:  # fmt: skip
        span.record_exception(ValueError(f"duplicate key {{ email_norm: 'maria@example.com' }} password={SENHA}"))
        span.set_status(trace.Status(trace.StatusCode.ERROR, "E11000 dup key: maria@example.com"))
    (exported,) = exporter.get_finished_spans()
    text = json.dumps({"a": dict(exported.attributes), "e": [dict(e.attributes) for e in exported.events],
                       "s": exported.status.description})  # fmt: skip
    for secret in ("maria@example.com", SENHA, "abcdefghijkl", "x" * 20, "s3cret-pw", "?email"):
        assert secret not in text, secret
    assert exported.attributes["http.target"] == "/clientes" and "url.query" not in exported.attributes
    assert not any("authorization" in k or "api_key" in k for k in exported.attributes)
    assert exported.attributes["celery.hostname"] == "w-0@worker.example.com" and exported.attributes["ponte.seq"] == 7
    assert exported.context.trace_id == span.get_span_context().trace_id  # the same span, cleaned


def test_a_store_command_outside_any_unit_of_work_starts_no_trace():
    sampler = tracing._UnitsOfWork(ALWAYS_ON)
    root = trace.set_span_in_context(trace.INVALID_SPAN)
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(trace.SpanContext(1, 2, is_remote=False, trace_flags=trace.TraceFlags(1)))
    )
    assert sampler.should_sample(root, 5, "XREADGROUP", trace.SpanKind.CLIENT).decision == Decision.DROP
    assert sampler.should_sample(parent, 1, "XADD", trace.SpanKind.CLIENT).decision == Decision.RECORD_AND_SAMPLE
    assert sampler.should_sample(root, 5, "receive produtos", trace.SpanKind.CONSUMER).decision.is_sampled()
    assert "AlwaysOnSampler" in sampler.get_description()


def test_log_lines_get_the_current_trace_and_span_ids(monkeypatch):
    monkeypatch.setattr(logs, "_trace_fields", None)
    logs.set_trace_fields(tracing._log_fields)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "evento", None, None)
    span_context = trace.SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=trace.TraceFlags(1))
    with trace.use_span(trace.NonRecordingSpan(span_context)):
        logs.RedactingFilter("worker").filter(record)
    assert (record.trace_id, record.span_id) == (f"{0xABC:032x}", f"{0xDEF:016x}")
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "evento", None, None)
    logs.RedactingFilter("worker").filter(outside)
    assert not hasattr(outside, "trace_id")


def test_traceparent_round_trip():
    span_context = trace.SpanContext(0x1F, 0x2E, is_remote=False, trace_flags=trace.TraceFlags(1))
    texto = tracing._traceparent(span_context)
    assert texto == f"00-{0x1F:032x}-{0x2E:016x}-01"
    lido = tracing._parse_traceparent(texto)
    assert (lido.trace_id, lido.span_id, lido.is_remote) == (0x1F, 0x2E, True)
    assert tracing._parse_traceparent("00-" + "0" * 32 + "-" + "0" * 16 + "-01") is None
    assert tracing._parse_traceparent("garbage") is None


@pytest.fixture
def traced(monkeypatch):
    """Tracing on in this process only for the test: spans of ``adapters.tracing`` go to an
    in-memory exporter (the global provider stays untouched for the rest of the suite)."""
    exporter = InMemorySpanExporter()
    provider = _provider_with(exporter)
    monkeypatch.setattr(trace, "get_tracer", lambda name, *_, **__: provider.get_tracer(name))
    monkeypatch.setitem(tracing._state, "provider", provider)
    yield provider, exporter
    tracing._forget_batch_events()


def test_the_bridge_publishes_a_lone_event_in_its_trace_and_a_batch_linking_each(traced):
    provider, exporter = traced
    tracer = provider.get_tracer("test")
    envelopes = [{"event_id": f"e{i}"} for i in range(3)]
    for envelope in envelopes:
        with tracing.event("carrinho:3", "stream", envelope["event_id"]):
            tracing.annotate(crm_id=3, seq=10, acao=None)
            tracing.remember(envelope)
    with tracing.publishing(envelopes[:1]), tracer.start_as_current_span("apply_async/one"):
        pass
    headers: dict = {}
    with tracing.publishing(envelopes), tracer.start_as_current_span("apply_async/batch"):
        tracing._batch_header(headers=headers)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    eventos = [s for s in exporter.get_finished_spans() if s.name == "receive carrinho:*"]
    assert [e.attributes["ponte.event_id"] for e in eventos] == ["e0", "e1", "e2"]
    assert eventos[0].attributes["ponte.seq"] == 10 and "ponte.acao" not in eventos[0].attributes
    assert spans["apply_async/one"].parent.span_id == eventos[0].context.span_id
    batch = spans["send sync batch"]
    assert batch.parent is None and spans["apply_async/batch"].parent.span_id == batch.context.span_id
    assert [link.context.span_id for link in batch.links] == [e.context.span_id for e in eventos]
    assert headers[tracing.LINKS_HEADER] == [[e.attributes["ponte.event_id"], tracing._traceparent(e.context)]
                                             for e in eventos]  # fmt: skip


def test_a_batch_task_links_its_events_and_names_each_event_s_trace(traced):
    provider, exporter = traced
    tracer = provider.get_tracer("test")
    eventos = []
    for i in range(2):
        with tracer.start_as_current_span(f"receive {i}") as span:
            eventos.append(span.get_span_context())
    header = [[f"e{i}", tracing._traceparent(c)] for i, c in enumerate(eventos)]
    request = type("Request", (), {tracing.LINKS_HEADER: header, "headers": None})()
    with tracer.start_as_current_span("run/tasks.sync.aplicar_lote") as run:
        tracing._link_batch_events(task=type("Task", (), {"request": request})())
        assert tracing.trace_id("e1") == f"{eventos[1].trace_id:032x}"  # its dead letter names its own trace
        assert tracing.trace_id("outro") == f"{run.get_span_context().trace_id:032x}"
        assert tracing.traceparent() == tracing._traceparent(run.get_span_context())
    tracing._forget_batch_events()
    (lote,) = [s for s in exporter.get_finished_spans() if s.name.startswith("run/")]
    assert [(link.context.trace_id, link.attributes["ponte.event_id"]) for link in lote.links] == [
        (eventos[0].trace_id, "e0"),
        (eventos[1].trace_id, "e1"),
    ]


def test_off_the_stores_get_no_trace_id_and_messages_no_traceparent():
    assert tracing.trace_id("e1") is None and tracing.traceparent() is None
    assert tracing.publishing([{"event_id": "e1"}]) is tracing._NULL


def test_a_task_sent_by_name_is_sent_within_its_publish_span():
    """Alone, the maintained instrumentor ends the publish span of a task this process does
    not define before the message goes out; Ponte's web and bridge send every task so."""
    from celery import Celery, signals

    exporter = InMemorySpanExporter()
    provider = _provider_with(exporter)
    seen = []
    # Connected before the instrumentor's own receiver: runs once the message is sent.
    receiver = lambda **_: seen.append(trace.get_current_span())  # noqa: E731
    signals.after_task_publish.connect(receiver, weak=False)
    instrumentor = tracing._celery_instrumentor()
    instrumentor.instrument(tracer_provider=provider)
    app = Celery("probe", broker="memory://", set_as_current=False)
    try:
        with provider.get_tracer("test").start_as_current_span("POST /pedidos") as request:
            app.send_task("tasks.not.here", args=["x"], queue="probe")
            assert trace.get_current_span() is request  # and nothing is left behind
    finally:
        instrumentor.uninstrument()
        signals.after_task_publish.disconnect(receiver)
    (publish,) = [s for s in exporter.get_finished_spans() if s.name == "apply_async/tasks.not.here"]
    assert publish.parent.span_id == request.get_span_context().span_id
    assert seen[0].get_span_context().span_id == publish.context.span_id
