"""Per-request access to this process's repositories and services' collaborators."""

from __future__ import annotations

from flask import current_app

from adapters.repositories import MongoClienteRepository, MongoProdutoRepository


def _resources():
    return current_app.extensions["ponte"]


def produtos_repo() -> MongoProdutoRepository:
    return MongoProdutoRepository(_resources().mongo.db())


def clientes_repo() -> MongoClienteRepository:
    return MongoClienteRepository(_resources().mongo.db())


def hasher():
    return _resources().hasher
