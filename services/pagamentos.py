"""Payment of an order: charged, confirmed, failed or expired; the order follows through
``services.status_pedido``. Every transition is conditional on the current status, so a
retried or redelivered task never charges, releases or refunds twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from domain import pagamentos as regras
from domain import pedidos as regras_pedido
from domain.errors import Conflito, NaoEncontrado
from domain.pagamentos import GatewayTransitorio, Pagamento
from domain.pedidos import Pedido
from services import reembolsos, status_pedido
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
            historico=[{"status": regras.PENDENTE, "em": momento}],
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


def _falhar(ctx: Contexto, pagamento: Pagamento, motivo: str, status: str = regras.FALHOU) -> str:
    if ctx.pagamentos.mudar(pagamento.id, (regras.PENDENTE, regras.AGUARDANDO), status, agora(), motivo=motivo):
        pedido = ctx.pedidos.get(pagamento.pedido_id)
        if pedido and regras_pedido.CANCELADO in regras_pedido.TRANSICOES.get(pedido.status, set()):
            status_pedido.mudar(ctx, pedido.id, regras_pedido.CANCELADO)
    return status


def _aprovar(
    ctx: Contexto, pagamento: Pagamento, de: tuple[str, ...], referencia: str | None, pedido: Pedido | None = None
) -> str:
    """The money was taken: record it, then confirm the order (``_seguir_aprovado``; ``pedido``
    as read before the charge, if it was)."""
    if not ctx.pagamentos.mudar(pagamento.id, de, regras.PROCESSADO, agora(), referencia=referencia):
        atual = obter(ctx, pagamento.id)
        if atual.status == regras.CANCELADO:
            # The order was cancelled while the charge was under way (or a boleto of a
            # cancelled order was paid): the money goes back.
            return reembolsos.reembolsar(ctx, atual)
        if atual.status != regras.PROCESSADO:
            return atual.status
    return _seguir_aprovado(ctx, pagamento, pedido)


def _seguir_aprovado(ctx: Contexto, pagamento: Pagamento, pedido: Pedido | None = None) -> str:
    """A ``processado`` payment's consequences: the order confirmed, its shipment
    requested. Both are idempotent, so a task interrupted between the payment's write and
    these (a MongoDB hiccup, a killed worker) completes them when it runs again.

    ``pedido`` may be a read from before the charge: the confirmation is conditional on
    its status, so an order cancelled since then is a ``Conflito``, and is read again."""
    pedido = pedido or ctx.pedidos.get(pagamento.pedido_id)
    if pedido is not None and pedido.status == regras_pedido.PENDENTE:
        try:
            pedido = status_pedido.mudar(ctx, pedido.id, regras_pedido.CONFIRMADO, lido=pedido)
        except Conflito:  # cancelled meanwhile, or another confirmation won: see below
            pedido = ctx.pedidos.get(pagamento.pedido_id)
    if pedido is None or pedido.status == regras_pedido.CANCELADO:
        return reembolsos.reembolsar(ctx, obter(ctx, pagamento.id))
    if pedido.status == regras_pedido.CONFIRMADO:
        ctx.despachante.criar_envio(pedido.id)  # the "envios" queue takes it from here (once per order)
    return regras.PROCESSADO


def _pedido_espera(ctx: Contexto, pagamento: Pagamento) -> Pedido | None:
    """The order, if it still waits for this payment. If it was cancelled before the task
    got here (the cancel may have stopped before closing the payment), the payment is
    closed: an order that no longer waits for its money is never charged."""
    pedido = ctx.pedidos.get(pagamento.pedido_id)
    if pedido is not None and pedido.status == regras_pedido.PENDENTE:
        return pedido
    ctx.pagamentos.mudar(pagamento.id, (regras.PENDENTE,), regras.CANCELADO, agora(), motivo="pedido cancelado")
    return None


def processar(ctx: Contexto, pagamento_id: str, ultima_tentativa: bool) -> str:
    """Charge the order through the gateway (idempotency key derived from the order).

    Raises ``GatewayTransitorio`` for the task to retry, unless this was the last try:
    then the payment fails and the order is cancelled (stock released).
    """
    pagamento = obter(ctx, pagamento_id)
    if pagamento.status == regras.PROCESSADO:
        return _seguir_aprovado(ctx, pagamento)  # finish an approval that was interrupted
    pedido = _pedido_espera(ctx, pagamento) if pagamento.status == regras.PENDENTE else None
    if pedido is None:
        return obter(ctx, pagamento_id).status  # decided already: a redelivered task does nothing
    ctx.pagamentos.contar_tentativa(pagamento_id)
    try:
        resposta = ctx.gateway.cobrar(
            regras.chave_de_cobranca(pagamento.pedido_id), pagamento.valor, pagamento.metodo, pagamento.token
        )
    except GatewayTransitorio as exc:
        if ultima_tentativa:
            return _falhar(ctx, pagamento, f"tentativas esgotadas: {exc.message}")
        raise
    if resposta.resultado == regras.APROVADO:
        return _aprovar(ctx, pagamento, (regras.PENDENTE,), resposta.referencia, pedido)
    if resposta.resultado == regras.RECUSADO:
        return _falhar(ctx, pagamento, resposta.motivo or "recusado")
    ctx.pagamentos.mudar(pagamento_id, (regras.PENDENTE,), regras.AGUARDANDO, agora(), referencia=resposta.referencia)
    return regras.AGUARDANDO


def confirmar(ctx: Contexto, pagamento_id: str) -> Pagamento:
    """A boleto/pix was paid (staff, or the gateway's callback)."""
    pagamento = obter(ctx, pagamento_id)
    if pagamento.status == regras.PROCESSADO:
        # A repeated confirmation (gateways retry their callbacks): answer as the first
        # did, and finish what an interrupted first one may have left undone.
        _seguir_aprovado(ctx, pagamento)
        return obter(ctx, pagamento_id)
    if pagamento.status == regras.CANCELADO:
        # Paid after its order was cancelled: the money goes back where the gateway holds it.
        status = reembolsos.reembolsar(ctx, pagamento)
        raise Conflito(f"Pedido cancelado: o pagamento não confirma o pedido (pagamento {status}).")
    if pagamento.status != regras.AGUARDANDO:
        raise Conflito(f"Pagamento {pagamento.status}: nada a confirmar.")
    _aprovar(ctx, pagamento, (regras.AGUARDANDO,), pagamento.referencia)
    ctx.auditar("pagamento", pagamento_id, "confirmado")
    return obter(ctx, pagamento_id)


def reenfileirar_parados(ctx: Contexto, antes_de: datetime) -> int:
    """Enqueue again payments whose task was lost (Redis failed after the checkout), each
    once per period: a worker back from a stop must not find thousands of copies. A task
    for a payment already decided does nothing."""
    parados = ctx.pagamentos.parados(antes_de, agora())
    for pagamento in parados:
        enfileirar(ctx, pagamento)
    return len(parados)


def expirar(ctx: Contexto, antes_de: datetime) -> int:
    """Unpaid boletos/pix created before ``antes_de``: expire them, cancel, release stock."""
    vencidos = ctx.pagamentos.aguardando_desde(antes_de)
    for pagamento in vencidos:
        _falhar(ctx, pagamento, "não pago no prazo", status=regras.EXPIRADO)
    return len(vencidos)


# A payment still "pendente" this long after checkout lost its task: enqueue it again.
PARADO_APOS = timedelta(minutes=5)
# A cancellation still pending this long stopped half-way: the beat finishes it.
CANCELAMENTO_PARADO_APOS = timedelta(minutes=1)
# Idempotency-Key records are kept this long, then pruned.
IDEMPOTENCIA_DURA = timedelta(hours=24)


def verificar(ctx: Contexto, agora_: datetime, expira_apos: timedelta) -> dict[str, int]:
    """The beat's round: expire unpaid boletos/pix, enqueue again payments whose task was
    lost, finish cancellations that stopped half-way, prune old Idempotency-Key records."""
    cancelamento_parado = agora_ - CANCELAMENTO_PARADO_APOS
    return {
        "expirados": expirar(ctx, agora_ - expira_apos),
        "reenfileirados": reenfileirar_parados(ctx, agora_ - PARADO_APOS),
        "cancelamentos_concluidos": status_pedido.concluir_cancelamentos_parados(ctx, cancelamento_parado),
        "chaves_podadas": ctx.idempotencia.podar(agora_ - IDEMPOTENCIA_DURA),
    }
