"""Prometheus metrics: what every process counts, and how ``/metrics`` gathers it.

Processes that fork (gunicorn, the Celery prefork pool) cannot keep metrics in
memory: each child would report only its own share. They run in prometheus-client's
multiprocess mode, each child writing to mmap files. ``prepare_multiprocess`` gives
each *process group* (one gunicorn master, one Celery worker) its own directory
``{METRICS_DIR}/{role}-{host}-{pid}`` under a root shared by the host, and removes
the directories of groups that have died on this host. ``/metrics`` merges every
directory under the root, so one scrape of the API shows the HTTP series of all
gunicorn workers and the task series of every worker on that host.

Figures that live elsewhere (queue depths, bridge counters, dead letters) are read
when scraped by ``StateCollector``: no process has to push them.

``adapters.metrics_dir.prepare_multiprocess`` must run before this module is imported
(prometheus-client picks its storage at import time): entry points call it first.
"""

from __future__ import annotations

import glob
import logging
import os
import threading
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from adapters import embutido
from adapters.metrics_dir import ENV

logger = logging.getLogger(__name__)


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
TASK_OUTCOMES = ("succeeded", "retried", "failed", "dead_lettered")

_metrics: dict[str, object] = {}
_metrics_lock = threading.Lock()


def _m(name: str, factory: Callable[[], object]):
    # Created on first use, after the entry point chose the storage mode. Under a lock:
    # the first requests of a gthread worker arrive together, and a metric registered
    # twice makes prometheus-client raise (a 500 caught by the e2e checkout test).
    found = _metrics.get(name)
    if found is None:
        with _metrics_lock:
            found = _metrics.get(name)
            if found is None:
                found = _metrics[name] = factory()
    return found


def http_requests() -> Counter:
    return _m("http_requests", lambda: Counter(
        "ponte_http_requests_total", "HTTP requests answered, by route template and status",
        ["method", "route", "status"]))  # fmt: skip


def http_latency() -> Histogram:
    return _m("http_latency", lambda: Histogram(
        "ponte_http_request_duration_seconds", "Time to answer an HTTP request",
        ["method", "route"], buckets=LATENCY_BUCKETS))  # fmt: skip


def tasks_total() -> Counter:
    return _m("tasks", lambda: Counter(
        "ponte_celery_tasks_total", "Celery task runs by task name and outcome "
        "(succeeded, retried, failed, dead_lettered)", ["task", "outcome"]))  # fmt: skip


def task_runtime() -> Histogram:
    return _m("task_runtime", lambda: Histogram(
        "ponte_celery_task_duration_seconds", "Celery task run time", ["task"],
        buckets=TASK_BUCKETS))  # fmt: skip


def record_task(task: str, outcome: str) -> None:
    tasks_total().labels(task=task, outcome=outcome).inc()


def sync_events() -> Counter:
    return _m("sync_events", lambda: Counter(
        "ponte_sync_events_total", "CRM events applied by the workers, by outcome (aplicado, criado, "
        "obsoleto: older than the stored data, removido, rejeitado, ...)", ["resultado"]))  # fmt: skip


def sync_implausible() -> Counter:
    return _m("sync_implausible", lambda: Counter(
        "ponte_sync_implausible_events_total", "CRM events whose sequence number lies more than "
        f"{IMPLAUSIBLE_AGE_S // 3600} h behind the clock (the order went back, or an old dead letter "
        "was replayed)"))  # fmt: skip


# Sequence numbers are the Redis clock's microseconds (adapters/sequencia.py): an event this
# far behind the clock was numbered by a counter that went back (or is an old replay).
IMPLAUSIBLE_AGE_S = 24 * 3600


def record_sync_event(resultado: str, seq: int, now_s: float) -> None:
    sync_events().labels(resultado=resultado).inc()
    if seq < (now_s - IMPLAUSIBLE_AGE_S) * 1_000_000:
        sync_implausible().inc()


