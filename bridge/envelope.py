"""One message: read it (UTF-8, the quick check ``triar``), hash a customer's clear
``senha``, wrap it in an ``Envelope``, and send it, alone or in a batch, to the sync
queue (or its dead letter). Both inputs, pub/sub and stream, go through here."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from adapters import logs, tracing
from adapters.passwords import com_senha_hash_dos_dados
from bridge.retry import retry
from bridge.stats import Stats
from domain.eventos import CANAL_CLIENTES, Envelope, EventoInvalido, resumo, resumo_dos_dados, sem_senha, triar

logger = logging.getLogger(__name__)


class Messages:
    """Each message as an envelope and a task; the counters in ``stats``."""

    def __init__(
        self,
        despachante,
        stats: Stats,
        sequencia: Callable[[], int],
        hash_senha: Callable[[str, str], str],
        may_wait: Callable[[float], bool],
    ):
        self.despachante, self.stats = despachante, stats
        self._sequencia, self._hash_senha, self._may_wait = sequencia, hash_senha, may_wait

    def handle(
        self,
        canal: str,
        raw: bytes | str,
        origem: str,
        event_id: str | None = None,
        lote: list | None = None,
        seq: int | None = None,
        recusa: str | None = None,
    ) -> Envelope:
        """Wrap one message in an envelope and enqueue it (or its dead letter); with ``lote``,
        a valid envelope is added to it instead, for ``flush`` to send with the others.
        ``seq``: its number when it has one (a stream entry), else taken here. ``recusa``:
        why the message is refused whatever it holds (its stream entry is)."""
        event_id = event_id or uuid.uuid4().hex
        # The event id is this message's request id: the task it becomes (and any order,
        # payment or shipment task that follows) logs it, so one grep follows the event.
        token = logs.bind(request_id=event_id, event_id=event_id)
        try:
            with tracing.event(canal, origem, event_id):  # the event's trace starts here
                return self._handle(canal, raw, origem, event_id, lote, seq, recusa)
        finally:
            logs.reset(token)
            if lote is None:
                self.stats.mirror()

    def _handle(
        self, canal: str, raw: bytes | str, origem: str, event_id: str, lote: list | None, seq: int | None,
        recusa: str | None,
    ) -> Envelope:  # fmt: skip
        inicio = time.monotonic()
        self.stats.add("recebidos")
        payload, dados, motivo = self._read_payload(canal, raw)
        if recusa:
            dados, motivo = None, recusa
        env = Envelope(
            event_id=event_id,
            canal=canal,
            payload=payload if motivo is None else sem_senha(payload),
            recebido_em=datetime.now(UTC).isoformat(),
            seq=seq if seq is not None else self._sequencia(),
            origem=origem,
        )
        resultado = self._deliver(env, motivo, lote)
        if motivo is None:
            self.stats.add("enfileirados", lag_ms=(time.monotonic() - inicio) * 1000)
        info = resumo(canal, payload) if motivo else resumo_dos_dados(canal, dados)
        tracing.annotate(crm_id=info.get("crm_id"), seq=env.seq, acao=info.get("acao"), resultado=resultado)
        logger.info(
            "evento event_id=%s canal=%s acao=%s crm_id=%s seq=%s origem=%s resultado=%s%s",
            env.event_id, canal, info.get("acao"), info.get("crm_id"), env.seq, origem, resultado,
            f" motivo={motivo!r}" if motivo else "",
        )  # fmt: skip
        return env

    def _read_payload(self, canal: str, raw: bytes | str) -> tuple[str, Any, str | None]:
        """The payload as text, as ``triar`` read it (parsed once: the hashing and the log
        reuse it), and why it cannot be an event (None when it can)."""
        if isinstance(raw, bytes):
            try:
                payload = raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.decode("utf-8", "replace"), None, "payload não é UTF-8"
        else:
            payload = raw
        try:
            dados = triar(canal, payload)
        except EventoInvalido as exc:
            return payload, None, exc.message
        if canal == CANAL_CLIENTES:
            # Clear passwords never reach the task queue, the dead-letter store or a log.
            payload = com_senha_hash_dos_dados(payload, dados, self._hash_senha)
        return payload, dados, None

    def _deliver(self, env: Envelope, motivo: str | None, lote: list | None) -> str:
        if motivo:
            self.despachante.rejeitar(env.to_dict(), motivo)
            self.stats.add("rejeitados")
            return "rejeitado"
        if lote is not None:
            lote.append(env.to_dict())
            tracing.remember(lote[-1])  # published later, by flush, within this event's trace
        else:
            self.despachante.enviar(env.to_dict(), headers={"event_id": env.event_id})
        return "enfileirado"

    def safe_handle(
        self,
        canal: str,
        raw,
        origem: str,
        event_id: str | None = None,
        lote: list | None = None,
        seq: int | None = None,
        recusa: str | None = None,
    ) -> bool:
        """Handle one message; a failure is logged and counted, never fatal to the bridge.

        A pub/sub message cannot be read again, so a Redis hiccup is retried here for a few
        seconds; a stream entry is simply left pending and claimed again later.
        """
        try:
            retry(
                lambda: self.handle(canal, raw, origem, event_id, lote, seq, recusa),
                attempts=5 if origem == "pubsub" else 1, base_s=0.4, may_wait=self._may_wait,
                retry_on=(redis.RedisError,),
            )  # fmt: skip
            return True
        except Exception:
            self.stats.add("erros")
            logger.exception("bridge failed to enqueue a message from %s (%s)", canal, origem)
            return False

    def flush(self, lote: list[dict]) -> bool:
        """Send what ``handle`` grouped: one task for many envelopes, the single-event task
        for one. Retried for a few seconds; False (logged, counted) if it could not be sent."""
        try:
            return self._flush(lote)
        finally:
            self.stats.mirror()

    def _flush(self, lote: list[dict]) -> bool:
        if not lote:
            return True
        try:
            retry(lambda: self._send(lote), attempts=5, base_s=0.4, may_wait=self._may_wait)
        except Exception:
            self.stats.add("erros")
            logger.exception("bridge failed to enqueue a batch of %d events", len(lote))
            lote.clear()
            return False
        lote.clear()
        return True

    def _send(self, lote: list[dict]) -> None:
        with tracing.publishing(lote):
            if len(lote) == 1:
                self.despachante.enviar(lote[0], headers={"event_id": lote[0]["event_id"]})
            else:
                self.despachante.enviar_lote(lote)
