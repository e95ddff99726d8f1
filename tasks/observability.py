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

import redis
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

from adapters import logs, metrics, tracing
from adapters.despachante import presence_key
from adapters.redis_client import redis_from_settings

logger = logging.getLogger(__name__)

# What a task returns when it stored its event as a dead letter (tasks.sync).
DEAD_LETTERED = "rejeitado"

_runs: dict[str, tuple[float, object]] = {}


def _role() -> str:
    return "beat" if "beat" in sys.argv else "worker"


def install(app, cfg_loader) -> None:
    """Connect the signal receivers for ``app`` (settings read lazily via ``cfg_loader``)."""
    # First: a pool process must trace before tasks/__init__ makes its MongoClient.
    tracing.instrument_celery(cfg_loader)

    @setup_logging.connect(weak=False)
    def _logging(**_):
        logs.configure(cfg_loader(), _role())

    @task_prerun.connect(weak=False)
    def _prerun(task_id=None, task=None, **_):
        req = task.request
        headers = req.headers or {}
        token = logs.bind(
            request_id=getattr(req, "request_id", None) or headers.get("request_id"),
            event_id=getattr(req, "event_id", None) or headers.get("event_id"),
            task_id=task_id,
            task_name=task.name,
        )
        _runs[task_id] = (time.monotonic(), token)

    @task_postrun.connect(weak=False)
    def _postrun(task_id=None, task=None, retval=None, state=None, **_):
        started, token = _runs.pop(task_id, (None, None))
        if started is not None:
            metrics.task_runtime().labels(task=task.name).observe(time.monotonic() - started)
        if state == "SUCCESS":
            metrics.record_task(task.name, "dead_lettered" if retval == DEAD_LETTERED else "succeeded")
        if token is not None:
            logs.reset(token)

    @task_retry.connect(weak=False)
    def _retry(request=None, reason=None, **_):
        metrics.record_task(request.task, "retried")

    @task_failure.connect(weak=False)
    def _failure(sender=None, **_):
        metrics.record_task(sender.name, "failed")

    @worker_init.connect(weak=False)
    def _serve_metrics(**_):
        cfg = cfg_loader()
        if cfg["WORKER_METRICS_PORT"] > 0:
            from prometheus_client import start_http_server

            start_http_server(cfg["WORKER_METRICS_PORT"], registry=metrics.registry(cfg["METRICS_DIR"]))
            logger.info("worker metrics on port %d", cfg["WORKER_METRICS_PORT"])

    heart = _Heartbeat(cfg_loader)
    worker_ready.connect(heart.start, weak=False)
    worker_shutdown.connect(heart.stop, weak=False)


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
        self._client = redis_from_settings(cfg, socket_timeout=5, socket_connect_timeout=5)
        self._prefix, self._every = cfg["REDIS_PREFIX"], cfg["WORKER_HEARTBEAT_S"]
        self._beat()
        self._thread = threading.Thread(target=self._loop, name="ponte-heartbeat", daemon=True)
        self._thread.start()
        logger.info("worker %s consuming %s", self._hostname, ",".join(self._queues))

    def _beat(self) -> None:
        now = time.time()
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for q in self._queues:
                    key = presence_key(self._prefix, q)
                    pipe.zadd(key, {self._hostname: now})
                    pipe.zremrangebyscore(key, "-inf", now - 3 * self._every)
                    pipe.expire(key, 3 * self._every)
                pipe.execute()
        except redis.RedisError as exc:  # Redis down: /ready will say so anyway
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
            with self._client.pipeline(transaction=False) as pipe:
                for q in self._queues:
                    pipe.zrem(presence_key(self._prefix, q), self._hostname)
                pipe.execute()
        except redis.RedisError:
            logger.warning("worker presence not withdrawn", exc_info=True)
        finally:
            self._client.close()
