"""Per-request access to this process's resources (``bootstrap.Resources``): the service
``Contexto`` and friends."""

from __future__ import annotations

from flask import current_app, g

from bootstrap import Resources
from services.contexto import Contexto
from webapp.security import identidade


def _resources() -> Resources:
    return current_app.extensions["ponte"]


def build_contexto(app, ator: str, request_id: str | None = None, **opcoes) -> Contexto:
    """A context outside a request too (the CLI, tests); ``cache=None``: without the product cache."""
    return app.extensions["ponte"].contexto(ator, request_id, **opcoes)


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
