"""The interfaces the service layer needs from the outside world.

Mongo-backed implementations live in ``adapters``; unit tests use in-memory fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.auditoria import AuditoriaFiltro, RegistroAuditoria
from domain.backups import FileEntry, Manifest
from domain.clientes import Cliente, ClienteFiltro
from domain.produtos import Produto, ProdutoFiltro
from domain.seguranca import ChaveApi, Identidade

# The version a conditional write expects: one, or any of several (an If-Match listing many).
VersaoEsperada = int | frozenset[int]


@dataclass(frozen=True)
class Reivindicacao:
    """A claim on an idempotency key: the order id it reserved, whether that checkout is
    done already, and this attempt's token (only it may conclude or let go of the key)."""

    pedido_id: str
    concluido: bool
    dono: str


class ProdutoRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None, seq: int | None = None) -> Produto: ...

    def get(self, produto_id: str) -> Produto | None: ...

    def list(self, filtro: ProdutoFiltro, offset: int, limit: int) -> tuple[list[Produto], int]: ...

    def update(
        self,
        produto_id: str,
        campos: dict,
        agora: datetime,
        versao: VersaoEsperada | None,
        substituir: bool,
        seq: int | None,
    ) -> Produto | None:
        """Apply ``campos`` if visible, at ``versao`` (any if None), older than ``seq``."""

    def hide(self, produto_id: str, agora: datetime, versao: VersaoEsperada | None, seq: int | None) -> bool: ...


class ClienteRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None, seq: int | None = None) -> Cliente:
        """Insert; raise ``Conflito`` when the e-mail is taken."""

    def get(self, cliente_id: str) -> Cliente | None: ...

    def by_email(self, email_norm: str) -> Cliente | None: ...

    def list(self, filtro: ClienteFiltro, offset: int, limit: int) -> tuple[list[Cliente], int]: ...

    def update(
        self,
        cliente_id: str,
        campos: dict,
        agora: datetime,
        versao: VersaoEsperada | None,
        substituir: bool,
        seq: int | None,
    ) -> Cliente | None: ...

    def delete(self, cliente_id: str, versao: VersaoEsperada | None) -> bool: ...


class PasswordHasher(Protocol):
    def hash(self, senha: str) -> str: ...

    def verify(self, senha_hash: str, senha: str) -> bool: ...


class ChaveRepository(Protocol):
    def add(self, chave: ChaveApi) -> ChaveApi: ...

    def by_prefix(self, prefixo: str) -> ChaveApi | None: ...

    def list(self) -> list[ChaveApi]: ...

    def revoke(self, prefixo: str, agora: datetime) -> bool: ...


class AuditoriaRepository(Protocol):
    def add(self, registro: RegistroAuditoria) -> None: ...

    def list(self, filtro: AuditoriaFiltro, offset: int, limit: int) -> tuple[list[RegistroAuditoria], int]: ...


class TokenService(Protocol):
    def emitir(self, cliente_id: str) -> tuple[str, int]:
        """A signed token for the customer and its lifetime in seconds."""

    def verificar(self, token: str) -> Identidade:
        """The customer behind a valid, unexpired, unrevoked token; else NaoAutenticado."""

    def revogar(self, ident: Identidade) -> None: ...

    def revogar_todos(self, cliente_id: str) -> None:
        """Every token issued to the customer until now stops working (the customer was
        deleted, or their password changed)."""


class LoginGuard(Protocol):
    def verificar(self, chave: str) -> None:
        """Record a log-in attempt for ``chave`` (an e-mail) before its password is checked;
        raise ``Bloqueado`` while it is locked out."""

    def falhou(self, chave: str) -> None: ...

    def sucesso(self, chave: str) -> None: ...


class BackupFiles(Protocol):
    """Where backups live on disk: one folder per backup, named by ``domain.backups.backup_name``."""

    def names(self) -> list[str]:
        """The finished backups (a backup still being written is never listed)."""

    def start(self, name: str) -> str:
        """Create the folder a new backup is written into; return its path."""

    def abandon(self, name: str) -> None:
        """Delete what ``start(name)`` began (a dump that failed half-way)."""

    def finish(self, name: str) -> str:
        """Make the backup written under ``start(name)`` visible; return its final path."""

    def path(self, name: str) -> str: ...

    def measure(self, path: str) -> dict[str, FileEntry]:
        """Size and SHA-256 of every file of the backup at ``path`` except its manifest."""

    def write_manifest(self, path: str, manifest: Manifest) -> None: ...

    def read_manifest(self, path: str) -> Manifest:
        """Raise ``InvalidBackup`` when it is missing or malformed."""

    def remove(self, name: str) -> None: ...


class DatabaseDump(Protocol):
    """The database side: dump every collection, restore them all or none."""

    db_name: str

    def dump(self, path: str) -> dict[str, int]:
        """Write ``<path>/<db>/<collection>.bson`` and ``.metadata.json``; documents per collection."""

    def restore(self, path: str, manifest: Manifest, replace: bool) -> dict[str, int]:
        """Load the backup's collections; on any failure the database is left as it was."""
