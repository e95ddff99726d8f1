"""The payment of a cancelled order: closed while still open, refunded once charged.

Below both the order's status changes (``services.status_pedido``) and the payment flow
(``services.pagamentos``), which both end a cancelled order's payment here.
"""

from __future__ import annotations

import logging

from domain import pagamentos as regras
from domain.errors import NaoEncontrado
from domain.pagamentos import Pagamento
from services.common import agora
from services.contexto import Contexto

logger = logging.getLogger(__name__)


def encerrar_pagamento(ctx: Contexto, pedido_id: str) -> None:
    """The order was cancelled: close its payment if still open, refund it if charged.

    Closing and the payment task's approval are both conditional on the payment being
    open: if the charge wins, the re-read below refunds it; if the close wins, the task
    refunds what it charged (``services.pagamentos._aprovar``).
    """
    pagamento = ctx.pagamentos.por_pedido(pedido_id)
    if pagamento is None:
        return
    if pagamento.status in regras.ABERTOS and ctx.pagamentos.mudar(
        pagamento.id, regras.ABERTOS, regras.CANCELADO, agora(), motivo="pedido cancelado"
    ):
        return
    pagamento = _obter(ctx, pagamento.id)
    if pagamento.status == regras.PROCESSADO:
        reembolsar(ctx, pagamento)


def reembolsar(ctx: Contexto, pagamento: Pagamento) -> str:
    """Give back money taken for a cancelled order (the gateway refunds a key once; asking
    again is harmless). What the gateway cannot refund (a paid boleto or pix) is marked
    ``reembolso_pendente`` for staff: never left looking settled."""
    de = (regras.PROCESSADO, regras.CANCELADO)
    if ctx.gateway.reembolsar(regras.chave_de_cobranca(pagamento.pedido_id)):
        ctx.pagamentos.mudar(pagamento.id, de, regras.REEMBOLSADO, agora())
        logger.info("pagamento %s reembolsado (pedido %s cancelado)", pagamento.id, pagamento.pedido_id)
    elif ctx.pagamentos.mudar(pagamento.id, de, regras.REEMBOLSO_PENDENTE, agora(), motivo="devolver pelo banco"):
        logger.warning("pagamento %s: devolução manual necessária (pedido %s)", pagamento.id, pagamento.pedido_id)
        ctx.auditar("pagamento", pagamento.id, regras.REEMBOLSO_PENDENTE)
    return _obter(ctx, pagamento.id).status


def _obter(ctx: Contexto, pagamento_id: str) -> Pagamento:
    pagamento = ctx.pagamentos.get(pagamento_id)
    if pagamento is None:
        raise NaoEncontrado("Pagamento não encontrado.")
    return pagamento
