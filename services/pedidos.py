"""Checkout and orders. ``fazer_pedido`` is the one way an order comes to exist: from the
API's cart and (next) from a cart the Java CRM hands over, with the same reservation rules.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from domain import pedidos as regras
from domain.errors import DadosInvalidos, NaoEncontrado
from domain.money import somar
from domain.pedidos import EstoqueInsuficiente, Pedido, PedidoFiltro
from services import pagamentos
from services.common import agora
from services.contexto import Contexto


def _endereco(cliente) -> dict | None:
    if cliente is None or cliente.endereco is None:
        return None
    return {k: v for k, v in vars(cliente.endereco).items() if v is not None}


def fazer_pedido(ctx: Contexto, cliente_id: str, quantidades: dict[str, int], metodo: str) -> Pedido:
    """Reserve every item's stock atomically, or none; then store the order (``pendente``).

    Each reservation is a conditional decrement that succeeds only while enough stock is
    left, so concurrent checkouts can never oversell; if any item is short, the
    reservations already made are released and the items short are named (409).
    """
    metodo = regras.validar_metodo(metodo)
    if not quantidades:
        raise DadosInvalidos({"itens": ["O carrinho está vazio."]})
    produtos = {pid: ctx.produtos.get(pid) for pid in quantidades}
    itens, total = regras.itens_do_pedido(quantidades, produtos)
    seq = ctx.proxima_seq()
    reservados: list[tuple[str, int]] = []
    faltam: list[str] = []
    for item in itens:  # a stable order (by product id) for every checkout
        if ctx.estoque.reservar(item.produto_id, item.quantidade, seq):
            reservados.append((item.produto_id, item.quantidade))
        else:
            faltam.append(item.produto_id)
    if faltam:
        for produto_id, quantidade in reservados:
            ctx.estoque.liberar(produto_id, quantidade)
        raise EstoqueInsuficiente(
            "Estoque insuficiente.", {"itens": [f"Estoque insuficiente: {produtos[p].nome} ({p})" for p in faltam]}
        )
    momento = agora()
    pedido = ctx.pedidos.add(
        Pedido(
            id="",
            cliente_id=cliente_id,
            itens=itens,
            total=total,
            status=regras.PENDENTE,
            pagamento_metodo=metodo,
            endereco=_endereco(ctx.clientes.get(cliente_id)),
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
    checkout (e.g. stock short) frees the key so the customer can try again.
    """
    if idempotency_key:
        anterior = ctx.idempotencia.iniciar(cliente_id, idempotency_key, hash_do_corpo(corpo or {}), agora())
        if anterior:
            return obter(ctx, anterior), False
    try:
        carrinho = ctx.carrinhos.get(cliente_id)
        quantidades = {item.produto_id: item.quantidade for item in carrinho.itens}
        pedido = fazer_pedido(ctx, cliente_id, quantidades, metodo)
        ctx.carrinhos.esvaziar(cliente_id, agora())
        pagamento = pagamentos.criar(ctx, pedido, token)
    except Exception:
        if idempotency_key:
            ctx.idempotencia.abandonar(cliente_id, idempotency_key)
        raise
    if idempotency_key:
        ctx.idempotencia.concluir(cliente_id, idempotency_key, pedido.id, agora())
    # The payment step runs on the "pagamentos" queue; the order stays pendente till then.
    # If this enqueue fails, the periodic job re-enqueues payments left pendente.
    pagamentos.enfileirar(ctx, pagamento)
    return pedido, True


def obter(ctx: Contexto, pedido_id: str, cliente_id: str | None = None) -> Pedido:
    """One order; with ``cliente_id`` only if it is that customer's (else 404)."""
    pedido = ctx.pedidos.get(pedido_id, cliente_id)
    if pedido is None:
        raise NaoEncontrado("Pedido não encontrado.")
    return pedido


def pagamento_do_pedido(ctx: Contexto, pedido_id: str, cliente_id: str | None = None):
    obter(ctx, pedido_id, cliente_id)  # 404 for someone else's order
    pagamento = ctx.pagamentos.do_pedido(pedido_id)
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
