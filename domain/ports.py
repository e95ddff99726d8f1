"""The interfaces the service layer needs from the outside world: one Protocol per field
of ``services.contexto.Contexto``, plus the backups' two.

Mongo- and Redis-backed implementations live in ``adapters``; unit tests use the in-memory
fakes of ``tests/fakes.py``. Names: generic store operations are English (``add``, ``get``,
``list``, ``update``, ``delete``); what names the domain is Portuguese, lookups by a field
included (``por_email``, ``por_pedido``, ``ocultar``, ``revogar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.auditoria import AuditoriaFiltro, RegistroAuditoria
from domain.backups import FileEntry, Manifest
from domain.carrinhos import Carrinho
from domain.clientes import Cliente, ClienteFiltro
from domain.envios import Envio
from domain.pagamentos import Pagamento, RespostaGateway
from domain.pedidos import Pedido, PedidoFiltro
from domain.produtos import Produto, ProdutoFiltro
from domain.rejeitados import EventoRejeitado, RejeitadoFiltro
from domain.seguranca import ChaveApi, Identidade

# The version a conditional write expects: one, or any of several (an If-Match listing many).
VersaoEsperada = int | frozenset[int]


@dataclass(frozen=True)
class Reivindicacao:
    """A claim on an idempotency key: the order id it reserved, whether that checkout is
    done already, and this attempt's token (only it may conclude or let go of the key).
    ``primeira``: the key's first claim, whose order id was made just now, so nothing can
    be stored under it yet (the checkout need not look for an order or a payment)."""

    pedido_id: str
    concluido: bool
    dono: str
    primeira: bool = False


class ProdutoRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None, seq: int | None = None) -> Produto: ...

    def get(self, produto_id: str) -> Produto | None: ...

    def varios(self, produto_ids: list[str]) -> dict[str, Produto | None]:
        """``get`` of each, in a fixed number of round trips."""

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

    def ocultar(self, produto_id: str, agora: datetime, versao: VersaoEsperada | None, seq: int | None) -> bool: ...

    def por_java_id(self, java_id: int) -> Produto | None: ...


class ClienteRepository(Protocol):
    def add(self, campos: dict, agora: datetime, java_id: int | None = None, seq: int | None = None) -> Cliente:
        """Insert; raise ``Conflito`` when the e-mail is taken."""

    def get(self, cliente_id: str) -> Cliente | None: ...

    def por_email(self, email_norm: str) -> Cliente | None: ...

    def por_java_id(self, java_id: int) -> Cliente | None: ...

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

    def por_prefixo(self, prefixo: str) -> ChaveApi | None: ...

    def list(self) -> list[ChaveApi]: ...

    def revogar(self, prefixo: str, agora: datetime) -> bool: ...


class AuditoriaRepository(Protocol):
    def add(self, registro: RegistroAuditoria) -> None: ...

    def add_many(self, registros: list[RegistroAuditoria]) -> None:
        """One write for a batch's records (a sync batch)."""

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

    def chave_revogada(self) -> None:
        """A staff key is being revoked: what any process remembers of verified keys is stale
        (``webapp.leitura_autenticada``). Raises when it cannot say so (Redis unreachable)."""


class LoginGuard(Protocol):
    def verificar(self, chave: str) -> None:
        """Record a log-in attempt for ``chave`` (an e-mail) before its password is checked;
        raise ``Bloqueado`` while it is locked out."""

    def falhou(self, chave: str) -> None: ...

    def sucesso(self, chave: str) -> None: ...


# -- the money path: carts, orders, Idempotency-Key claims, stock, payments, shipments ------
class CarrinhoRepository(Protocol):
    def get(self, cliente_id: str) -> Carrinho:
        """The customer's cart; an empty one when they have none."""

    def para_checkout(self, cliente_id: str) -> tuple[Carrinho, dict | None]:
        """The cart and the customer's delivery address (None without one, or without a
        cart document: an empty cart is refused before the address matters), in one read."""

    def definir_item(self, cliente_id: str, produto_id: str, quantidade: int, agora: datetime, maximo: int) -> None:
        """Set a line's quantity, adding the line if needed; ``DadosInvalidos`` beyond ``maximo`` lines."""

    def remover_item(self, cliente_id: str, produto_id: str, agora: datetime) -> bool: ...

    def esvaziar(self, cliente_id: str, agora: datetime) -> None: ...

    def list(self, offset: int, limit: int) -> tuple[list[Carrinho], int]: ...


class PedidoRepository(Protocol):
    def add(self, pedido: Pedido) -> Pedido:
        """Store under ``pedido.id`` when given (reserved by a claim); ``PedidoJaExiste`` if taken."""

    def get(self, pedido_id: str, cliente_id: str | None = None) -> Pedido | None: ...

    def mudar_status(self, pedido_id: str, de: str, para: str, agora: datetime) -> Pedido | None:
        """Only from ``de`` (else None); a cancellation is marked pending in the same write."""

    def tomar_liberacao(self, pedido_id: str, produto_id: str) -> bool:
        """True only the first time: a cancelled order's item is given back once."""

    def devolver_liberacao(self, pedido_id: str, produto_id: str) -> None: ...

    def cancelamento_concluido(self, pedido_id: str) -> None: ...

    def cancelamentos_pendentes(self, antes_de: datetime) -> list[Pedido]: ...

    def resumo(self, cliente_id: str | None) -> list[dict]:
        """``{"_id": status, "quantidade": n, "valor": sum}`` per status."""

    def list(self, filtro: PedidoFiltro, offset: int, limit: int) -> tuple[list[Pedido], int]: ...


