"""Ponte's HTTP API: the Flask application factory.

``create_app`` reads settings (defaults, then environment, then the ``config`` mapping
tests pass), binds the extensions and blueprints, and connects to nothing: its MongoDB and
Redis clients come from ``bootstrap.for_web``, made lazily, once per process, after any fork.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_cors import CORS
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

import bootstrap
import settings
from adapters import tracing
from webapp import docs, errors, limits, observability, security
from webapp.auditoria.routes import blp as auditoria_blp
from webapp.auth.routes import blp as auth_blp
from webapp.auth.routes import login_blp
from webapp.backup_cli import backup
from webapp.blueprint import PAGINATION_HEADER, PAGINATION_HEADER_DOC, IdConverter
from webapp.carrinhos.routes import blp as carrinhos_blp
from webapp.chaves.routes import blp as chaves_blp
from webapp.cli import dead_letters, events, keys
from webapp.clientes.routes import blp as clientes_blp
from webapp.envios.routes import blp as envios_blp
from webapp.eventos.routes import blp as eventos_blp
from webapp.health.routes import blp as health_blp
from webapp.jsonio import PonteJSONProvider
from webapp.leitura_autenticada import LeituraAutenticada
from webapp.leitura_rapida import LeituraRapida
from webapp.pagamentos.routes import blp as pagamentos_blp
from webapp.pedidos.routes import blp as pedidos_blp
from webapp.produtos.routes import blp as produtos_blp

logger = logging.getLogger(__name__)

BLUEPRINTS = (
    health_blp,
    login_blp,
    auth_blp,
    produtos_blp,
    clientes_blp,
    chaves_blp,
    auditoria_blp,
    eventos_blp,
    carrinhos_blp,
    pedidos_blp,
    pagamentos_blp,
    envios_blp,
)


def _conditional_get(response):
    # ETag + If-None-Match on reads -> 304 without a body (werkzeug does the compare).
    if request.method in ("GET", "HEAD") and response.status_code == 200 and "ETag" in response.headers:
        response.make_conditional(request)
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = settings.load(overrides=config)
    app = Flask(__name__, static_folder=None)
    app.config.update(cfg)
    app.config.update(docs.OPENAPI_CONFIG)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_BODY_BYTES"]
    app.config["TESTING"] = cfg["PONTE_ENV"] == "test"
    app.json = PonteJSONProvider(app)
    app.url_map.strict_slashes = False
    app.extensions["ponte"] = bootstrap.for_web(cfg)  # this process's connections, made on first use
    _register_api(app)
    _register_layers(app, cfg)
    tracing.instrument_flask(app)
    for command in (keys, dead_letters, events, backup):
        app.cli.add_command(command)
    return app


def _register_api(app: Flask) -> None:
    """The blueprints, their OpenAPI document and the docs pages."""
    app.url_map.converters["id"] = IdConverter
    api = Api()
    api.init_app(app)
    api.register_converter(IdConverter, lambda _converter: {"type": "string", "pattern": IdConverter.PATTERN})
    docs.init_spec(api)
    api.spec.components.header(PAGINATION_HEADER, PAGINATION_HEADER_DOC)
    for name, scheme in security.SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.register_blueprint(docs.assets_bp)
    app.register_blueprint(docs.viewer_bp)
    app.register_blueprint(docs.bp)


def _register_layers(app: Flask, cfg: dict[str, Any]) -> None:
    """Everything around the views, in the order a request meets it."""
    observability.init_app(app)
    # Order matters: rate limits (by address) run before authentication, so that
    # guessing credentials is throttled like anything else.
    limiter = limits.init_app(
        app, login_blueprint=login_blp, exempt_blueprints=(health_blp, docs.bp, docs.assets_bp, docs.viewer_bp)
    )
    security.init_app(app)
    errors.init_app(app)
    if cfg["CORS_ORIGINS"]:
        CORS(
            app,
            origins=cfg["CORS_ORIGINS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-API-Key", "X-Request-ID"],
            expose_headers=["ETag", "X-Pagination", "X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.after_request(_conditional_get)
    if cfg["LEITURA_RAPIDA"]:
        app.wsgi_app = LeituraRapida(LeituraAutenticada(app.wsgi_app, app, limiter), app, limiter)
    if cfg["PROXY_COUNT"]:  # outermost: every layer inside sees the client's address
        n = cfg["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
