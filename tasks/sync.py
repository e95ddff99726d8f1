"""Sync tasks: apply CRM event envelopes to MongoDB, or dead-letter them.

Thin by design: decode the envelopes, call ``services.sync``. Invalid events are
dead-lettered at once (retrying cannot fix them); transient failures (MongoDB or Redis
unreachable, timeouts) are retried by ``SyncTask`` for long enough to ride out a MongoDB
outage of many minutes, and their events dead-lettered if even that is not enough.
"""

from __future__ import annotations

import logging
import time

from adapters import logs, metrics
from domain.eventos import Envelope, EventoInvalido, Resultado, resumo
from services import sync
from tasks import app, resources
from tasks.base import TRANSIENT, PonteTask

logger = logging.getLogger(__name__)


class SyncTask(PonteTask):
    """A sync task: its first argument is one envelope or a list of them. Retried up to
    ``SYNC_MAX_RETRIES`` times; then each of its events becomes a dead letter."""

    max_retries_setting = "SYNC_MAX_RETRIES"

    def describe(self, args: tuple, kwargs: dict) -> str:
        envelopes = _envelopes(args)
        if len(envelopes) == 1:
            return f"evento event_id={envelopes[0].get('event_id')}"
        return f"lote de {len(envelopes)} eventos"

    def give_up(self, exc: Exception, args: tuple, kwargs: dict) -> None:
        for envelope in _envelopes(args):
            _esgotado(Envelope.from_dict(envelope), exc, self.request.retries + 1)


def _envelopes(args: tuple) -> list[dict]:
    return args[0] if isinstance(args[0], list) else [args[0]]


def _log(env: Envelope, tentativas: int, info: dict) -> None:
    """One line per event: what it was and what became of it (never the payload); counted
    by outcome in /metrics."""
    metrics.record_sync_event(str(info.get("resultado")), env.seq, time.time())
    info = {**resumo(env.canal, env.payload), **info}
    logger.info(
        "evento event_id=%s canal=%s acao=%s crm_id=%s seq=%s resultado=%s tentativas=%s%s",
        env.event_id, env.canal, info.get("acao"), info.get("crm_id"), env.seq, info.get("resultado"), tentativas,
        f" motivo={info['motivo']!r}" if info.get("motivo") else "",
    )  # fmt: skip


@app.task(name="tasks.sync.aplicar_evento", base=SyncTask, bind=True)
def aplicar_evento(self, envelope: dict) -> str:
    """Apply one envelope; idempotent, so redelivery and retries are safe."""
    env = Envelope.from_dict(envelope)
    tentativas = self.request.retries + 1
    try:
        info = _aplicar(env, tentativas)
    except TRANSIENT:
        raise  # SyncTask's to retry
    except Exception as exc:
        # A bug must not silently eat an event: keep it where staff see and can replay it.
        logger.exception("evento event_id=%s erro inesperado", env.event_id)
        _esgotado(env, exc, tentativas, motivo=f"erro inesperado: {type(exc).__name__}: {exc}")
        return Resultado.REJEITADO
    _log(env, tentativas, info)
    return info["resultado"]


def _aplicar(env: Envelope, tentativas: int) -> dict:
    ctx = resources.contexto(ator="sistema:java", request_id=env.event_id)
    try:
        return sync.aplicar(ctx, env)
    except EventoInvalido as exc:
        sync.rejeitar(ctx, env, exc.message, tentativas=tentativas)
        return {"resultado": Resultado.REJEITADO, "motivo": exc.message}


def _esgotado(env: Envelope, exc: Exception, tentativas: int, motivo: str | None = None) -> None:
    motivo = motivo or f"tentativas esgotadas ({tentativas}): {type(exc).__name__}: {exc}"
    try:
        sync.rejeitar(resources.contexto(ator="sistema:java", request_id=env.event_id), env, motivo, tentativas)
    except Exception:  # the store itself is down: the log line is the last record
        logger.exception("evento event_id=%s perdido: %s", env.event_id, motivo)


@app.task(name="tasks.sync.aplicar_lote", base=SyncTask, bind=True)
def aplicar_lote(self, envelopes: list[dict]) -> str:
    """Apply a batch the bridge grouped (one bulk write for known products); idempotent
    like one event, since every write is conditional on its event's sequence number."""
    envs = [Envelope.from_dict(e) for e in envelopes]
    try:
        resultados = sync.aplicar_lote(resources.contexto(ator="sistema:java"), envs)
    except TRANSIENT:
        raise  # SyncTask's to retry
    except Exception:
        # A bug in the batch path must not lose events: each goes its own way again, with
        # its own retries and dead letter.
        logger.exception("lote de %d eventos: erro inesperado; reenfileirados um a um", len(envs))
        despachante = resources.despachante()
        for env in envs:
            despachante.enviar(env.to_dict(), headers={"event_id": env.event_id, "request_id": env.event_id})
        return "reenfileirado"
    for env, info in zip(envs, resultados, strict=True):
        token = logs.bind(event_id=env.event_id, request_id=env.event_id)
        try:
            _log(env, self.request.retries + 1, info)
        finally:
            logs.reset(token)
    return "lote"


# No retry limit: this task is the event's dead letter, and there is nowhere else to keep it.
@app.task(name="tasks.sync.rejeitar_evento", base=SyncTask, max_retries_setting=None)
def rejeitar_evento(envelope: dict, motivo: str) -> str:
    """Store an event the bridge already found malformed."""
    env = Envelope.from_dict(envelope)
    sync.rejeitar(resources.contexto(ator="sistema:bridge", request_id=env.event_id), env, motivo, 1)
    _log(env, 1, {"resultado": Resultado.REJEITADO, "motivo": motivo})
    return Resultado.REJEITADO
