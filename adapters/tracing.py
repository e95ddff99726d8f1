"""Tracing (OpenTelemetry) for every Ponte process: off unless ``OTEL_TRACES_EXPORTER``
names an exporter (``otlp``, ``console``). Configured by the standard ``OTEL_*`` variables.

One call per entrypoint: ``instrument_flask(app)`` in the web app, ``instrument_celery``
for the worker's pool processes and beat, ``setup(cfg, "bridge")`` in the bridge. Off,
each returns at once: no provider, no exporter thread, nothing instrumented.

On, the maintained instrumentations trace Flask, Celery (publish, run, retries), PyMongo
(command names, never statements) and redis-py (commands, never arguments). This module
adds what they cannot know: the bridge's span per CRM message and the links of a batch
task to its events, the trace id of a dead letter, the ``traceparent`` of a ``pedidos``
message, and ``trace_id``/``span_id`` on every log line. Every span passes a privacy
filter before export (``_PrivacyFilter``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sys
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# The API only (redis-py imports it anyway): the SDK and the instrumentations are
# imported by ``setup``, when tracing is on.
from opentelemetry import context as otel_context
from opentelemetry import trace

from adapters import logs
from settings import ConfigError

logger = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console")
PROTOCOL = "http/protobuf"  # the OTLP exporter installed (no gRPC stack)
# Probes and scrapes, every few seconds: a trace each would drown the real ones.
EXCLUDED_URLS = r"/health(\?|$),/ready(\?|$),/metrics(\?|$)"
# Header of a batch sync task: [[event_id, traceparent], ...] of the events it carries.
LINKS_HEADER = "ponte_eventos"
PENDING_MAX = 10_000  # events read but not yet published, remembered for their span

_NULL = contextlib.nullcontext()
_state: dict[str, Any] = {}  # "provider", "role" once on
_pending: OrderedDict[int, Any] = OrderedDict()  # id(envelope dict) -> its span context
_pending_lock = threading.Lock()
_batch_events: dict[str, Any] = {}  # in a batch task: event_id -> the event's span context


def exporters(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names; [] when tracing is off (unset,
    ``none``, or ``OTEL_SDK_DISABLED=true``). Off by default, unlike the SDK's own
    default (``otlp``): a process traces only when told to."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if unknown := sorted(set(names) - set(EXPORTERS)):
        raise ConfigError(f"OTEL_TRACES_EXPORTER: unknown exporter {', '.join(unknown)} (otlp, console or none)")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if "otlp" in names and protocol not in (None, "", PROTOCOL):
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: Ponte exports OTLP as {PROTOCOL} only, not {protocol}")
    return names


def active() -> bool:
    return "provider" in _state


def setup(cfg: Mapping[str, Any], role: str) -> bool:
    """Turn tracing on for this process as ``ponte-<role>`` when ``OTEL_TRACES_EXPORTER``
    asks for it (idempotent); False when off. Call it in the process that does the work,
    after any fork: the resource names that process, and pymongo traces only the clients
    made after it."""
    names = exporters()
    if not names or active():
        return bool(names)
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # A batch task links each of its events (up to BRIDGE_BATCH_MAX, beyond the SDK's 128).
    links = int(os.environ.get("OTEL_SPAN_LINK_COUNT_LIMIT") or max(128, int(cfg.get("BRIDGE_BATCH_MAX", 0))))
    provider = TracerProvider(resource=_resource(cfg, role), span_limits=SpanLimits(max_links=links))
    provider.sampler = _UnitsOfWork(provider.sampler)  # OTEL_TRACES_SAMPLER's, read by the SDK
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_PrivacyFilter(_exporter(name))))
    trace.set_tracer_provider(provider)
    _state.update(provider=provider, role=role)
    _instrument_libraries()
    logs.set_trace_fields(_log_fields)
    logger.info("tracing on: service ponte-%s, exporter %s", role, ",".join(names))
    return True


def shutdown() -> None:
    """Export what is still buffered: a Celery pool process ends without running atexit,
    where the provider flushes itself in every other process."""
    provider = _state.get("provider")
    if provider is not None:
        provider.force_flush(timeout_millis=5000)


def _resource(cfg: Mapping[str, Any], role: str):
    from opentelemetry.sdk.resources import Resource

    attributes = {
        "service.name": f"ponte-{role}",
        "service.namespace": "ponte",
        "service.version": _version(),
        "deployment.environment.name": str(cfg.get("PONTE_ENV", "")),
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),  # setup runs after any fork: the process at work
        "process.executable.name": Path(sys.executable).name,
        "process.runtime.name": sys.implementation.name,
        "process.runtime.version": ".".join(map(str, sys.version_info[:3])),
    }
    # OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME still win, as the specification says.
    return Resource.create(attributes)


def _version() -> str:
    try:
        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _exporter(name: str):
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # One JSON object per line beside the process's log lines, on the real stdout: a
        # Celery pool process's sys.stdout is a logger (worker_redirect_stdouts).
        return ConsoleSpanExporter(out=sys.__stdout__, formatter=lambda span: span.to_json(indent=None) + os.linesep)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT...


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument()  # statements as "SET ? ?": never a value
    PymongoInstrumentor().instrument(capture_statement=False)  # command names only
    _celery_instrumentor().instrument()
    from celery import signals

    signals.before_task_publish.connect(_batch_header, weak=False)
    # Connected after the instrumentor's: its run span exists when these run.
    signals.task_prerun.connect(_link_batch_events, weak=False)
    signals.task_postrun.connect(_forget_batch_events, weak=False)


def _log_fields() -> dict[str, str]:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {"trace_id": format(span_context.trace_id, "032x"), "span_id": format(span_context.span_id, "016x")}


# -- entrypoints --------------------------------------------------------------------------
def instrument_flask(app) -> None:
    """The web app's one call: each request a span named by its route (after ``setup``)."""
    if not setup(app.config, "web"):
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    excluded = os.environ.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS") or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
    FlaskInstrumentor().instrument_app(app, excluded_urls=excluded or EXCLUDED_URLS, enable_commenter=False)
    # Its hook was appended last; first, the rate limits' and authentication's own store
    # calls (and log lines) happen inside the request's span.
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, hooks.pop())


