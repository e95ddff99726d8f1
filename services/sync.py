"""Applying the Java CRM's events to MongoDB, and the dead-letter store around it.

One envelope at a time (``aplicar``) or a batch (``aplicar_lote``): every write is
conditional on the envelope's sequence number (only a newer one applies), and a batch
has the semantics of its events applied one after another in sequence order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from domain import eventos
from domain.clientes import SENHA_CRM, normalizar_email, senha_vinda_do_crm
from domain.errors import Conflito, NaoEncontrado
from domain.eventos import (
    CANAL_CLIENTES,
    CANAL_PRODUTOS,
    PREFIXO_CARRINHO,
    Envelope,
    EventoInvalido,
    Regra,
    Resultado,
)
from domain.pedidos import EstoqueInsuficiente
from domain.rejeitados import DESCARTADO, PENDENTE, REENVIADO, EventoRejeitado, RejeitadoFiltro
from domain.texto import chave_busca
from services import pedidos
from services.common import agora
from services.contexto import Contexto
from wire import crm

logger = logging.getLogger(__name__)


def aplicar(ctx: Contexto, env: Envelope) -> dict:
    """Apply one envelope; return what happened (for the log). Raise ``EventoInvalido``."""
    if env.canal == CANAL_PRODUTOS:
        return _produto(ctx, env)
    if env.canal == CANAL_CLIENTES:
        return _cliente(ctx, env)
    if env.canal.startswith(PREFIXO_CARRINHO):
        return _carrinho(ctx, env)
    raise EventoInvalido(f"canal sem consumidor: {env.canal}", Regra.CANAL)


def aplicar_lote(ctx: Contexto, envelopes: list[Envelope]) -> list[dict]:
    """Apply several envelopes with the effect of applying them one by one in ``seq``
    order (an invalid one is dead-lettered); results in the order of ``envelopes``.

    Consecutive events of products with a real id, the CRM's steady state, are written
    together; anything else waits for the product writes received before it, so a cart
    sees the stock of every event received before it and of none after.
    """
    resultados: list[dict | None] = [None] * len(envelopes)
    lote: list[tuple[int, Envelope, eventos.EventoProduto]] = []
    for i in sorted(range(len(envelopes)), key=lambda k: envelopes[k].seq):
        env = envelopes[i]
        if env.canal == CANAL_PRODUTOS:
            try:
                ev = crm.decodificar_produto(env.payload)
            except EventoInvalido as exc:
                resultados[i] = _rejeitado(ctx, env, exc)  # no effect to order
                continue
            if ev.java_id != 0:
                lote.append((i, env, ev))
                continue
        if lote:  # the product writes received before this event go first
            _produtos_em_lote(ctx, lote, resultados)
            lote = []
        resultados[i] = _aplicar_ou_rejeitar(ctx, env)
    if lote:
        _produtos_em_lote(ctx, lote, resultados)
    return [r for r in resultados if r is not None]


def _produtos_em_lote(ctx: Contexto, lote, resultados: list) -> None:
    """One bulk write for the stored products, one for those to create, one audit insert;
    what neither could write goes one by one."""
    itens = [_EventoComSeq(ev.java_id, ev.acao, ev.campos, env.seq) for _, env, ev in lote]
    momento = agora()
    escritos = ctx.sync_produtos.aplicar_varios(itens, momento)
    # Products not stored yet (an initial load's) are created together too, where they can be.
    ausentes = [k for k, (resultado, _) in enumerate(escritos) if resultado == Resultado.AUSENTE]
    if ausentes:
        criados = ctx.sync_produtos.criar_varios([itens[k] for k in ausentes], momento)
        for k, criado in zip(ausentes, criados, strict=True):
            escritos[k] = criado
    registros = []
    for (i, env, ev), (resultado, doc_id) in zip(lote, escritos, strict=True):
        if resultado == Resultado.AUSENTE:
            resultados[i] = _aplicar_ou_rejeitar(ctx, env)  # not stored yet: create (or link) it one by one
            continue
        if doc_id:
            registros.append(ctx.registro("produto", doc_id, ev.acao, ev.campos, request_id=env.event_id))
        resultados[i] = {"resultado": resultado, "acao": ev.acao, "crm_id": ev.java_id, "id": doc_id}
    ctx.auditoria.add_many(registros)


@dataclass(frozen=True)
class _EventoComSeq:
    """A product event with its place in the sync order: what ``aplicar_varios`` writes."""

    java_id: int
    acao: str
    campos: dict
    seq: int


def _aplicar_ou_rejeitar(ctx: Contexto, env: Envelope) -> dict:
    """``aplicar`` for one envelope of a batch: invalid, it is dead-lettered, not raised."""
    ctx = replace(ctx, request_id=env.event_id)  # its audit records name its event
    try:
        return aplicar(ctx, env)
    except EventoInvalido as exc:
        return _rejeitado(ctx, env, exc)


def _rejeitado(ctx: Contexto, env: Envelope, exc: EventoInvalido) -> dict:
    rejeitar(replace(ctx, request_id=env.event_id), env, exc.message, tentativas=1)
    return {"resultado": Resultado.REJEITADO, "motivo": exc.message}


def _produto(ctx: Contexto, env: Envelope) -> dict:
    ev = crm.decodificar_produto(env.payload)
    sync, momento = ctx.sync_produtos, agora()
    nome = chave_busca(ev.nome) if ev.nome else None  # a removido's too: see below
    if ev.java_id == 0:
        # A new product whose CRM id does not exist yet: stored once, linked later by name.
        if sync.superado(nome, env.seq):
            resultado, doc_id = Resultado.OBSOLETO, None
        else:
            resultado, doc_id = sync.criar_pendente(ev.campos, env.seq, env.event_id, momento)
            if resultado == Resultado.CRIADO and sync.superado(nome, env.seq):
                sync.descartar_pendente(env.event_id)  # lost the race to its own later event
                resultado, doc_id = Resultado.OBSOLETO, None
    else:

        def escrever(criar: bool):
            if ev.acao == "removido":
                return sync.ocultar(ev.java_id, env.seq, momento, criar=criar, nome_busca=nome)
            return sync.aplicar(ev.java_id, ev.campos, env.seq, momento, reviver=ev.acao == "criado", criar=criar)

        # The common case, a product we know, costs one conditional write.
        resultado, doc_id = escrever(criar=False)
        if resultado == Resultado.AUSENTE:
            # Not stored under this id: it may be the product an earlier id-0 criado of the
            # same name stored (a removido too: it hides that product, not a new tombstone).
            if nome and sync.vincular_pendente(ev.java_id, nome, env.seq):
                logger.info("produto java_id=%s vinculado ao criado com id 0 de mesmo nome", ev.java_id)
            resultado, doc_id = escrever(criar=True)
            if resultado in (Resultado.CRIADO, Resultado.REMOVIDO_DESCONHECIDO) and nome:
                sync.descartar_pendentes_anteriores(nome, env.seq)
    if doc_id:
        ctx.auditar("produto", doc_id, ev.acao, ev.campos)
    return {"resultado": resultado, "acao": ev.acao, "crm_id": ev.java_id, "id": doc_id}


def _cliente(ctx: Contexto, env: Envelope) -> dict:
    """A CRM customer: created, or updated by CRM id (id 0: by e-mail); an account registered
    through the API with that e-mail is linked, keeping its password (``senha_vinda_do_crm``)."""
    ev = crm.decodificar_cliente(env.payload)
    campos = dict(ev.campos)
    # The bridge hashes the password; a clear one reaching here (hashed with a fresh salt)
    # counts as a change, on the safe side.
    senha_hash = campos.pop("senha_hash", None) or (ctx.hasher.hash(ev.senha) if ev.senha is not None else None)
    atual = (ctx.clientes.por_java_id(ev.java_id) if ev.java_id else None) or ctx.clientes.por_email(
        normalizar_email(campos["email"])
    )
    senha_hash, encerrar_sessoes = senha_vinda_do_crm(atual, senha_hash)
    if senha_hash:
        campos.update(senha_hash=senha_hash, senha_origem=SENHA_CRM)
    resultado = ctx.sync_clientes.aplicar(ev.java_id, campos, env.seq, agora())
    if resultado != Resultado.OBSOLETO:
        ctx.auditar("cliente", f"java:{ev.java_id}", resultado, campos)
        if encerrar_sessoes and ctx.tokens is not None:
            ctx.tokens.revogar_todos(atual.id)
    return {"resultado": resultado, "acao": "cliente", "crm_id": ev.java_id}


def _carrinho(ctx: Contexto, env: Envelope) -> dict:
    """A cart the CRM finalized becomes an order through the very checkout of the API
    (``services.pedidos.fazer_pedido``), exactly once per message (keyed by event id)."""
    carrinho = eventos.decodificar_carrinho(env.canal, env.payload)
    cliente = ctx.clientes.por_java_id(carrinho.cliente_java_id)
    if cliente is None:
        raise EventoInvalido(f"cliente do CRM desconhecido: {carrinho.cliente_java_id}", Regra.CLIENTE_DESCONHECIDO)
    quantidades = {}
    for java_id, quantidade in sorted(carrinho.quantidades.items()):
        produto = ctx.produtos.por_java_id(java_id)
        if produto is None:
            raise EventoInvalido(
                f"produto do CRM desconhecido ou fora do catálogo: {java_id}", Regra.PRODUTO_DESCONHECIDO
            )
        quantidades[produto.id] = quantidade
    try:
        # Keyed by the event id: a redelivered or retried message resumes, never re-orders.
        pedido, criado = pedidos.pedido_unico(
            ctx,
            f"java-carrinho:{cliente.id}",
            env.event_id,
            pedidos.hash_do_corpo({"p": env.payload}),
            cliente.id,
            lambda: quantidades,
            ctx.carrinho_java_pagamento,
            seq=env.seq,  # its place among the CRM's events: older stock events cannot undo the sale
            endereco_lido=lambda: pedidos.endereco_de(cliente),  # the customer was read just above
        )
    except EstoqueInsuficiente as exc:
        raise EventoInvalido(f"estoque insuficiente: {exc.errors.get('itens')}", Regra.ESTOQUE) from None
    resultado = Resultado.PEDIDO_CRIADO if criado else Resultado.OBSOLETO
    return {"resultado": resultado, "acao": "carrinho", "crm_id": carrinho.cliente_java_id, "id": pedido.id}


# -- dead letters -------------------------------------------------------------


def rejeitar(ctx: Contexto, env: Envelope, motivo: str, tentativas: int) -> EventoRejeitado:
    """Keep an event that cannot be applied, without any clear password in it."""
    guardado = {**env.to_dict(), "payload": eventos.sem_senha(env.payload)}
    rejeitado = ctx.rejeitados.add(guardado, motivo[:2000], tentativas, agora())
    ctx.auditar("evento_rejeitado", rejeitado.id, "rejeitado")
    return rejeitado


def listar_rejeitados(ctx: Contexto, filtro: RejeitadoFiltro, offset: int, limit: int):
    return ctx.rejeitados.list(filtro, offset, limit)


def obter_rejeitado(ctx: Contexto, rejeitado_id: str) -> EventoRejeitado:
    rejeitado = ctx.rejeitados.get(rejeitado_id)
    if rejeitado is None:
        raise NaoEncontrado("Evento rejeitado não encontrado.")
    return rejeitado


def _mudar_estado(ctx: Contexto, rejeitado_id: str, para: str) -> EventoRejeitado:
    rejeitado = ctx.rejeitados.marcar(rejeitado_id, PENDENTE, para, agora(), ctx.ator)
    if rejeitado is None:
        obter_rejeitado(ctx, rejeitado_id)  # 404 if it does not exist at all
        raise Conflito("Este evento não está pendente (já reenviado ou descartado).")
    ctx.auditar("evento_rejeitado", rejeitado_id, para)
    return rejeitado


def reenviar(ctx: Contexto, rejeitado_id: str) -> EventoRejeitado:
    """Re-enqueue the original envelope (same sequence number: its place in the order
    is kept, so it cannot undo changes received after it)."""
    rejeitado = _mudar_estado(ctx, rejeitado_id, REENVIADO)
    try:
        ctx.despachante.enviar(rejeitado.envelope)
    except Exception:
        # Not enqueued (the broker is down): back to pendente, so it can be replayed later.
        ctx.rejeitados.marcar(rejeitado_id, REENVIADO, PENDENTE, agora(), ctx.ator)
        raise
    return rejeitado


def descartar(ctx: Contexto, rejeitado_id: str) -> EventoRejeitado:
    return _mudar_estado(ctx, rejeitado_id, DESCARTADO)
