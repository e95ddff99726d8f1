"""Per-request access to this process's resources: the service ``Contexto`` and friends."""

from __future__ import annotations

from flask import current_app, g

from adapters.repositories import (
    MongoAuditoriaRepository,
    MongoChaveRepository,
    MongoClienteRepository,
    MongoProdutoRepository,
)
from services.contexto import Contexto
from webapp.security import identidade


def _resources():
    return current_app.extensions["ponte"]


def build_contexto(app, ator: str, request_id: str | None = None) -> Contexto:
    res = app.extensions["ponte"]
    db = res.mongo.db()
    return Contexto(
        produtos=MongoProdutoRepository(db),
        clientes=MongoClienteRepository(db),
        chaves=MongoChaveRepository(db),
        auditoria=MongoAuditoriaRepository(db),
        hasher=res.hasher,
        ator=ator,
        request_id=request_id,
    )


def contexto() -> Contexto:
    """The use-case context of this request: repositories, the caller, the request id."""
    ctx = g.get("_contexto")
    if ctx is None:
        ctx = g._contexto = build_contexto(current_app, identidade().ator, g.get("request_id"))
    return ctx


def tokens():
    return _resources().tokens()


def login_guard():
    return _resources().login_guard()
