"""Ponte's Celery application: ``celery -A tasks worker``.

Tasks are thin: they decode their arguments, call a service from ``services`` and
decide whether to retry. Each worker process gets its own MongoDB client after the
prefork pool forks (``worker_process_init``).
"""

from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

import settings
from adapters.mongo import MongoConnector

logger = logging.getLogger(__name__)

app = Celery("ponte")
app.config_from_object("celeryconfig")


class _Resources:
    """This worker process's connections, built lazily after fork."""

    mongo: MongoConnector | None = None

    def get_mongo(self) -> MongoConnector:
        if self.mongo is None:
            cfg = settings.load()
            self.mongo = MongoConnector(
                cfg["MONGO_URI"], cfg["MONGO_DB"], cfg["MONGO_TIMEOUT_MS"], appname="ponte-worker"
            )
        return self.mongo


resources = _Resources()


@worker_process_init.connect
def _init_worker_process(**_):
    # One MongoClient per pool process, created after the fork.
    # Building the client does not block on the server: a worker still starts while
    # MongoDB is down, and its tasks retry until it is back.
    resources.mongo = None
    client = resources.get_mongo().client
    logger.debug("worker process MongoClient ready: %r", client.topology_description.topology_type_name)


@worker_process_shutdown.connect
def _close_worker_process(**_):
    if resources.mongo is not None:
        resources.mongo.close()
