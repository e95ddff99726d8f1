"""``/health``: the process answers. ``/ready``: MongoDB and Redis answer too."""

from __future__ import annotations

import logging

import marshmallow as ma
import pymongo
from flask import current_app
from flask.views import MethodView

from domain.seguranca import PUBLICO
from webapp.blueprint import Blueprint
from webapp.security import acesso

logger = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="Sondas de vida e prontidão")

# A probe must answer fast even when a dependency hangs.
PROBE_TIMEOUT_S = 2.0


class HealthSchema(ma.Schema):
    status = ma.fields.String()


class ReadySchema(ma.Schema):
    status = ma.fields.String()
    dependencias = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


def _check(nome: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure means "not ready", whatever its type
        logger.warning("readiness: %s unavailable: %s", nome, exc)
        return "indisponivel"


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
    @blp.alt_response(503, schema=ReadySchema, description="Uma dependência não responde")
    def get(self):
        """MongoDB and Redis are reachable"""
        res = current_app.extensions["ponte"]

        def mongo():
            with pymongo.timeout(PROBE_TIMEOUT_S):
                res.mongo.client.admin.command("ping")

        deps = {"mongo": _check("mongo", mongo), "redis": _check("redis", res.redis.client.ping)}
        ok = all(v == "ok" for v in deps.values())
        return {"status": "ok" if ok else "indisponivel", "dependencias": deps}, 200 if ok else 503
