"""Payment of an order and the order's fate: confirmation, or cancellation with stock
released and, for a paid order, a refund. Every transition is conditional on the
current status, so a retried or redelivered task never charges, releases or refunds twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from domain import pagamentos as pg
from domain import pedidos as regras
from domain.errors import Conflito, NaoEncontrado
from domain.pagamentos import GatewayTransitorio, Pagamento
from domain.pedidos import Pedido
from services.common import agora
from services.contexto import Contexto

logger = logging.getLogger(__name__)


def criar(ctx: Contexto, pedido: Pedido, token: str | None) -> Pagamento:
    momento = agora()
    pagamento = ctx.pagamentos.add(
        Pagamento(
            id="",
            pedido_id=pedido.id,
            cliente_id=pedido.cliente_id,
            metodo=pedido.pagamento_metodo,
            valor=pedido.total,
            token=token,
            criado_em=momento,
            atualizado_em=momento,
            historico=[{"status": pg.PENDENTE, "em": momento}],
        )
    )
    return pagamento


def enfileirar(ctx: Contexto, pagamento: Pagamento) -> None:
    ctx.despachante.processar_pagamento(pagamento.id, headers={"request_id": ctx.request_id or ""})


def obter(ctx: Contexto, pagamento_id: str) -> Pagamento:
    pagamento = ctx.pagamentos.get(pagamento_id)
    if pagamento is None:
        raise NaoEncontrado("Pagamento não encontrado.")
    return pagamento


def mudar_status_pedido(ctx: Contexto, pedido_id: str, para: str) -> Pedido:
    """Move an order along the state machine; cancelling releases its stock (once)."""
    pedido = ctx.pedidos.get(pedido_id)
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
        for item in pedido.itens:
            ctx.estoque.liberar(item.produto_id, item.quantidade)
        pagamento = ctx.pagamentos.do_pedido(pedido_id)
        if pagamento and pagamento.status == pg.PROCESSADO and ctx.gateway.reembolsar(pg.chave_de_cobranca(pedido_id)):
            ctx.pagamentos.mudar(pagamento.id, (pg.PROCESSADO,), pg.REEMBOLSADO, agora())
    ctx.auditar("pedido", pedido_id, para, ["status"])
    return novo


def _falhar(ctx: Contexto, pagamento: Pagamento, motivo: str, status: str = pg.FALHOU) -> str:
    if ctx.pagamentos.mudar(pagamento.id, (pg.PENDENTE, pg.AGUARDANDO), status, agora(), motivo=motivo):
        pedido = ctx.pedidos.get(pagamento.pedido_id)
        if pedido and regras.CANCELADO in regras.TRANSICOES.get(pedido.status, set()):
            mudar_status_pedido(ctx, pedido.id, regras.CANCELADO)
    return status


def _aprovar(ctx: Contexto, pagamento: Pagamento, de: tuple[str, ...], referencia: str | None) -> str:
    if ctx.pagamentos.mudar(pagamento.id, de, pg.PROCESSADO, agora(), referencia=referencia):
        mudar_status_pedido(ctx, pagamento.pedido_id, regras.CONFIRMADO)
        ctx.despachante.criar_envio(pagamento.pedido_id)  # the "envios" queue takes it from here
    return pg.PROCESSADO


def processar(ctx: Contexto, pagamento_id: str, ultima_tentativa: bool) -> str:
    """Charge the order through the gateway (idempotency key derived from the order).

    Raises ``GatewayTransitorio`` for the task to retry, unless this was the last try:
    then the payment fails and the order is cancelled (stock released).
    """
    pagamento = obter(ctx, pagamento_id)
    if pagamento.status != pg.PENDENTE:
        return pagamento.status  # already decided: a redelivered task does nothing
    ctx.pagamentos.contar_tentativa(pagamento_id)
    try:
        resposta = ctx.gateway.cobrar(
            pg.chave_de_cobranca(pagamento.pedido_id), pagamento.valor, pagamento.metodo, pagamento.token
        )
    except GatewayTransitorio as exc:
        if ultima_tentativa:
            return _falhar(ctx, pagamento, f"tentativas esgotadas: {exc.message}")
        raise
    if resposta.resultado == pg.APROVADO:
        return _aprovar(ctx, pagamento, (pg.PENDENTE,), resposta.referencia)
    if resposta.resultado == pg.RECUSADO:
        return _falhar(ctx, pagamento, resposta.motivo or "recusado")
    ctx.pagamentos.mudar(pagamento_id, (pg.PENDENTE,), pg.AGUARDANDO, agora(), referencia=resposta.referencia)
    return pg.AGUARDANDO


def confirmar(ctx: Contexto, pagamento_id: str) -> Pagamento:
    """A boleto/pix was paid (staff, or the gateway's callback)."""
    pagamento = obter(ctx, pagamento_id)
    if pagamento.status != pg.AGUARDANDO:
        raise Conflito(f"Pagamento {pagamento.status}: nada a confirmar.")
    _aprovar(ctx, pagamento, (pg.AGUARDANDO,), pagamento.referencia)
    ctx.auditar("pagamento", pagamento_id, "confirmado")
    return obter(ctx, pagamento_id)


def reenfileirar_parados(ctx: Contexto, antes_de: datetime) -> int:
    """Payments still ``pendente`` long after checkout (their task was never enqueued,
    e.g. Redis failed right after the order was stored): enqueue them again. Safe: the
    task does nothing for a payment already decided, and charges once per order."""
    parados = ctx.pagamentos.pendentes_desde(antes_de)
    for pagamento in parados:
        enfileirar(ctx, pagamento)
    return len(parados)


def expirar(ctx: Contexto, antes_de: datetime) -> int:
    """Unpaid boletos/pix created before ``antes_de``: expire them, cancel, release stock."""
    vencidos = ctx.pagamentos.aguardando_desde(antes_de)
    for pagamento in vencidos:
        _falhar(ctx, pagamento, "não pago no prazo", status=pg.EXPIRADO)
    return len(vencidos)
