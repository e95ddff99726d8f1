"""Payment of an order and the order's fate: confirmation, or cancellation with stock
released and, for a paid order, a refund. Every transition is conditional on the
current status, so a retried or redelivered task never charges, releases or refunds twice.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from domain import envios as regras_envio
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
        concluir_cancelamento(ctx, novo)
    ctx.auditar("pedido", pedido_id, para, ["status"])
    return novo


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
    _encerrar_pagamento(ctx, pedido.id)
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


def cancelar_pedido(ctx: Contexto, pedido_id: str) -> Pedido:
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
    return mudar_status_pedido(ctx, pedido_id, regras.CANCELADO)


def _encerrar_pagamento(ctx: Contexto, pedido_id: str) -> None:
    """The order was cancelled: close its payment if still open, refund it if charged.

    The close is conditional on the payment still being open, and the payment task's
    approval is conditional on the same: if the charge wins the race, the re-read below
    sees it and refunds; if the close wins, the task refunds what it charged (``_aprovar``).
    """
    pagamento = ctx.pagamentos.por_pedido(pedido_id)
    if pagamento is None:
        return
    if pagamento.status in pg.ABERTOS and ctx.pagamentos.mudar(
        pagamento.id, pg.ABERTOS, pg.CANCELADO, agora(), motivo="pedido cancelado"
    ):
        return
    pagamento = obter(ctx, pagamento.id)
    if pagamento.status == pg.PROCESSADO:
        _reembolsar(ctx, pagamento)


def _reembolsar(ctx: Contexto, pagamento: Pagamento) -> str:
    """Give back money taken for a cancelled order (the gateway refunds a key once; asking
    again is harmless). What the gateway cannot refund (a paid boleto or pix) is marked
    ``reembolso_pendente`` for staff: never left looking settled."""
    de = (pg.PROCESSADO, pg.CANCELADO)
    if ctx.gateway.reembolsar(pg.chave_de_cobranca(pagamento.pedido_id)):
        ctx.pagamentos.mudar(pagamento.id, de, pg.REEMBOLSADO, agora())
        logger.info("pagamento %s reembolsado (pedido %s cancelado)", pagamento.id, pagamento.pedido_id)
    elif ctx.pagamentos.mudar(pagamento.id, de, pg.REEMBOLSO_PENDENTE, agora(), motivo="devolver pelo banco"):
        logger.warning("pagamento %s: devolução manual necessária (pedido %s)", pagamento.id, pagamento.pedido_id)
        ctx.auditar("pagamento", pagamento.id, pg.REEMBOLSO_PENDENTE)
    return obter(ctx, pagamento.id).status


def _falhar(ctx: Contexto, pagamento: Pagamento, motivo: str, status: str = pg.FALHOU) -> str:
    if ctx.pagamentos.mudar(pagamento.id, (pg.PENDENTE, pg.AGUARDANDO), status, agora(), motivo=motivo):
        pedido = ctx.pedidos.get(pagamento.pedido_id)
        if pedido and regras.CANCELADO in regras.TRANSICOES.get(pedido.status, set()):
            mudar_status_pedido(ctx, pedido.id, regras.CANCELADO)
    return status


def _aprovar(ctx: Contexto, pagamento: Pagamento, de: tuple[str, ...], referencia: str | None) -> str:
    """The money was taken: record it, then confirm the order (``_seguir_aprovado``)."""
    if not ctx.pagamentos.mudar(pagamento.id, de, pg.PROCESSADO, agora(), referencia=referencia):
        atual = obter(ctx, pagamento.id)
        if atual.status == pg.CANCELADO:
            # The order was cancelled while the charge was under way (or a boleto of a
            # cancelled order was paid): the money goes back.
            return _reembolsar(ctx, atual)
        if atual.status != pg.PROCESSADO:
            return atual.status
    return _seguir_aprovado(ctx, pagamento)


def _seguir_aprovado(ctx: Contexto, pagamento: Pagamento) -> str:
    """A ``processado`` payment's consequences: the order confirmed, its shipment
    requested. Both are idempotent, so a task interrupted between the payment's write and
    these (a MongoDB hiccup, a killed worker) completes them when it runs again."""
    pedido = ctx.pedidos.get(pagamento.pedido_id)
    if pedido is not None and pedido.status == regras.PENDENTE:
        with contextlib.suppress(Conflito):  # cancelled meanwhile, or another confirmation won: see below
            mudar_status_pedido(ctx, pedido.id, regras.CONFIRMADO)
        pedido = ctx.pedidos.get(pagamento.pedido_id)
    if pedido is None or pedido.status == regras.CANCELADO:
        return _reembolsar(ctx, obter(ctx, pagamento.id))
    if pedido.status == regras.CONFIRMADO:
        ctx.despachante.criar_envio(pedido.id)  # the "envios" queue takes it from here (once per order)
    return pg.PROCESSADO


def _pedido_espera(ctx: Contexto, pagamento: Pagamento) -> bool:
    """The order still waits for this payment. If it was cancelled before the task got
    here (the cancel may have stopped before closing the payment), the payment is closed:
    an order that no longer waits for its money is never charged."""
    pedido = ctx.pedidos.get(pagamento.pedido_id)
    if pedido is not None and pedido.status == regras.PENDENTE:
        return True
    ctx.pagamentos.mudar(pagamento.id, (pg.PENDENTE,), pg.CANCELADO, agora(), motivo="pedido cancelado")
    return False


def processar(ctx: Contexto, pagamento_id: str, ultima_tentativa: bool) -> str:
    """Charge the order through the gateway (idempotency key derived from the order).

    Raises ``GatewayTransitorio`` for the task to retry, unless this was the last try:
    then the payment fails and the order is cancelled (stock released).
    """
    pagamento = obter(ctx, pagamento_id)
    if pagamento.status == pg.PROCESSADO:
        return _seguir_aprovado(ctx, pagamento)  # finish an approval that was interrupted
    if pagamento.status != pg.PENDENTE or not _pedido_espera(ctx, pagamento):
        return obter(ctx, pagamento_id).status  # decided already: a redelivered task does nothing
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
    if pagamento.status == pg.PROCESSADO:
        # A repeated confirmation (gateways retry their callbacks): answer as the first
        # did, and finish what an interrupted first one may have left undone.
        _seguir_aprovado(ctx, pagamento)
        return obter(ctx, pagamento_id)
    if pagamento.status == pg.CANCELADO:
        # Paid after its order was cancelled: the money goes back where the gateway holds it.
        status = _reembolsar(ctx, pagamento)
        raise Conflito(f"Pedido cancelado: o pagamento não confirma o pedido (pagamento {status}).")
    if pagamento.status != pg.AGUARDANDO:
        raise Conflito(f"Pagamento {pagamento.status}: nada a confirmar.")
    _aprovar(ctx, pagamento, (pg.AGUARDANDO,), pagamento.referencia)
    ctx.auditar("pagamento", pagamento_id, "confirmado")
    return obter(ctx, pagamento_id)


def reenfileirar_parados(ctx: Contexto, antes_de: datetime) -> int:
    """Payments still ``pendente`` long after checkout (their task was never enqueued,
    e.g. Redis failed right after the order was stored): enqueue them again, each at most
    once per period (a stopped worker must not find thousands of copies when it returns).
    Safe: the task does nothing for a payment already decided, and charges once per order."""
    parados = ctx.pagamentos.parados(antes_de, agora())
    for pagamento in parados:
        enfileirar(ctx, pagamento)
    return len(parados)


def expirar(ctx: Contexto, antes_de: datetime) -> int:
    """Unpaid boletos/pix created before ``antes_de``: expire them, cancel, release stock."""
    vencidos = ctx.pagamentos.aguardando_desde(antes_de)
    for pagamento in vencidos:
        _falhar(ctx, pagamento, "não pago no prazo", status=pg.EXPIRADO)
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
    return {
        "expirados": expirar(ctx, agora_ - expira_apos),
        "reenfileirados": reenfileirar_parados(ctx, agora_ - PARADO_APOS),
        "cancelamentos_concluidos": concluir_cancelamentos_parados(ctx, agora_ - CANCELAMENTO_PARADO_APOS),
        "chaves_podadas": ctx.idempotencia.podar(agora_ - IDEMPOTENCIA_DURA),
    }
