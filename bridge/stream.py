"""The stream, durable: the CRM ``XADD``s ``canal``/``payload`` entries; the bridge reads
them through a consumer group and acknowledges an entry only once its task is enqueued.
Entries a crashed bridge left pending are claimed again, with the number (``seq``) they
were given when first read, kept in Redis until they are acknowledged."""

from __future__ import annotations

import logging
import time

import redis
from redis.exceptions import ResponseError

from adapters.sequencia import RESERVAR_LUA, chave_sequencia
from bridge.config import BridgeConfig
from bridge.envelope import Mensagens
from bridge.lideranca import Mandato

logger = logging.getLogger(__name__)

ENTRIES_PER_READ = 100

# Number stream entries atomically with reading them: an entry gets its ``seq`` the moment
# it is delivered, and keeps it (hash ``entry id -> seq``) until it is acknowledged, so an
# entry read again (claimed from a dead bridge, or after a failed flush or XACK) keeps the
# place it took when first received instead of overtaking newer entries. One round trip.
# KEYS: the stream, the sequence counter (shared with pub/sub and API writes), that hash.
# ARGV: "ler", group, consumer, count -> {entries, their seqs, the stream's last entry id}
#       "ids", id, ...              -> {{}, the seqs of these (claimed) entries, ""}
_NUMERAR_LUA = """
local entradas, ids = {}, {}
if ARGV[1] == 'ler' then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')
  if not r then
    local ultima = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
    return {{}, {}, ultima and ultima[1] or '0-0'}
  end
  entradas = r[1][2]
  for i, e in ipairs(entradas) do ids[i] = e[1] end
else
  for i = 2, #ARGV do ids[i - 1] = ARGV[i] end
end
local seqs, novas = {}, {}
for i, id in ipairs(ids) do
  local s = redis.call('HGET', KEYS[3], id)
  if s then seqs[i] = tonumber(s) else novas[#novas + 1] = i end
end
if #novas > 0 then
  local primeiro = reservar(KEYS[2], #novas) - 1
  for n, i in ipairs(novas) do
    seqs[i] = primeiro + n
    redis.call('HSET', KEYS[3], ids[i], seqs[i])
  end
end
return {entradas, seqs, ''}
"""
_NUMERAR_LUA = RESERVAR_LUA + _NUMERAR_LUA


class StreamIntake:
    """The stream input thread of a leader's term (``loop``)."""

    def __init__(self, client: redis.Redis, cfg: BridgeConfig, mensagens: Mensagens):
        self.client, self.cfg, self.mensagens = client, cfg, mensagens
        self._keys = [cfg.stream, chave_sequencia(cfg.prefix), cfg.stream_seq_key]
        self._numerar_lua = client.register_script(_NUMERAR_LUA)

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

    def loop(self, mandato: Mandato) -> None:
        """Until stopped or the lead is lost: claim what dead consumers left, read, enqueue,
        acknowledge. No error ends it (an entry not acknowledged stays pending and is
        claimed again): each is logged and retried after a short pause, the consumer group
        created again if it is missing."""
        grupo_ok = False
        next_claim = 0.0
        while mandato.ativo():
            try:
                if not grupo_ok:
                    self._ensure_group()
                    grupo_ok = True
                if time.monotonic() >= next_claim:
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
                mandato.pausar(0.5)

    def _lag(self) -> None:
        """Entries not yet delivered (``lag``) and delivered but unacknowledged (``pending``)."""
        for group in self.client.xinfo_groups(self.cfg.stream):
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.cfg.group:
                self.client.hset(
                    self.cfg.stats_key,
                    mapping={"stream_lag": group.get("lag") or 0, "stream_pendentes": group.get("pending") or 0},
                )

    def _numerar(self, *args) -> list:
        return self._numerar_lua(keys=self._keys, args=list(args))

    def read(self) -> list[tuple]:
        """New entries for this consumer as ``(id, fields, seq)``, numbered as they are
        read; when there are none, wait up to 0.2 s for one and return []."""
        entradas, seqs, ultima = self._numerar("ler", self.cfg.group, self.cfg.consumer, ENTRIES_PER_READ)
        if not entradas:
            # A script cannot block: wait here for an entry newer than the stream's last one.
            self.client.xread({self.cfg.stream: ultima}, count=1, block=200)
            return []
        return [
            (entry_id, dict(zip(plano[::2], plano[1::2], strict=True)), seq)
            for (entry_id, plano), seq in zip(entradas, seqs, strict=True)
        ]

    def _reclaim(self) -> None:
        """Take over entries another (dead) consumer read but never acknowledged; each keeps
        the ``seq`` it was given when first read."""
        start = "0-0"
        while True:
            result = self.client.xautoclaim(
                self.cfg.stream, self.cfg.group, self.cfg.consumer,
                min_idle_time=self.cfg.lock_ttl_ms, start_id=start, count=ENTRIES_PER_READ,
            )  # fmt: skip
            start, entries = result[0], result[1]
            if len(result) > 2 and result[2]:  # deleted while pending: gone from the PEL, forget their seq
                self.client.hdel(self.cfg.stream_seq_key, *result[2])
            if entries:
                logger.warning("bridge reclaimed %d pending stream entries", len(entries))
                vivas = [entry_id for entry_id, fields in entries if fields is not None]
                seqs = dict(zip(vivas, self._numerar("ids", *vivas)[1], strict=True)) if vivas else {}
                self._process_entries([(entry_id, fields, seqs.get(entry_id)) for entry_id, fields in entries])
            if start in (b"0-0", "0-0"):
                return

    def _process_entries(self, entries: list[tuple]) -> None:
        """Handle entries read together (``(id, fields, seq)``) as one batch; acknowledge
        them once it is queued (an entry not acknowledged is claimed again later, with the
        same ``seq`` and event id: nothing is lost and nothing overtakes a newer entry)."""
        lote: list[dict] = []
        feitos = []
        for entry_id, fields, seq in entries:
            if fields is None:  # deleted entry still referenced by the PEL
                feitos.append(entry_id)
                continue
            eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            campos = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}
            canal = campos.get("canal", b"")
            canal = canal.decode("utf-8", "replace") if isinstance(canal, bytes) else canal
            payload = campos.get("payload", b"")
            # A deterministic id: an entry handled twice (crash before XACK) keeps its id.
            if self.mensagens.safe_handle(canal or "?", payload, "stream", event_id=f"s-{eid}", lote=lote, seq=seq):
                feitos.append(entry_id)
            if len(lote) >= self.cfg.batch_max and not self._flush_ack(lote, feitos):
                return
        self._flush_ack(lote, feitos)

    def _flush_ack(self, lote: list[dict], feitos: list) -> bool:
        ok = self.mensagens.flush(lote)
        if ok and feitos:
            # Acknowledged and their numbers forgotten together (MULTI): an entry still
            # pending always has its number.
            with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(self.cfg.stream, self.cfg.group, *feitos)
                pipe.hdel(self.cfg.stream_seq_key, *feitos)
                pipe.execute()
            feitos.clear()
        return ok
