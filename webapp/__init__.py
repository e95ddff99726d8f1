"""Ponte's HTTP API: the Flask application factory.

``create_app`` reads settings (defaults, then environment, then the ``config`` mapping
tests pass), binds the extensions and blueprints, and connects to nothing: MongoDB and
Redis clients are created lazily, once per process, after any fork.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_smorest import Api

import settings
from adapters.mongo import MongoConnector
from adapters.passwords import Argon2Hasher
from adapters.redis_client import RedisConnector
from webapp import errors
from webapp.clientes.routes import blp as clientes_blp
from webapp.docs import OPENAPI_CONFIG
from webapp.docs import bp as docs_assets_bp
from webapp.health.routes import blp as health_blp
from webapp.jsonio import PonteJSONProvider
from webapp.produtos.routes import blp as produtos_blp

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """This app's handles on the outside world (see ``webapp.deps``)."""

    mongo: MongoConnector
    redis: RedisConnector
    hasher: Argon2Hasher

    def close(self) -> None:
        self.mongo.close()
        self.redis.close()


def _conditional_get(response):
    # ETag + If-None-Match on reads -> 304 without a body (werkzeug does the compare).
    if request.method in ("GET", "HEAD") and response.status_code == 200 and "ETag" in response.headers:
        response.make_conditional(request)
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = settings.load(overrides=config)
    app = Flask(__name__)
    app.config.update(cfg)
    app.config.update(OPENAPI_CONFIG)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_BODY_BYTES"]
    app.config["TESTING"] = cfg["PONTE_ENV"] == "test"
    app.json = PonteJSONProvider(app)
    app.url_map.strict_slashes = False

    app.extensions["ponte"] = Resources(
        mongo=MongoConnector(cfg["MONGO_URI"], cfg["MONGO_DB"], cfg["MONGO_TIMEOUT_MS"]),
        redis=RedisConnector(cfg["REDIS_URL"]),
        hasher=Argon2Hasher(),
    )

    api = Api()
    api.init_app(app)
    for blp in (health_blp, produtos_blp, clientes_blp):
        api.register_blueprint(blp)
    app.register_blueprint(docs_assets_bp)
    errors.init_app(app)
    app.after_request(_conditional_get)
    return app
