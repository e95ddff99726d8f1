"""The stream, durable: the CRM ``XADD``s ``canal``/``payload`` entries; the bridge reads
them through a consumer group and acknowledges an entry only once its task is enqueued.

An entry's number (``seq``) is its id's time (``seq_da_entrada``): read again, claimed from
a crashed bridge, or sent again by the CRM after Redis lost its data (field ``reenvio_de``:
the id it had), it keeps its place and is written at most once. The key ``<stream>:epoca``
tells the CRM when to send again: a new value means Redis lost the stream."""

from __future__ import annotations

import logging
import time
import uuid

import redis
from redis.exceptions import ResponseError

from adapters.sequencia import seq_da_entrada
from bridge.config import BridgeConfig
from bridge.envelope import Messages
from bridge.leadership import Term

logger = logging.getLogger(__name__)

ENTRIES_PER_READ = 100


def _text(valor) -> str:
    return valor.decode("utf-8", "replace") if isinstance(valor, bytes) else valor


def original_entry(entry_id: str, reenvio_de) -> tuple[str, str | None]:
    """The id an entry speaks for: its own, or the earlier one it is sent again for; and
    why it is refused when ``reenvio_de`` is not an earlier entry's id."""
    if reenvio_de is None:
        return entry_id, None
    original = _text(reenvio_de)
    seq = seq_da_entrada(original)
    if seq is None or seq > seq_da_entrada(entry_id):
        return entry_id, f"reenvio_de inválido: {original[:40]!r} não é o id de uma entrada anterior"
    return original, None


class StreamIntake:
    """The stream input thread of a leader's term (``loop``)."""

    def __init__(self, client: redis.Redis, cfg: BridgeConfig, messages: Messages):
        self.client, self.cfg, self.messages = client, cfg, messages

    def _ensure_group(self) -> None:
        """Create the consumer group if it is missing. The first time, from the stream's
        start (entries written before the bridge ever ran are handled). If it existed once
        and is gone (an operator deleted it, Redis lost it), from the stream's end: reading
        from the start again would replay entries already applied, with new sequence
        numbers, over newer data (and re-order CRM carts past their idempotency window).
        Entries written while it was gone must then be replayed by hand: logged loudly."""
        marca = self.cfg.group_created_key
        ja_existiu = bool(self.client.exists(marca))
        try:
            self.client.xgroup_create(self.cfg.stream, self.cfg.group, id="$" if ja_existiu else "0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        else:
            if ja_existiu:
                logger.error(
                    "consumer group %s of %s was gone and is created again from the stream's end: entries "
                    "written meanwhile are not read (XRANGE them and replay by hand)", self.cfg.group, self.cfg.stream
                )  # fmt: skip
        self.client.set(marca, 1)
        self._ensure_epoch()

    def _ensure_epoch(self) -> None:
        """Give the stream an epoch if it has none (Redis lost it with the stream): the CRM
        reads it, and on a new value sends again what it sent in its window."""
        if self.client.set(self.cfg.epoch_key, uuid.uuid4().hex, nx=True):
            logger.warning("stream %s has a new epoch: the CRM is to send its recent entries again", self.cfg.stream)

    def loop(self, term: Term) -> None:
        """Until stopped or the lead is lost: claim what dead consumers left, read, enqueue,
        acknowledge. No error ends it (an entry not acknowledged stays pending and is
        claimed again): each is logged and retried after a short pause, the consumer group
        created again if it is missing."""
        grupo_ok = False
        next_claim = 0.0
        while term.active():
            try:
                if not grupo_ok:
                    self._ensure_group()
                    grupo_ok = True
                if time.monotonic() >= next_claim:
                    self._ensure_epoch()
                    self._reclaim()
                    self._lag()
                    next_claim = time.monotonic() + self.cfg.lock_ttl_ms / 1000
                if entries := self.read():
                    self._process_entries(entries)
            except Exception as exc:
                if not grupo_ok:
                    logger.exception("cannot create consumer group %s on %s; retrying", self.cfg.group, self.cfg.stream)
                else:
                    logger.exception("stream intake failed; retrying")
                    grupo_ok = "NOGROUP" not in str(exc)  # stream or group deleted: create it again
                term.pause(0.5)

    def _lag(self) -> None:
        """Entries not yet delivered (``lag``) and delivered but unacknowledged (``pending``)."""
        for group in self.client.xinfo_groups(self.cfg.stream):
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.cfg.group:
                self.client.hset(
                    self.cfg.stats_key,
                    mapping={"stream_lag": group.get("lag") or 0, "stream_pendentes": group.get("pending") or 0},
                )

    def read(self) -> list[tuple]:
        """New entries for this consumer as ``(id, fields)``; [] after 0.2 s without one."""
        resposta = self.client.xreadgroup(
            self.cfg.group, self.cfg.consumer, {self.cfg.stream: ">"}, count=ENTRIES_PER_READ, block=200
        )
        return resposta[0][1] if resposta else []

    def _reclaim(self) -> None:
        """Take over entries another (dead) consumer read but never acknowledged."""
        start = "0-0"
        while True:
            result = self.client.xautoclaim(
                self.cfg.stream, self.cfg.group, self.cfg.consumer,
                min_idle_time=self.cfg.lock_ttl_ms, start_id=start, count=ENTRIES_PER_READ,
            )  # fmt: skip
            start, entries = result[0], result[1]
            if entries:
                logger.warning("bridge reclaimed %d pending stream entries", len(entries))
                self._process_entries(entries)
            if start in (b"0-0", "0-0"):
                return

    def _process_entries(self, entries: list[tuple]) -> None:
        """Handle entries read together (``(id, fields)``) as one batch; acknowledge them once
        it is queued (an entry not acknowledged is claimed again later, with the same number
        and event id: nothing is lost and nothing overtakes a newer entry)."""
        lote: list[dict] = []
        feitos = []
        for entry_id, fields in entries:
            if fields is None:  # deleted entry still referenced by the PEL
                feitos.append(entry_id)
                continue
            campos = {_text(k): v for k, v in fields.items()}
            original, recusa = original_entry(_text(entry_id), campos.get("reenvio_de"))
            ok = self.messages.safe_handle(
                _text(campos.get("canal", b"")) or "?", campos.get("payload", b""), "stream",
                event_id=f"s-{original}", lote=lote, seq=seq_da_entrada(original), recusa=recusa,
            )  # fmt: skip
            if ok:
                feitos.append(entry_id)
            if len(lote) >= self.cfg.batch_max and not self._flush_ack(lote, feitos):
                return
        self._flush_ack(lote, feitos)

    def _flush_ack(self, lote: list[dict], feitos: list) -> bool:
        ok = self.messages.flush(lote)
        if ok and feitos:
            self.client.xack(self.cfg.stream, self.cfg.group, *feitos)
            feitos.clear()
        return ok