def instrument_celery(cfg_loader) -> None:
    """The Celery processes' one call (at import of ``tasks``): tracing starts in each pool
    process (after the fork, before its MongoClient is made) and in beat."""
    if not exporters():
        return
    from celery import signals

    def _worker_process(**_):
        setup(cfg_loader(), "worker")

    def _threads_pool(sender=None, **_):
        if "thread" in str(getattr(sender, "pool_cls", "")).lower():  # no pool process: this one runs tasks
            setup(cfg_loader(), "worker")

    signals.worker_process_init.connect(_worker_process, weak=False)
    signals.worker_init.connect(_threads_pool, weak=False)
    signals.beat_init.connect(lambda **_: setup(cfg_loader(), "beat"), weak=False)
    signals.worker_process_shutdown.connect(lambda **_: shutdown(), weak=False)


# -- the bridge: one trace per CRM message ------------------------------------------------
def event(channel: str, origin: str, event_id: str):
    """The span of one CRM message, from its read to its hand-over (``with``); the trace
    of the event starts here. A no-op context when tracing is off."""
    if not active():
        return _NULL
    name = channel.split(":", 1)[0] + ":*" if ":" in channel else channel  # carrinho:<id>: one name
    return trace.get_tracer(__name__).start_as_current_span(
        f"receive {name}",
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "redis",
            "messaging.operation.type": "receive",
            "messaging.destination.name": channel,
            "messaging.message.id": event_id,
            "ponte.event_id": event_id,
            "ponte.origem": origin,
        },
    )


def annotate(**fields) -> None:
    """Attributes of the current span as ``ponte.<name>`` (None values left out)."""
    if not active():
        return
    span = trace.get_current_span()
    for key, value in fields.items():
        if value is not None:
            span.set_attribute(f"ponte.{key}", value if isinstance(value, int | float | bool) else str(value))


def remember(envelope: dict) -> None:
    """An envelope waits in a batch: keep its span, to publish it (or link it) later."""
    if not active():
        return
    with _pending_lock:
        _pending[id(envelope)] = trace.get_current_span().get_span_context()
        while len(_pending) > PENDING_MAX:
            _pending.popitem(last=False)


def publishing(batch: list[dict]):
    """Around the publish of what ``remember`` kept: one envelope is published within its
    own event's trace; a batch in a span of its own that links every event's span (and
    its task, through ``LINKS_HEADER``, does too)."""
    if not active() or not batch:
        return _NULL
    with _pending_lock:
        contexts = [_pending.get(id(envelope)) for envelope in batch]
    if len(batch) == 1:
        return _within(contexts[0])
    return _batch_span(batch, contexts)


@contextlib.contextmanager
def _within(span_context) -> Iterator[None]:
    if span_context is None:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextlib.contextmanager
def _batch_span(batch: list[dict], contexts: list) -> Iterator[None]:
    links = [trace.Link(c) for c in contexts if c is not None and c.is_valid]
    header = [[e.get("event_id"), _traceparent(c)] for e, c in zip(batch, contexts, strict=True) if c and c.is_valid]
    tracer = trace.get_tracer(__name__)
    # A root of its own: the batch belongs to no single event's trace.
    with tracer.start_as_current_span(
        "send sync batch", context=otel_context.Context(), links=links, attributes={"ponte.eventos": len(batch)}
    ):
        token = otel_context.attach(otel_context.set_value(LINKS_HEADER, header))
        try:
            yield
        finally:
            otel_context.detach(token)


def _batch_header(headers=None, **_) -> None:
    """``before_task_publish``: the events of the batch being published, for its task."""
    header = otel_context.get_value(LINKS_HEADER)
    if header and headers is not None:
        headers[LINKS_HEADER] = header


def _link_batch_events(task=None, **_) -> None:
    """``task_prerun``: a batch task's span links every event's span."""
    request = getattr(task, "request", None)
    pairs = getattr(request, LINKS_HEADER, None) or ((getattr(request, "headers", None) or {}).get(LINKS_HEADER))
    if not pairs:
        return
    span = trace.get_current_span()
    for event_id, traceparent in pairs:
        if (span_context := _parse_traceparent(traceparent)) is not None:
            _batch_events[str(event_id)] = span_context
            span.add_link(span_context, {"ponte.event_id": str(event_id)})


