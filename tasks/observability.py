"""What Celery processes report about themselves: logs, metrics and presence.

- Logging: Ponte's JSON configuration replaces Celery's (``setup_logging``); each task
  runs with its ``task_id``, name and the ``request_id``/``event_id`` it was published
  with bound to every log line.
- Metrics: every run is counted by outcome (succeeded, retried, failed, dead_lettered:
  the task stored its event as a dead letter) and timed.
- Presence: the worker's main process writes ``{prefix}:workers:{queue}`` sorted sets
  (member = worker hostname, score = last beat) every ``WORKER_HEARTBEAT_S``, so
  ``/ready`` knows which queues have live consumers with a single Redis round trip,
  instead of a broadcast ``inspect ping`` on every probe.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from celery.signals import (
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    worker_init,
    worker_ready,
    worker_shutdown,
)

import bootstrap
from adapters import logs, metrics, tracing
from adapters.store_errors import REDIS_ERRORS
from domain.eventos import Resultado

logger = logging.getLogger(__name__)

# What a task returns when it stored its event as a dead letter (tasks.sync).
DEAD_LETTERED = Resultado.REJEITADO

_runs: dict[str, tuple[float, object]] = {}


def _role() -> str:
    return "beat" if "beat" in sys.argv else "worker"


def install(app, cfg_loader) -> None:
    """Connect the signal receivers for ``app`` (settings read lazily via ``cfg_loader``)."""
    # First: a pool process must trace before tasks/__init__ makes its MongoClient.
    tracing.instrument_celery(cfg_loader)
    setup_logging.connect(lambda **_: logs.configure(cfg_loader(), _role()), weak=False)
    task_prerun.connect(_prerun, weak=False)
    task_postrun.connect(_postrun, weak=False)
    task_retry.connect(_retry, weak=False)
    task_failure.connect(_failure, weak=False)
    worker_init.connect(lambda **_: _serve_metrics(cfg_loader()), weak=False)
    heart = _Heartbeat(cfg_loader)
    worker_ready.connect(heart.start, weak=False)
    worker_shutdown.connect(heart.stop, weak=False)


def _prerun(task_id=None, task=None, **_) -> None:
    req = task.request
    headers = req.headers or {}
    token = logs.bind(
        request_id=getattr(req, "request_id", None) or headers.get("request_id"),
        event_id=getattr(req, "event_id", None) or headers.get("event_id"),
        task_id=task_id,
        task_name=task.name,
    )
    _runs[task_id] = (time.monotonic(), token)


def _postrun(task_id=None, task=None, retval=None, state=None, **_) -> None:
    started, token = _runs.pop(task_id, (None, None))
    if started is not None:
        metrics.task_runtime().labels(task=task.name).observe(time.monotonic() - started)
    if state == "SUCCESS":
        metrics.record_task(task.name, "dead_lettered" if retval == DEAD_LETTERED else "succeeded")
    if token is not None:
        logs.reset(token)


def _retry(request=None, reason=None, **_) -> None:
    metrics.record_task(request.task, "retried")


def _failure(sender=None, **_) -> None:
    metrics.record_task(sender.name, "failed")


def _serve_metrics(cfg: dict) -> None:
    if cfg["WORKER_METRICS_PORT"] > 0:
        from prometheus_client import start_http_server

        start_http_server(cfg["WORKER_METRICS_PORT"], registry=metrics.registry(cfg["METRICS_DIR"]))
        logger.info("worker metrics on port %d", cfg["WORKER_METRICS_PORT"])


class _Heartbeat:
    def __init__(self, cfg_loader):
        self._cfg_loader = cfg_loader
        self._stop = threading.Event()
        self._queues: list[str] = []
        self._hostname = ""

    def start(self, sender=None, **_) -> None:
        self._queues = sorted(sender.app.amqp.queues.consume_from)
        self._hostname = sender.hostname
        cfg = self._cfg_loader()
        self._presence = bootstrap.presence(cfg, timeout_s=5)
        self._every = cfg["WORKER_HEARTBEAT_S"]
        self._beat()
        self._thread = threading.Thread(target=self._loop, name="ponte-heartbeat", daemon=True)
        self._thread.start()
        logger.info("worker %s consuming %s", self._hostname, ",".join(self._queues))

    def _beat(self) -> None:
        try:
            self._presence.beat(self._hostname, self._queues, time.time(), self._every)
        except REDIS_ERRORS as exc:  # Redis down: /ready will say so anyway
            logger.warning("worker heartbeat not written: %s", exc)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self._beat()

    def stop(self, **_) -> None:
        self._stop.set()
        if not self._queues:
            return
        self._thread.join(timeout=10)  # no beat may land after the withdrawal below
        try:
            self._presence.withdraw(self._hostname, self._queues)
        except REDIS_ERRORS:
            logger.warning("worker presence not withdrawn", exc_info=True)
        finally:
            self._presence.close()
