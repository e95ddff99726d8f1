"""Shipments: created once per confirmed order; staff move them forward; the order follows."""

from __future__ import annotations

from domain import envios as regras
from domain import pedidos as regras_pedido
from domain.envios import Envio
from domain.errors import Conflito, NaoEncontrado
from services import status_pedido
from services.common import agora
from services.contexto import Contexto


def criar(ctx: Contexto, pedido_id: str) -> Envio:
    """The shipment of a confirmed order (idempotent: one per order)."""
    pedido = ctx.pedidos.get(pedido_id)
    if pedido is None:
        raise NaoEncontrado("Pedido não encontrado.")
    existente = ctx.envios.por_pedido(pedido_id)
    if existente:
        return existente
    if pedido.status != regras_pedido.CONFIRMADO:
        raise Conflito(f"Pedido {pedido.status}: só um pedido confirmado é enviado.")
    momento = agora()
    envio = ctx.envios.criar_para_pedido(
        Envio(
            id="",
            pedido_id=pedido_id,
            cliente_id=pedido.cliente_id,
            codigo_rastreio=regras.novo_codigo_rastreio(),
            endereco=pedido.endereco,
            historico=[{"status": regras.PREPARANDO, "em": momento}],
            criado_em=momento,
            atualizado_em=momento,
        )
    )
    ctx.auditar("envio", envio.id, "criado", ["pedido_id", "codigo_rastreio"])
    if ctx.pedidos.get(pedido_id).status == regras_pedido.CANCELADO:
        # Cancelled while this shipment was being made: the cancel's own check may have
        # come first, so this side looks too (one of the two always sees the other).
        envio = ctx.envios.mudar(envio.id, regras.PREPARANDO, regras.CANCELADO, agora()) or obter(ctx, envio.id)
    return envio


def obter(ctx: Contexto, envio_id: str, cliente_id: str | None = None) -> Envio:
    envio = ctx.envios.get(envio_id, cliente_id)
    if envio is None:
        raise NaoEncontrado("Envio não encontrado.")
    return envio


def do_pedido(ctx: Contexto, pedido_id: str, cliente_id: str | None = None) -> Envio:
    if ctx.pedidos.get(pedido_id, cliente_id) is None or (envio := ctx.envios.por_pedido(pedido_id)) is None:
        raise NaoEncontrado("Envio não encontrado.")
    return envio


def mudar(ctx: Contexto, envio_id: str, para: str) -> Envio:
    """Move the shipment forward (invalid transition: 409); the order's status follows.
    Cancelling a shipment cancels its order (stock released, payment refunded)."""
    envio = obter(ctx, envio_id)
    regras.validar_transicao(envio.status, para)
    if para == regras.CANCELADO:
        status_pedido.cancelar(ctx, envio.pedido_id)
        return obter(ctx, envio_id)
    if para in regras.STATUS_DO_PEDIDO:
        # The order's move is checked before anything is written: a 409 leaves both as they were.
        pedido = ctx.pedidos.get(envio.pedido_id)
        regras_pedido.validar_transicao(pedido.status if pedido else "", regras.STATUS_DO_PEDIDO[para])
    novo = ctx.envios.mudar(envio_id, envio.status, para, agora())
    if novo is None:
        raise Conflito("O envio mudou ao mesmo tempo; releia e tente de novo.")
    if para in regras.STATUS_DO_PEDIDO:
        status_pedido.mudar(ctx, envio.pedido_id, regras.STATUS_DO_PEDIDO[para])
    ctx.auditar("envio", envio_id, para, ["status"])
    return novo
