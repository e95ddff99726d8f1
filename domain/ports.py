"""The interfaces the service layer needs from the outside world.

Mongo-backed implementations live in ``adapters``; unit tests use in-memory fakes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.clientes import Cliente, ClienteFiltro
from domain.produtos import Produto, ProdutoFiltro


class ProdutoRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None) -> Produto: ...

    def get(self, produto_id: str) -> Produto | None: ...

    def list(self, filtro: ProdutoFiltro, offset: int, limit: int) -> tuple[list[Produto], int]: ...

    def update(
        self, produto_id: str, campos: dict, agora: datetime, versao: int | None, substituir: bool
    ) -> Produto | None:
        """Apply ``campos`` if the product is visible and at ``versao`` (any if None)."""

    def hide(self, produto_id: str, agora: datetime, versao: int | None) -> bool: ...


class ClienteRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None) -> Cliente:
        """Insert; raise ``Conflito`` when the e-mail is taken."""

    def get(self, cliente_id: str) -> Cliente | None: ...

    def list(self, filtro: ClienteFiltro, offset: int, limit: int) -> tuple[list[Cliente], int]: ...

    def update(
        self, cliente_id: str, campos: dict, agora: datetime, versao: int | None, substituir: bool
    ) -> Cliente | None: ...

    def delete(self, cliente_id: str, versao: int | None) -> bool: ...


class PasswordHasher(Protocol):
    def hash(self, senha: str) -> str: ...

    def verify(self, senha_hash: str, senha: str) -> bool: ...
