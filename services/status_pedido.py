"""An order's status: every change goes through ``mudar``, and a cancellation sets off
its consequences (stock given back, the payment closed or refunded, the shipment stopped).

Payments (``services.pagamentos``) and shipments (``services.envios``) move orders here.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from domain import envios as regras_envio
from domain import pedidos as regras
from domain.errors import Conflito, NaoEncontrado
from domain.pedidos import Pedido
from services import reembolsos
from services.common import agora
from services.contexto import Contexto


def mudar(ctx: Contexto, pedido_id: str, para: str, lido: Pedido | None = None) -> Pedido:
    """Move an order along the state machine; cancelling releases its stock (once).

    ``lido``: the order as the caller read it, saving a read. The write is conditional on
    the status read, so a stale one ends in ``Conflito``, never in a wrong move."""
    pedido = lido or ctx.pedidos.get(pedido_id)
    if pedido is None:
        raise NaoEncontrado("Pedido não encontrado.")
    regras.validar_transicao(pedido.status, para)
    momento = agora()
    novo = ctx.pedidos.mudar_status(pedido_id, pedido.status, para, momento)
    if novo is None:
        raise Conflito("O pedido mudou ao mesmo tempo; releia e tente de novo.")
    if ctx.publicador:
        cliente = ctx.clientes.get(pedido.cliente_id)
        ctx.publicador.status_do_pedido(
            {
                "pedido_id": pedido_id,
                "cliente_id": pedido.cliente_id,
                "cliente_java_id": cliente.java_id if cliente else None,
                "status_anterior": pedido.status,
                "status": para,
                "em": momento.isoformat(),
            }
        )
    if para == regras.CANCELADO:
        concluir_cancelamento(ctx, novo)
    ctx.auditar("pedido", pedido_id, para, ["status"])
    return novo


def cancelar(ctx: Contexto, pedido_id: str) -> Pedido:
    """Staff cancel an order: its stock is released, an open payment is closed (never
    charged after this), a charged one refunded, a shipment not yet sent cancelled.

    The other statuses come from the flows that own them (payment: confirmado; shipment:
    enviado, entregue), so an order can never be confirmed without being paid.
    """
    pedido = ctx.pedidos.get(pedido_id)
    if pedido is None:
        raise NaoEncontrado("Pedido não encontrado.")
    regras.validar_transicao(pedido.status, regras.CANCELADO)
    envio = ctx.envios.por_pedido(pedido_id)
    if envio is not None and envio.status != regras_envio.CANCELADO:
        # The shipment first: if it is being sent right now, exactly one of the two
        # conditional writes wins, and a parcel on its way is never left with a refunded order.
        regras_envio.validar_transicao(envio.status, regras_envio.CANCELADO)
        if ctx.envios.mudar(envio.id, envio.status, regras_envio.CANCELADO, agora()) is None:
            raise Conflito("O envio mudou ao mesmo tempo; releia e tente de novo.")
        ctx.auditar("envio", envio.id, regras_envio.CANCELADO, ["status"])
    return mudar(ctx, pedido_id, regras.CANCELADO)


def concluir_cancelamento(ctx: Contexto, pedido: Pedido) -> None:
    """What follows an order's cancellation: its stock given back (once per item), its open
    payment closed or its charge refunded, a shipment made meanwhile cancelled. Every step
    is idempotent: a cancellation that stopped half-way (marked pending with the order's
    own write) is finished by the beat (``concluir_cancelamentos_parados``)."""
    for item in pedido.itens:
        if ctx.pedidos.tomar_liberacao(pedido.id, item.produto_id):
            try:
                ctx.estoque.liberar(item.produto_id, item.quantidade)
            except Exception:
                with contextlib.suppress(Exception):  # best effort: else the CRM's stock fixes it
                    ctx.pedidos.devolver_liberacao(pedido.id, item.produto_id)
                raise
    reembolsos.encerrar_pagamento(ctx, pedido.id)
    # A shipment the shipment task made while the order was being cancelled.
    envio = ctx.envios.por_pedido(pedido.id)
    if (
        envio is not None
        and envio.status == regras_envio.PREPARANDO
        and ctx.envios.mudar(envio.id, regras_envio.PREPARANDO, regras_envio.CANCELADO, agora()) is not None
    ):
        ctx.auditar("envio", envio.id, regras_envio.CANCELADO, ["status"])
    ctx.pedidos.cancelamento_concluido(pedido.id)


def concluir_cancelamentos_parados(ctx: Contexto, antes_de: datetime) -> int:
    """Finish the cancellations still pending since before ``antes_de`` (beat)."""
    parados = ctx.pedidos.cancelamentos_pendentes(antes_de)
    for pedido in parados:
        concluir_cancelamento(ctx, pedido)
    return len(parados)
