"""Sync tasks: apply one CRM event envelope to MongoDB, or dead-letter it.

Thin by design: decode the envelope, call ``services.sync``, decide retry. Invalid
events are dead-lettered at once (retrying cannot fix them); infrastructure failures
(MongoDB or Redis unreachable, timeouts) retry with capped exponential backoff and
full jitter for long enough to ride out a MongoDB outage of many minutes.
"""

from __future__ import annotations

import logging
import random
import time

from adapters import logs, metrics
from adapters.store_errors import TRANSIENT
from domain.eventos import Envelope, EventoInvalido, resumo
from domain.pedidos import CheckoutEmAndamento
from services import sync
from tasks import app, resources

logger = logging.getLogger(__name__)

# CheckoutEmAndamento: another attempt of the same CRM cart holds it (a redelivery racing
# the first delivery, or a crashed attempt whose hold has not run out yet).
TRANSITORIOS = (*TRANSIENT, CheckoutEmAndamento)


def atraso(tentativa: int, teto_s: float, base_s: float = 1.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(teto, base * 2^tentativa)]."""
    return random.uniform(0, min(teto_s, base_s * 2**tentativa))  # noqa: S311 - jitter, not crypto


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


@app.task(name="tasks.sync.aplicar_evento", bind=True, max_retries=None)
def aplicar_evento(self, envelope: dict) -> str:
    """Apply one envelope; idempotent, so redelivery and retries are safe."""
    env = Envelope.from_dict(envelope)
    cfg = resources.cfg()
    if cfg["SYNC_FAULT_DELAY_MS"]:
        # Fault injection for tests and drills: random delays reorder parallel work.
        low = min(cfg["SYNC_FAULT_DELAY_MIN_MS"], cfg["SYNC_FAULT_DELAY_MS"])
        time.sleep(random.uniform(low, cfg["SYNC_FAULT_DELAY_MS"]) / 1000)  # noqa: S311
    tentativa = self.request.retries + 1
    try:
        ctx = resources.contexto(ator="sistema:java", request_id=env.event_id)
        try:
            info = sync.aplicar(ctx, env)
        except EventoInvalido as exc:
            sync.rejeitar(ctx, env, exc.message, tentativas=tentativa)
            info = {"resultado": "rejeitado", "motivo": exc.message}
    except TRANSITORIOS as exc:
        if self.request.retries >= cfg["SYNC_MAX_RETRIES"]:
            _esgotado(env, exc, tentativa)
            raise
        espera = atraso(self.request.retries, cfg["SYNC_RETRY_MAX_S"])
        logger.warning("evento event_id=%s falha transitória (%s); nova tentativa em %.1fs", env.event_id, exc, espera)
        raise self.retry(exc=exc, countdown=espera) from None
    except Exception as exc:
        # A bug must not silently eat an event: keep it where staff see and can replay it.
        logger.exception("evento event_id=%s erro inesperado", env.event_id)
        _esgotado(env, exc, tentativa, motivo=f"erro inesperado: {type(exc).__name__}: {exc}")
        return "rejeitado"
    _log(env, tentativa, info)
    return info["resultado"]


def _esgotado(env: Envelope, exc: Exception, tentativas: int, motivo: str | None = None) -> None:
    motivo = motivo or f"tentativas esgotadas ({tentativas}): {type(exc).__name__}: {exc}"
    try:
        sync.rejeitar(resources.contexto(ator="sistema:java", request_id=env.event_id), env, motivo, tentativas)
    except Exception:  # the store itself is down: the log line is the last record
        logger.exception("evento event_id=%s perdido: %s", env.event_id, motivo)


@app.task(name="tasks.sync.aplicar_lote", bind=True, max_retries=None)
def aplicar_lote(self, envelopes: list[dict]) -> str:
    """Apply a batch the bridge grouped (one bulk write for known products); idempotent
    like one event, since every write is conditional on its event's sequence number."""
    envs = [Envelope.from_dict(e) for e in envelopes]
    cfg = resources.cfg()
    try:
        resultados = sync.aplicar_lote(resources.contexto(ator="sistema:java"), envs)
    except TRANSITORIOS as exc:
        if self.request.retries >= cfg["SYNC_MAX_RETRIES"]:
            for env in envs:
                _esgotado(env, exc, self.request.retries + 1)
            raise
        espera = atraso(self.request.retries, cfg["SYNC_RETRY_MAX_S"])
        logger.warning("lote de %d eventos: falha transitória (%s); nova tentativa em %.1fs", len(envs), exc, espera)
        raise self.retry(exc=exc, countdown=espera) from None
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


@app.task(name="tasks.sync.rejeitar_evento", bind=True, max_retries=None)
def rejeitar_evento(self, envelope: dict, motivo: str) -> str:
    """Store an event the bridge already found malformed."""
    env = Envelope.from_dict(envelope)
    try:
        sync.rejeitar(resources.contexto(ator="sistema:bridge", request_id=env.event_id), env, motivo, 1)
    except TRANSITORIOS as exc:
        raise self.retry(exc=exc, countdown=atraso(self.request.retries, resources.cfg()["SYNC_RETRY_MAX_S"])) from None
    _log(env, 1, {"resultado": "rejeitado", "motivo": motivo})
    return "rejeitado"