class StateCollector:
    """Figures read from Redis and MongoDB at scrape time."""

    def __init__(self, redis_client: Callable, db: Callable, queues: Iterable[str], prefix: str,
                 limite_embutido: int = embutido.LIMITE_PRODUTOS):  # fmt: skip
        self._redis, self._db = redis_client, db
        self._queues = tuple(queues)
        self._prefix = prefix
        self._limite = limite_embutido
        self._embutido: bool | None = None  # asked once: a store does not change kind

    def collect(self):
        up = GaugeMetricFamily("ponte_dependency_up", "Whether a scrape-time read succeeded", labels=["dependency"])
        yield from self._redis_figures(up)
        yield self._mongo_figures(up)
        yield from self._catalogo(up)
        yield up

    def _redis_figures(self, up: GaugeMetricFamily) -> tuple:
        depth = GaugeMetricFamily("ponte_queue_depth", "Messages waiting in a Celery queue", labels=["queue"])
        bridge = CounterMetricFamily(
            "ponte_bridge_events", "Bridge events by stage (recebidos, enfileirados, rejeitados, erros)",
            labels=["stage"])  # fmt: skip
        lag = GaugeMetricFamily("ponte_bridge_enqueue_lag_seconds", "Time the bridge took to enqueue the last event")
        stream = GaugeMetricFamily(
            "ponte_bridge_stream_entries", "Durable stream entries not yet handled: lag (never delivered), "
            "pendentes (delivered, not acknowledged)", labels=["estado"])  # fmt: skip
        try:
            client = self._redis()
            with client.pipeline(transaction=False) as pipe:
                for q in self._queues:
                    pipe.llen(q)
                pipe.hgetall(f"{self._prefix}:bridge:stats")
                *lens, stats = pipe.execute()
            for q, n in zip(self._queues, lens, strict=True):
                depth.add_metric([q], n)
            stats = {k.decode() if isinstance(k, bytes) else k: v for k, v in stats.items()}
            for stage in ("recebidos", "enfileirados", "rejeitados", "erros"):
                bridge.add_metric([stage], float(stats.get(stage, 0)))
            lag.add_metric([], float(stats.get("ultimo_lag_ms", 0)) / 1000)
            # Written by the bridge's stream thread (0 while no stream is configured).
            for estado in ("lag", "pendentes"):
                stream.add_metric([estado], float(stats.get(f"stream_{estado}", 0)))
            up.add_metric(["redis"], 1)
        except Exception:  # a scrape must answer even when Redis does not
            logger.warning("metrics: Redis figures unavailable", exc_info=True)
            up.add_metric(["redis"], 0)
        return depth, bridge, lag, stream

    def _mongo_figures(self, up: GaugeMetricFamily) -> GaugeMetricFamily:
        dead = GaugeMetricFamily("ponte_dead_letters", "Dead letters waiting for staff (estado pendente)")
        try:
            # Counted on the indexed ``estado`` field: cheap even with a large store.
            dead.add_metric([], self._db()["eventos_rejeitados"].count_documents({"estado": "pendente"}))
            up.add_metric(["mongo"], 1)
        except Exception:
            logger.warning("metrics: MongoDB figures unavailable", exc_info=True)
            up.add_metric(["mongo"], 0)
        return dead

    def _catalogo(self, up: GaugeMetricFamily):
        """The catalogue's size and, on the embedded store, the limit it carries well."""
        try:
            db = self._db()
            if self._embutido is None:
                self._embutido = embutido.e_embutido(db)
            n = embutido.produtos(db)
        except Exception:
            logger.warning("metrics: catalogue size unavailable", exc_info=True)
            return
        yield GaugeMetricFamily("ponte_produtos", "Products stored (the catalogue's size)", value=n)
        if self._embutido:
            yield GaugeMetricFamily(
                "ponte_embedded_store_product_limit",
                "Products the embedded store (mongoeco) carries well; past it, set MONGO_URI (README)",
                value=self._limite,
            )
            yield GaugeMetricFamily("ponte_embedded_store_over_limit", "1 when the embedded store holds more "
                                    "products than it carries well", value=float(n > self._limite))  # fmt: skip


class _AllGroups:
    """Merges the multiprocess files of every process group under ``root``."""

    def __init__(self, root: str):
        self.root = root

    def collect(self):
        files = glob.glob(os.path.join(self.root, "*", "*.db"))
        return MultiProcessCollector.merge(files, accumulate=True)


def registry(root: str | None, extra: Iterable[object] = ()) -> CollectorRegistry:
    """The registry a scrape renders: every group's files (or this process's own
    metrics when not in multiprocess mode) plus scrape-time collectors."""
    if root and os.environ.get(ENV):
        reg = CollectorRegistry(auto_describe=False)
        reg.register(_AllGroups(root))
    else:
        from prometheus_client import REGISTRY

        reg = CollectorRegistry(auto_describe=False)
        reg.register(_Proxy(REGISTRY))
    for collector in extra:
        reg.register(collector)
    return reg


class _Proxy:
    def __init__(self, inner):
        self.inner = inner

    def collect(self):
        return self.inner.collect()


def render(reg: CollectorRegistry) -> bytes:
    return generate_latest(reg)
