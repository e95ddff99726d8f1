"""A stand-in OpenTelemetry Collector for the tests: OTLP/HTTP on 127.0.0.1, spans kept
in memory, as the in-memory exporter would keep them, from every process at once.

Processes cannot share an in-memory exporter, and the console exporter would mix its
lines with each process's log on the same stdout (and a Celery pool's children write
there too). This receiver gets what production sends, through the real OTLP/HTTP
exporter, as structured data. Every span is also written, one JSON object per line, to
a ``.log`` file under the test's temporary folder, which the secrets audit of the suite
reads with the processes' logs (``tests/secrets_audit.py``).
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def _attributes(key_values) -> dict:
    return {kv.key: _value(kv.value) for kv in key_values}


def spans_of(request: ExportTraceServiceRequest) -> list[dict]:
    """The request's spans as plain dicts (ids in hex, the resource's attributes beside)."""
    found = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append({
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "name": span.name,
                    "kind": KINDS.get(span.kind, str(span.kind)),
                    "service": resource.get("service.name"),
                    "resource": resource,
                    "attributes": _attributes(span.attributes),
                    "events": [{"name": e.name, "attributes": _attributes(e.attributes)} for e in span.events],
                    "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(),
                               "attributes": _attributes(link.attributes)} for link in span.links],
                    "status": {"code": span.status.code, "message": span.status.message},
                })  # fmt: skip
    return found


class Collector:
    """``endpoint`` for OTEL_EXPORTER_OTLP_ENDPOINT; ``spans`` as received."""

    def __init__(self, log_path: Path):
        self.spans: list[dict] = []
        self._lock = threading.Lock()
        self._log = open(log_path, "a", encoding="utf-8")  # closed by close()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.add(spans_of(request))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_):  # one line per export would only be noise
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="otlp-collector", daemon=True)
        self._thread.start()

    def add(self, spans: list[dict]) -> None:
        with self._lock:
            self.spans.extend(spans)
            for span in spans:
                self._log.write(json.dumps(span, ensure_ascii=False) + "\n")
            self._log.flush()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.spans)

    def trace(self, trace_id: str) -> list[dict]:
        return [s for s in self.snapshot() if s["trace_id"] == trace_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        self._log.close()


def env(collector: Collector, service_env: dict | None = None) -> dict[str, str]:
    """What a process is given to send its spans to ``collector`` quickly (tests wait on them)."""
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        **(service_env or {}),
    }
