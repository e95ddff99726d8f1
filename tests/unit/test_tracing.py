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
