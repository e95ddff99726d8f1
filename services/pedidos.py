"""Checkout and reading orders. ``fazer_pedido`` is the one way an order comes to exist,
from the API's cart or a cart the Java CRM hands over (``services.sync``); its status
changes afterwards are ``services.status_pedido``'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

from domain import pedidos as regras
from domain.errors import DadosInvalidos, DomainError, NaoEncontrado
from domain.money import somar
from domain.pedidos import CheckoutEmAndamento, EstoqueInsuficiente, Pedido, PedidoFiltro, PedidoJaExiste
from services import pagamentos
from services.common import agora
from services.contexto import Contexto


def endereco_de(cliente) -> dict | None:
    """The delivery address an order keeps (None: the customer has none)."""
    if cliente is None or cliente.endereco is None:
        return None
    return {k: v for k, v in vars(cliente.endereco).items() if v is not None}


def fazer_pedido(
    ctx: Contexto,
    cliente_id: str,
    quantidades: dict[str, int],
    metodo: str,
    pedido_id: str = "",
    seq: int | None = None,
    endereco_lido: Callable[[], dict | None] | None = None,
) -> Pedido:
    """Reserve every item's stock, or none, then store the order (``pendente``) under
    ``pedido_id`` when an idempotent checkout reserved one.

    The sale takes a place in the sync order (``seq``: a CRM cart's own, else the next
    number), so that a CRM stock event received before it cannot undo it. The delivery
    address is read here unless ``endereco_lido`` gives the one read with the cart.
    """
    metodo = regras.validar_metodo(metodo)
    if not quantidades:
        raise DadosInvalidos({"itens": ["O carrinho está vazio."]})
    # Read once: the order keeps this very address.
    endereco = endereco_lido() if endereco_lido else endereco_de(ctx.clientes.get(cliente_id))
    if endereco is None:
        # An order is shipped: without an address its shipment could only fail later.
        raise DadosInvalidos({"endereco": ["Cadastre um endereço de entrega (PATCH /clientes/me) antes do pedido."]})
    produtos = ctx.produtos.varios(list(quantidades))
    itens, total = regras.itens_do_pedido(quantidades, produtos)
    reservados = _reservar(ctx, itens, produtos, ctx.proxima_seq() if seq is None else seq)
    momento = agora()
    try:
        return _guardar(ctx, pedido_id, cliente_id, itens, total, metodo, momento, endereco)
    except Exception as exc:
        # An insert that failed may still have been applied (the reply was lost): with a
        # reserved id that is checked; without one, releasing is the only safe choice. An
        # order another attempt stored under that id is not this attempt's: release.
        if isinstance(exc, PedidoJaExiste) or not (pedido_id and ctx.pedidos.get(pedido_id) is not None):
            _liberar(ctx, reservados)
        raise


def _reservar(ctx: Contexto, itens, produtos: dict, seq: int) -> list[tuple[str, int]]:
    """Each reservation is a conditional decrement, so concurrent checkouts never oversell;
    if any item is short, those made are released and the items short named (409)."""
    reservados: list[tuple[str, int]] = []
    faltam: list[str] = []
    for item in itens:  # a stable order (by product id) for every checkout
        if ctx.estoque.reservar(item.produto_id, item.quantidade, seq):
            reservados.append((item.produto_id, item.quantidade))
        else:
            faltam.append(item.produto_id)
    if faltam:
        _liberar(ctx, reservados)
        raise EstoqueInsuficiente(
            "Estoque insuficiente.", {"itens": [f"Estoque insuficiente: {produtos[p].nome} ({p})" for p in faltam]}
        )
    return reservados


def _liberar(ctx: Contexto, reservados: list[tuple[str, int]]) -> None:
    for produto_id, quantidade in reservados:
        ctx.estoque.liberar(produto_id, quantidade)


def _guardar(ctx: Contexto, pedido_id: str, cliente_id: str, itens, total, metodo: str, momento, endereco) -> Pedido:
    pedido = ctx.pedidos.add(
        Pedido(
            id=pedido_id,
            cliente_id=cliente_id,
            itens=itens,
            total=total,
            status=regras.PENDENTE,
            pagamento_metodo=metodo,
            endereco=endereco,
            criado_em=momento,
            atualizado_em=momento,
            historico=[{"status": regras.PENDENTE, "em": momento}],
        )
    )
    ctx.auditar("pedido", pedido.id, "criado", ["itens", "total", "status"])
    return pedido


def hash_do_corpo(corpo: dict) -> str:
    return hashlib.sha256(json.dumps(corpo, sort_keys=True, default=str).encode()).hexdigest()


def finalizar_carrinho(
    ctx: Contexto,
    cliente_id: str,
    metodo: str,
    idempotency_key: str | None = None,
    corpo: dict | None = None,
    token: str | None = None,
) -> tuple[Pedido, bool]:
    """Checkout of the customer's cart. Returns (order, created now?).

    With an ``Idempotency-Key`` the same key and body return the original order; the same
    key with another body is 422; while the first request still runs, 409. A failed
    checkout (e.g. stock short) frees the key so the customer can try again; one that
    stopped half-way (a MongoDB failure) is finished by a retry with the same key.
    """

    lido: dict = {}

    def quantidades() -> dict[str, int]:
        # The address comes with the cart (one round trip); fazer_pedido reads it after this.
        carrinho, lido["endereco"] = ctx.carrinhos.para_checkout(cliente_id)
        return {item.produto_id: item.quantidade for item in carrinho.itens}

    def esvaziar(_pedido: Pedido) -> None:
        ctx.carrinhos.esvaziar(cliente_id, agora())

    if not idempotency_key:
        pedido = fazer_pedido(ctx, cliente_id, quantidades(), metodo, endereco_lido=lambda: lido["endereco"])
        esvaziar(pedido)
        pagamentos.enfileirar(ctx, pagamentos.criar(ctx, pedido, token))
        return pedido, True
    return pedido_unico(
        ctx, cliente_id, idempotency_key, hash_do_corpo(corpo or {}), cliente_id, quantidades, metodo, token, esvaziar,
        endereco_lido=lambda: lido["endereco"],
    )  # fmt: skip


def pedido_unico(
    ctx: Contexto,
    escopo: str,
    chave: str,
    corpo_hash: str,
    cliente_id: str,
    quantidades: Callable[[], dict[str, int]],
    metodo: str,
    token: str | None = None,
    depois_do_pedido: Callable[[Pedido], None] | None = None,
    seq: int | None = None,
    endereco_lido: Callable[[], dict | None] | None = None,
) -> tuple[Pedido, bool]:
    """One order per (``escopo``, ``chave``) however often it is attempted (the API's
    Idempotency-Key, the CRM's carts): (order, created now?). An attempt that stopped
    half-way is resumed under the order id reserved by the key's first claim."""
    claim = ctx.idempotencia.iniciar(escopo, chave, corpo_hash, agora())
    pedido_id = claim.pedido_id
    if claim.concluido:
        return obter(ctx, pedido_id), False
    try:
        pedido, pagamento = _pedido_da_reivindicacao(ctx, claim, cliente_id, quantidades, metodo, seq, endereco_lido)
        if depois_do_pedido is not None:
            depois_do_pedido(pedido)
        pagamento = pagamento or pagamentos.criar(ctx, pedido, token)
    except CheckoutEmAndamento:
        raise  # taken over by another attempt: the key is its now
    except DomainError:
        ctx.idempotencia.abandonar(escopo, chave, claim.dono)  # nothing was stored: the key is free again
        raise
    except Exception:
        with contextlib.suppress(Exception):  # best effort: else the key frees itself in ARRENDAMENTO
            ctx.idempotencia.liberar(escopo, chave, claim.dono)
        raise
    ctx.idempotencia.concluir(escopo, chave, pedido.id, agora(), claim.dono)
    # The payment step runs on the "pagamentos" queue; the order stays pendente till then.
    # If this enqueue fails, the periodic job re-enqueues payments left pendente.
    pagamentos.enfileirar(ctx, pagamento)
    return pedido, True


def _pedido_da_reivindicacao(ctx: Contexto, claim, cliente_id: str, quantidades, metodo: str, seq, endereco_lido):
    """The claim's order, made now or found with its payment (if stored). Only an attempt
    that resumes a claim can find them: a first claim's order id was made just now."""
    pedido = None if claim.primeira else ctx.pedidos.get(claim.pedido_id)
    if pedido is not None:
        return pedido, ctx.pagamentos.por_pedido(pedido.id)
    pedido = fazer_pedido(
        ctx, cliente_id, quantidades(), metodo, pedido_id=claim.pedido_id, seq=seq, endereco_lido=endereco_lido
    )
    return pedido, None


def obter(ctx: Contexto, pedido_id: str, cliente_id: str | None = None) -> Pedido:
    """One order; with ``cliente_id`` only if it is that customer's (else 404)."""
    pedido = ctx.pedidos.get(pedido_id, cliente_id)
    if pedido is None:
        raise NaoEncontrado("Pedido não encontrado.")
    return pedido


def pagamento_do_pedido(ctx: Contexto, pedido_id: str, cliente_id: str | None = None):
    obter(ctx, pedido_id, cliente_id)  # 404 for someone else's order
    pagamento = ctx.pagamentos.por_pedido(pedido_id)
    if pagamento is None:
        raise NaoEncontrado("Pagamento não encontrado.")
    return pagamento


def resumo(ctx: Contexto, cliente_id: str | None = None) -> dict:
    """How many orders and how much money per status (a customer: their own)."""
    linhas = ctx.pedidos.resumo(cliente_id)
    por_status = {status: {"quantidade": 0, "valor": Decimal("0.00")} for status in regras.STATUS}
    for linha in linhas:
        por_status[linha["_id"]] = {"quantidade": linha["quantidade"], "valor": Decimal(str(linha["valor"]))}
    return {
        "por_status": por_status,
        "quantidade": sum(v["quantidade"] for v in por_status.values()),
        "valor": somar(v["valor"] for k, v in por_status.items() if k != regras.CANCELADO),
    }


def listar(ctx: Contexto, filtro: PedidoFiltro, offset: int, limit: int):
    return ctx.pedidos.list(filtro, offset, limit)
