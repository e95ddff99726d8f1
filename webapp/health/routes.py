"""Probes and metrics: ``/health`` (the process answers), ``/ready`` (MongoDB and Redis
answer; which queues have live workers) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import logging
import time

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from prometheus_client import CONTENT_TYPE_LATEST

from adapters import metrics
from adapters.despachante import FILAS
from domain.seguranca import PUBLICO, staff
from webapp.blueprint import Blueprint
from webapp.errors import RETRY_AFTER_S
from webapp.security import acesso

logger = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="Sondas de vida e prontidão")

# A probe must answer fast even when a dependency hangs.
PROBE_TIMEOUT_S = 2.0


class HealthSchema(ma.Schema):
    status = ma.fields.String()


class FilaSchema(ma.Schema):
    workers = ma.fields.Integer(metadata={"description": "workers que consomem a fila (último sinal há < 3 ciclos)"})
    pendentes = ma.fields.Integer(metadata={"description": "mensagens esperando na fila"})


class ReadySchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, degradado (fila sem worker) ou indisponivel"})
    dependencias = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    filas = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(FilaSchema))


def _check(nome: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure means "not ready", whatever its type
        logger.warning("readiness: %s unavailable: %s", nome, exc)
        return "indisponivel"


def prontidao(res) -> dict:
    """Each dependency, then the queues; ``degradado`` (still 200: the API itself serves
    without workers, so it stays in rotation) when a queue has no live worker."""

    def mongo():
        res.mongo.ping(PROBE_TIMEOUT_S)

    filas: dict = {}

    def redis_():
        desde = time.time() - 3 * res.cfg["WORKER_HEARTBEAT_S"]  # a live worker beat within three periods
        filas.update(res.presence().queues(FILAS, desde))

    deps = {"mongo": _check("mongo", mongo), "redis": _check("redis", redis_)}
    if not all(v == "ok" for v in deps.values()):
        status = "indisponivel"
    else:
        status = "ok" if all(f["workers"] for f in filas.values()) else "degradado"
    return {"status": status, "dependencias": deps, "filas": filas}


@blp.route("/health")
class Health(MethodView):
    @acesso(PUBLICO)
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is alive"""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @acesso(PUBLICO)
    @blp.response(200, ReadySchema)
    @blp.alt_response(
        503,
        schema=ReadySchema,
        description="Uma dependência não responde",
        headers={"Retry-After": {"description": "segundos até tentar de novo", "schema": {"type": "integer"}}},
    )
    def get(self):
        """MongoDB and Redis are reachable; live workers per queue"""
        body = prontidao(current_app.extensions["ponte"])
        if body["status"] == "indisponivel":
            return body, 503, {"Retry-After": str(RETRY_AFTER_S)}
        return body, 200


@blp.route("/metrics")
class Metrics(MethodView):
    @acesso(staff("metrics:read"))
    @blp.doc(responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}})
    def get(self):
        """Prometheus metrics of this host's Ponte processes"""
        registry = current_app.extensions["ponte"].metrics_registry
        return Response(metrics.render(registry), content_type=CONTENT_TYPE_LATEST)
