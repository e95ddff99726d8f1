"""One JSON error shape for every failure: ``{code, status, message, errors?}``.

flask-smorest already renders ``HTTPException`` (404, 405, 413, webargs' 400/422) in
this shape; here the domain's exceptions, database outages and non-JSON bodies join
it. Unexpected exceptions become a bare 500 in the same shape, logged with their
traceback but never showing it to the client.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from adapters.store_errors import MONGO_DOWN, REDIS_DOWN
from domain.errors import Conflito, DadosInvalidos, NaoEncontrado, VersaoDesatualizada
from domain.seguranca import Bloqueado, NaoAutenticado, SemPermissao

logger = logging.getLogger(__name__)

# How long a client should wait before trying again after a 503 (a store that is down).
RETRY_AFTER_S = 5
_BODY_METHODS = {"POST", "PUT", "PATCH"}


# A 413 is decided from Content-Length, before the body is read. Left unread, the body made
# gunicorn drop the kept-alive connection after the answer, and a client that sent its whole
# body first (python-requests) found it closed on its next request. Reading what was sent,
# up to this much, keeps the connection usable; beyond it the connection is not worth it.
DRAIN_MAX_BYTES = 64 * 1024 * 1024


def _drain_body(environ: dict) -> None:
    stream = environ.get("wsgi.input")
    try:
        remaining = min(int(environ.get("CONTENT_LENGTH") or 0), DRAIN_MAX_BYTES)
    except ValueError:
        return
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)


def error_body(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    body: dict = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error")}
    if message:
        body["message"] = message
    if errors:
        body["errors"] = errors
    return body


def _require_json_body():
    """415 for a body that is not JSON: every write endpoint speaks JSON only."""
    if request.method not in _BODY_METHODS:
        return None
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    has_body = (request.content_length or 0) > 0 or chunked
    if has_body and not request.is_json:
        return error_body(415, "Envie o corpo como application/json."), 415
    return None


def init_app(app: Flask) -> None:
    app.before_request(_require_json_body)
    _http_handlers(app)
    _domain_handlers(app)
    _store_handlers(app)


def _http_handlers(app: Flask) -> None:
    @app.errorhandler(MethodNotAllowed)
    def _method_not_allowed(exc: MethodNotAllowed):
        # flask-smorest renders HTTPExceptions without their own headers, and RFC 9110
        # requires a 405 to say which methods the resource does allow.
        allow = dict(exc.get_headers()).get("Allow")
        return error_body(405), 405, ({"Allow": allow} if allow else {})

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge):
        _drain_body(request.environ)
        return error_body(413), 413


def _domain_handlers(app: Flask) -> None:
    @app.errorhandler(DadosInvalidos)
    def _invalid(exc: DadosInvalidos):
        location = "json" if request.method in _BODY_METHODS else "query"
        return error_body(422, exc.message, {location: exc.errors}), 422

    @app.errorhandler(NaoEncontrado)
    def _not_found(exc: NaoEncontrado):
        return error_body(404, exc.message), 404

    @app.errorhandler(Conflito)
    def _conflict(exc: Conflito):
        return error_body(409, exc.message, {"json": exc.errors} if exc.errors else None), 409

    @app.errorhandler(VersaoDesatualizada)
    def _stale(exc: VersaoDesatualizada):
        return error_body(412, exc.message), 412

    @app.errorhandler(NaoAutenticado)
    def _unauthenticated(exc: NaoAutenticado):
        return error_body(401, exc.message), 401, {"WWW-Authenticate": 'Bearer realm="ponte"'}

    @app.errorhandler(SemPermissao)
    def _forbidden(exc: SemPermissao):
        return error_body(403, exc.message), 403

    @app.errorhandler(Bloqueado)
    def _locked(exc: Bloqueado):
        return error_body(429, exc.message), 429, {"Retry-After": str(exc.retry_after)}


def _store_handlers(app: Flask) -> None:
    def _db_down(exc: Exception):
        logger.error("MongoDB unavailable: %s", exc)
        return error_body(503, "Banco de dados indisponível; tente de novo."), 503, {"Retry-After": str(RETRY_AFTER_S)}

    def _redis_down(exc: Exception):  # Redis, or the broker on it refusing an enqueue
        logger.error("Redis unavailable: %s", exc)
        body = error_body(503, "Serviço temporariamente indisponível; tente de novo.")
        return body, 503, {"Retry-After": str(RETRY_AFTER_S)}

    for exc_class in MONGO_DOWN:
        app.register_error_handler(exc_class, _db_down)
    for exc_class in REDIS_DOWN:
        app.register_error_handler(exc_class, _redis_down)
