"""Per-request access to this process's resources: the service ``Contexto`` and friends."""

from __future__ import annotations

from flask import current_app, g

from adapters.contexto import montar_contexto
from adapters.publicador import RedisPublicador
from services.contexto import Contexto
from webapp.security import identidade


def _resources():
    return current_app.extensions["ponte"]


_DEFAULT = object()


def build_contexto(app, ator: str, request_id: str | None = None, cache=_DEFAULT) -> Contexto:
    res = app.extensions["ponte"]
    return montar_contexto(
        res.mongo.db(),
        res.hasher,
        ator,
        request_id,
        sequencia=res.sequencia(),
        despachante=res.despachante(),
        publicador=RedisPublicador(res.redis.client),
        cache=res.produto_cache if cache is _DEFAULT else cache,
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


def paginar(pagination_parameters, listar, *args):
    """Run a service's ``listar(ctx, *args, offset, limit)`` for this page; set the total."""
    itens, total = listar(contexto(), *args, pagination_parameters.first_item, pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return itens