class IdempotenciaRepository(Protocol):
    """One order per (scope, key): a claim reserves the order's id and is held for a while."""

    def iniciar(self, escopo: str, chave: str, corpo_hash: str, agora: datetime) -> Reivindicacao:
        """Claim; ``DadosInvalidos`` for another body, ``CheckoutEmAndamento`` while held."""

    def liberar(self, escopo: str, chave: str, dono: str) -> None:
        """The attempt stopped: the next may take over at once."""

    def concluir(self, escopo: str, chave: str, pedido_id: str, agora: datetime, dono: str) -> None: ...

    def abandonar(self, escopo: str, chave: str, dono: str) -> None:
        """Nothing was stored: the key is free again."""

    def podar(self, antes_de: datetime) -> int: ...


class Estoque(Protocol):
    def reservar(self, produto_id: str, quantidade: int, seq: int | None) -> bool:
        """Take ``quantidade`` only if that much is left (never oversells); False otherwise."""

    def liberar(self, produto_id: str, quantidade: int) -> None: ...


class PagamentoRepository(Protocol):
    def add(self, pagamento: Pagamento) -> Pagamento: ...

    def get(self, pagamento_id: str, cliente_id: str | None = None) -> Pagamento | None: ...

    def por_pedido(self, pedido_id: str) -> Pagamento | None: ...

    def mudar(self, pagamento_id: str, de: tuple[str, ...], para: str, agora: datetime, **extra) -> Pagamento | None:
        """Only from one of ``de`` (else None), so each transition happens once."""

    def contar_tentativa(self, pagamento_id: str) -> None: ...

    def aguardando_desde(self, antes_de: datetime) -> list[Pagamento]: ...

    def parados(self, antes_de: datetime, agora: datetime) -> list[Pagamento]:
        """``pendente`` since before ``antes_de``, each taken at most once per period."""


class Gateway(Protocol):
    def cobrar(self, chave: str, valor: Decimal, metodo: str, token: str | None) -> RespostaGateway:
        """Charge once per ``chave``: the same key never charges twice, however often it is sent."""

    def reembolsar(self, chave: str) -> bool:
        """Refund the charge made with ``chave`` (once, however often asked); True when
        that charge is refunded (now or by an earlier call), False when there is none."""


class EnvioRepository(Protocol):
    def criar_para_pedido(self, envio: Envio) -> Envio:
        """One per order: a second call returns the first."""

    def get(self, envio_id: str, cliente_id: str | None = None) -> Envio | None: ...

    def por_pedido(self, pedido_id: str) -> Envio | None: ...

    def mudar(self, envio_id: str, de: str, para: str, agora: datetime) -> Envio | None: ...


class Publicador(Protocol):
    def status_do_pedido(self, mensagem: dict) -> None:
        """Tell the CRM; best effort (the order's change is stored already)."""


# -- CRM sync: conditional writes keyed by CRM id, dead letters, the task queue ------------
# A sync write's outcome and the stored id: ("aplicado" | "criado" | "obsoleto" | "ausente" | ..., id).
ResultadoSync = tuple[str, str | None]


class ProdutoSync(Protocol):
    """Writes applied only when the event's ``seq`` is newer than the stored one."""

    def aplicar(
        self, java_id: int, campos: dict, seq: int, agora: datetime, reviver: bool, criar: bool = True
    ) -> ResultadoSync: ...

    def ocultar(
        self, java_id: int, seq: int, agora: datetime, criar: bool = True, nome_busca: str | None = None
    ) -> ResultadoSync: ...

    def aplicar_varios(self, eventos: list, agora: datetime) -> list[ResultadoSync]:
        """Many events of known products (``java_id``, ``acao``, ``campos``, ``seq``) at once."""

    def criar_varios(self, eventos: list, agora: datetime) -> list[ResultadoSync]:
        """The products of events ``aplicar_varios`` found absent, created at once where they can be."""

    def vincular_pendente(self, java_id: int, nome_busca: str, seq: int) -> bool: ...

    def superado(self, nome_busca: str, seq: int) -> bool: ...

    def criar_pendente(self, campos: dict, seq: int, event_id: str, agora: datetime) -> ResultadoSync: ...

    def descartar_pendente(self, event_id: str) -> None: ...

    def descartar_pendentes_anteriores(self, nome_busca: str, seq: int) -> int: ...


class ClienteSync(Protocol):
    def aplicar(self, java_id: int, campos: dict, seq: int, agora: datetime) -> str: ...


class RejeitadoRepository(Protocol):
    """The dead letters: one per event id."""

    def add(self, envelope: dict, motivo: str, tentativas: int, agora: datetime) -> EventoRejeitado: ...

    def get(self, rejeitado_id: str) -> EventoRejeitado | None: ...

    def list(self, filtro: RejeitadoFiltro, offset: int, limit: int) -> tuple[list[EventoRejeitado], int]: ...

    def marcar(self, rejeitado_id: str, de: str, para: str, agora: datetime, ator: str) -> EventoRejeitado | None:
        """Only from ``de`` (else None): replayed or discarded once."""


class Despachante(Protocol):
    """The task queue, as the services use it."""

    def enviar(self, envelope: dict, headers: dict | None = None) -> None: ...

    def processar_pagamento(self, pagamento_id: str, headers: dict | None = None) -> None: ...

    def criar_envio(self, pedido_id: str) -> None: ...


# -- backups --------------------------------------------------------------------------------
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