def _forget_batch_events(**_) -> None:
    _batch_events.clear()


# -- what other stores and messages carry -------------------------------------------------
def trace_id(event_id: str | None = None) -> str | None:
    """The trace to name for the work in hand (a dead letter keeps it): the event's own
    when a batch task carries it, else the current one; None when off or outside a trace."""
    if not active():
        return None
    span_context = _batch_events.get(event_id) if event_id else None
    span_context = span_context or trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` (for a message to another system)."""
    if not active():
        return None
    span_context = trace.get_current_span().get_span_context()
    return _traceparent(span_context) if span_context.is_valid else None


def _traceparent(span_context) -> str:
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _parse_traceparent(value) -> trace.SpanContext | None:
    match = _TRACEPARENT.match(str(value))
    if not match:
        return None
    span_context = trace.SpanContext(
        int(match[1], 16), int(match[2], 16), is_remote=True, trace_flags=trace.TraceFlags(int(match[3], 16))
    )
    return span_context if span_context.is_valid else None


# -- what the SDK is given ------------------------------------------------------------------
class _UnitsOfWork:
    """The sampler: the one ``OTEL_TRACES_SAMPLER`` names, except that a store command
    outside any unit of work (a worker's heartbeat, the bridge's leader lock and stream
    polls, a cached read answered before Flask) starts no trace of its own."""

    def __init__(self, inner):
        from opentelemetry.sdk.trace.sampling import Decision, SamplingResult

        self._inner, self._drop = inner, SamplingResult(Decision.DROP)

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None):
        if kind == trace.SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return self._drop
        return self._inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"PonteUnitsOfWork{{{self._inner.get_description()}}}"


# Attributes never exported whatever they hold (request headers, if an operator has them captured).
_SECRET_KEY = re.compile(r"authorization|cookie|passw|senha|secret|token|api[_-]?key|e-?mail|cartao", re.I)
# A query string may hold an e-mail (GET /clientes?email=...) or search terms: the path stays.
_URL_KEYS = frozenset({"http.url", "url.full", "http.target"})
_DROPPED_KEYS = frozenset({"url.query"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_HOST_KEYS = frozenset({"celery.hostname"})  # worker@host.domain is no e-mail


def _clean_value(key: str, value):
    if isinstance(value, str):
        if key in _URL_KEYS:
            value = value.split("?", 1)[0]
        value = logs.redact(value)
        return value if key in _HOST_KEYS else _EMAIL.sub("***@***", value)
    if isinstance(value, tuple | list):
        return tuple(_clean_value(key, v) for v in value)
    return value


def clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Attributes as exported: secrets masked (the log filter's patterns), e-mails and
    query strings removed, keys that name a credential or contact dropped."""
    return {
        key: _clean_value(key, value)
        for key, value in (attributes or {}).items()
        if key not in _DROPPED_KEYS and not _SECRET_KEY.search(key)
    }


class _PrivacyFilter:
    """The exporter as the processor sees it: every span goes out through
    ``clean_attributes`` (its attributes, events' such as exception messages, links') and a
    masked status. A second line after the instrumentations' own settings (no statements,
    no arguments, no headers): whatever an exception or a future attribute carries."""

    def __init__(self, exporter):
        self._exporter = exporter

    def export(self, spans):
        return self._exporter.export([_clean_span(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _clean_span(span):
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status

    status = span.status
    if status.description:
        status = Status(status.status_code, _clean_value("status", status.description))
    return ReadableSpan(
        name=logs.redact(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=clean_attributes(span.attributes),
        events=[Event(e.name, clean_attributes(e.attributes), e.timestamp) for e in span.events],
        links=[trace.Link(link.context, clean_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _celery_instrumentor():
    """The maintained Celery instrumentor, told about tasks sent by name. Web and bridge
    send tasks they do not define (``send_task``): the instrumentor finds no task object
    to keep their publish span on, so the span ends as soon as it starts (its context
    manager is dropped) and the broker's commands fall outside it. A stand-in object per
    task name keeps it until the message is sent."""
    from celery import registry
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    stand_ins: dict[str, Any] = {}

    def by_name(kwargs: dict) -> dict:
        sender = kwargs.get("sender")
        if isinstance(sender, str) and registry.tasks.get(sender) is None:
            kwargs = {**kwargs, "sender": stand_ins.setdefault(sender, _TaskName(sender))}
        return kwargs

    class _ByName(CeleryInstrumentor):
        def _trace_before_publish(self, *args, **kwargs):
            super()._trace_before_publish(*args, **by_name(kwargs))

        def _trace_after_publish(self, *args, **kwargs):
            CeleryInstrumentor._trace_after_publish(*args, **by_name(kwargs))

    return _ByName()


class _TaskName:
    """Where the Celery instrumentor keeps a publish span of a task known by name only."""

    def __init__(self, name: str):
        self.name = name
