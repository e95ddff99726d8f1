"""Ponte's Celery application: ``celery -A tasks worker``.

Tasks are thin: they decode their arguments and call a service from ``services``; their
base class (``tasks.base.PonteTask``) retries transient failures. Each worker process gets
its own MongoDB client after the prefork pool forks (``worker_process_init``).
"""

from __future__ import annotations

import logging
import sys
from functools import cache

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

import settings
from adapters.metrics_dir import prepare_multiprocess

if "worker" in sys.argv[1:]:
    # Celery imports this module in the worker's main process before it forks the pool;
    # prometheus-client must learn its multiprocess directory before it is imported
    # (by tasks.observability below), so the pool's children report through files.
    prepare_multiprocess(settings.load()["METRICS_DIR"], "worker")

import bootstrap
from adapters import logs, malloc
from adapters.despachante import CeleryDespachante
from services.contexto import Contexto
from tasks import faults, observability

logger = logging.getLogger(__name__)

app = Celery("ponte", include=["tasks.sync", "tasks.pagamentos", "tasks.envios", "tasks.backups"])
app.config_from_object("celeryconfig")


class _Worker:
    """This process's ``bootstrap.Resources``, made at first use: settings are read then
    (not at import), and its clients are made after the prefork pool forks."""

    @cache  # noqa: B019 - one instance per process, for the process's life
    def get(self) -> bootstrap.Resources:
        return bootstrap.for_worker(settings.load(), app)

    def cfg(self) -> dict:
        return self.get().cfg

    def contexto(self, ator: str, request_id: str | None = None) -> Contexto:
        return self.get().contexto(ator, request_id)

    def despachante(self) -> CeleryDespachante:
        return self.get().despachante()


resources = _Worker()
observability.install(app, resources.cfg)


@worker_init.connect
def _install_faults(**_) -> None:
    # In the worker's main process, before the pool forks: the children inherit it, and
    # importing ``tasks`` (beat, a producer) reads no setting.
    faults.install(resources.cfg())


@worker_process_init.connect
def _init_worker_process(**_):
    malloc.tune()
    logs.after_fork(resources.cfg(), "worker")
    # One MongoClient per pool process, created after the fork. Building it does not
    # block on the server: a worker starts while MongoDB is down and its tasks retry.
    client = resources.get().mongo.client
    logger.debug("worker process MongoClient ready: %r", client.topology_description.topology_type_name)


@worker_process_shutdown.connect
def _close_worker_process(**_):
    resources.get().close()  # only what this process opened (adapters.per_process)
