"""The bridge's machinery: leader election, pub/sub and stream intake, envelopes.

Two inputs, one order:

- **Pub/sub** (what the CRM does today): ``SUBSCRIBE`` to the configured channels and
  ``PSUBSCRIBE`` to the patterns. Redis drops what is published while nobody listens.
- **A Redis Stream** (durable): the CRM ``XADD``s ``canal``/``payload`` entries; the bridge
  reads them through a consumer group and acknowledges an entry only after its task is
  enqueued. Entries a crashed bridge left pending are claimed again, with the number they
  were given when first read (kept in Redis until they are acknowledged).

High availability: any number of bridges may run; they elect a leader with a Redis lock
(``SET NX PX`` renewed every second). Only the leader takes input, so nothing is enqueued
twice; if it dies, another takes over within the lock's TTL (seconds). Because only the
leader numbers events (``INCR``), the sequence is the order the bridge received them. A
leader whose input thread ends gives up the lead and starts again: it never goes on
calling itself the leader while taking no input.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from redis.exceptions import ResponseError

from adapters import logs
from adapters.passwords import com_senha_hash_dos_dados
from adapters.sequencia import RESERVAR_LUA, RedisSequencia, chave_sequencia
from bridge.retry import DrainWait, retry
from domain.eventos import CANAL_CLIENTES, Envelope, EventoInvalido, resumo, resumo_dos_dados, sem_senha, triar
from settings import DEFAULTS

logger = logging.getLogger(__name__)


@dataclass
class BridgeConfig:
    channels: list[str]
    patterns: list[str]
    stream: str
    group: str
    prefix: str
    # The defaults are the settings' own (settings.DEFAULTS): one value, one place.
    lock_ttl_ms: int = DEFAULTS["BRIDGE_LOCK_TTL_MS"]
    batch_max: int = DEFAULTS["BRIDGE_BATCH_MAX"]
    batch_espera_ms: int = DEFAULTS["BRIDGE_BATCH_ESPERA_MS"]
    # After SIGTERM, how long retries may go on enqueueing what was already received (below
    # the 60 s stop grace of docker-compose and systemd, so the process ends by itself).
    drenagem_max_s: float = 20.0
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    @property
    def lock_key(self) -> str:
        return f"{self.prefix}:bridge:leader"

    @property
    def stats_key(self) -> str:
        return f"{self.prefix}:bridge:stats"

    @property
    def alive_key(self) -> str:
        return alive_key(self.prefix, self.consumer)

    @property
    def stream_seq_key(self) -> str:
        """Hash: the ``seq`` of each stream entry read and not yet acknowledged."""
        return f"{self.prefix}:bridge:stream_seq:{self.stream}:{self.group}"


ALIVE_EVERY_S = 5.0
STREAM_LEITURA = 100  # entries per stream read
ALIVE_TTL_S = 15


def alive_key(prefix: str, consumer: str) -> str:
    """Where a bridge says it is alive (``python -m bridge.healthcheck`` reads it)."""
    return f"{prefix}:bridge:alive:{consumer}"


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


class Stats:
    """Counters kept in-process and mirrored in a Redis hash for the metrics endpoint.

    Mirrored once per batch (``espelhar``), not per message: one round trip per event
    had been the bridge's largest cost (39% of its time in a burst, cProfile)."""

    NAMES = ("recebidos", "enfileirados", "rejeitados", "erros")

    def __init__(self, client: redis.Redis, key: str):
        self._client, self._key = client, key
        self._lock = threading.Lock()
        self.values = dict.fromkeys(self.NAMES, 0)
        self.lag_ms = 0.0
        self._pendentes: dict[str, int] = {}
        self._lag_pendente: float | None = None

    def add(self, name: str, lag_ms: float | None = None) -> None:
        with self._lock:
            self.values[name] += 1
            self._pendentes[name] = self._pendentes.get(name, 0) + 1
            if lag_ms is not None:
                self.lag_ms = self._lag_pendente = lag_ms

    def espelhar(self) -> None:
        """Add what was counted since the last call to the Redis hash."""
        with self._lock:
            pendentes, lag = self._pendentes, self._lag_pendente
            self._pendentes, self._lag_pendente = {}, None
        if not pendentes and lag is None:
            return
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for name, n in pendentes.items():
                    pipe.hincrby(self._key, name, n)
                if lag is not None:
                    pipe.hset(self._key, "ultimo_lag_ms", round(lag, 3))
                pipe.execute()
        except redis.RedisError:
            logger.warning("bridge stats not mirrored to Redis (kept for the next batch)", exc_info=True)
            with self._lock:
                for name, n in pendentes.items():
                    self._pendentes[name] = self._pendentes.get(name, 0) + n
                if self._lag_pendente is None:
                    self._lag_pendente = lag


class Bridge:
    def __init__(
        self,
        client: redis.Redis,
        despachante,
        cfg: BridgeConfig,
        hash_senha: Callable[[str, str], str],
    ):
        self.client = client
        self.despachante = despachante
        self.cfg = cfg
        self.hash_senha = hash_senha
        self.stop = threading.Event()
        self.stats = Stats(client, cfg.stats_key)
        self.lock = client.lock(cfg.lock_key, timeout=cfg.lock_ttl_ms / 1000, blocking=False, thread_local=False)
        self.leading = threading.Event()
        self._seq_key = chave_sequencia(cfg.prefix)
        self._sequencia = RedisSequencia(client, cfg.prefix)
        self._numerar_lua = client.register_script(_NUMERAR_LUA)
        self._alive_at = -ALIVE_EVERY_S
        self._may_wait = DrainWait(self.stop, cfg.drenagem_max_s)
        self._fila_ilegivel_ate = 0.0  # after a failed look at the sync queue, do not gather

    # -- one message -------------------------------------------------------------
    def handle(
        self,
        canal: str,
        raw: bytes | str,
        origem: str,
        event_id: str | None = None,
        lote: list | None = None,
        seq: int | None = None,
    ) -> Envelope:
        """Wrap one message in an envelope and enqueue it (or its dead letter); with ``lote``,
        a valid envelope is added to it instead, for ``flush`` to send with the others.
        ``seq``: its number when reserved with others (``_reservar``), else taken here."""
        event_id = event_id or uuid.uuid4().hex
        # The event id is this message's request id: the task it becomes (and any order,
        # payment or shipment task that follows) logs it, so one grep follows the event.
        token = logs.bind(request_id=event_id, event_id=event_id)
        try:
            return self._handle(canal, raw, origem, event_id, lote, seq)
        finally:
            logs.reset(token)
            if lote is None:
                self.stats.espelhar()

    def _handle(
        self, canal: str, raw: bytes | str, origem: str, event_id: str, lote: list | None, seq: int | None
    ) -> Envelope:
        inicio = time.monotonic()
        self.stats.add("recebidos")
        motivo = None
        if isinstance(raw, bytes):
            try:
                payload = raw.decode("utf-8")
            except UnicodeDecodeError:
                payload, motivo = raw.decode("utf-8", "replace"), "payload não é UTF-8"
        else:
            payload = raw
        dados = None
        if motivo is None:
            try:
                dados = triar(canal, payload)  # the payload's one parse: hashing and the log reuse it
            except EventoInvalido as exc:
                motivo = exc.message
        if motivo is None and canal == CANAL_CLIENTES:
            # Clear passwords never reach the task queue, the dead-letter store or a log.
            payload = com_senha_hash_dos_dados(payload, dados, self.hash_senha)
        env = Envelope(
            event_id=event_id,
            canal=canal,
            payload=payload if motivo is None else sem_senha(payload),
            recebido_em=datetime.now(UTC).isoformat(),
            seq=seq if seq is not None else self._sequencia(),
            origem=origem,
        )
        if motivo:
            self.despachante.rejeitar(env.to_dict(), motivo)
            self.stats.add("rejeitados")
            resultado = "rejeitado"
        elif lote is not None:
            lote.append(env.to_dict())
            resultado = "enfileirado"
        else:
            self.despachante.enviar(env.to_dict(), headers={"event_id": env.event_id})
            resultado = "enfileirado"
        if motivo is None:
            self.stats.add("enfileirados", lag_ms=(time.monotonic() - inicio) * 1000)
        info = resumo(canal, payload) if motivo else resumo_dos_dados(canal, dados)
        logger.info(
            "evento event_id=%s canal=%s acao=%s crm_id=%s seq=%s origem=%s resultado=%s%s",
            env.event_id, canal, info.get("acao"), info.get("crm_id"), env.seq, origem, resultado,
            f" motivo={motivo!r}" if motivo else "",
        )  # fmt: skip
        return env

    # -- leadership ------------------------------------------------------------------
    def run(self, poll_s: float = 0.5) -> None:
        """Until ``stop``: become leader when possible, then take input."""
        logger.info("bridge %s started (standby until it holds the leader lock)", self.cfg.consumer)
        while not self.stop.is_set():
            self._alive("standby")
            if not self.lock.acquire(blocking=False):
                self.stop.wait(poll_s)
                continue
            logger.info("bridge %s is the leader", self.cfg.consumer)
            self.leading.set()
            try:
                inteiro = self._lead()
            finally:
                self.leading.clear()
                with suppress(redis.RedisError, redis.exceptions.LockError):  # expired, taken over, unreachable
                    self.lock.release()
            if not inteiro:  # a worker thread died: let another bridge lead, or start them again
                self.stop.wait(poll_s)
        logger.info("bridge %s stopped", self.cfg.consumer)

    def _lead(self) -> bool:
        """Lead until stopped or the lock is lost; False if a worker thread ended on its own.

        A leader without one of its threads would go on saying it leads (liveness key,
        lock renewed) while taking no input: a thread that ends is treated as losing the
        lock, the others stop, the lock is released and ``run`` starts them all again."""
        lost = threading.Event()
        done = threading.Event()

        def renew():
            interval = self.cfg.lock_ttl_ms / 1000 / 5
            while not done.wait(interval):
                try:
                    if not self.lock.reacquire():
                        raise redis.exceptions.LockError("not owned")
                except Exception:
                    logger.exception("bridge %s lost the leader lock", self.cfg.consumer)
                    lost.set()
                    return

        workers = [threading.Thread(target=renew, name="bridge-lock", daemon=True)]
        if self.cfg.channels or self.cfg.patterns:
            workers.append(threading.Thread(target=self._pubsub_loop, args=(lost,), name="bridge-pubsub"))
        if self.cfg.stream:
            workers.append(threading.Thread(target=self._stream_loop, args=(lost,), name="bridge-stream"))
        for t in workers:
            t.start()
        inteiro = True
        while not (self.stop.is_set() or lost.is_set()):
            if mortas := [t.name for t in workers if not t.is_alive()]:
                logger.error("bridge %s: thread %s ended; giving up the lead", self.cfg.consumer, ", ".join(mortas))
                inteiro = False
                lost.set()
                break
            self._alive("leader")
            self.stop.wait(0.2)
        for t in workers[1:]:
            t.join()
        done.set()
        workers[0].join()
        return inteiro

    def _alive(self, papel: str) -> None:
        """Refresh this bridge's liveness key at most every ALIVE_EVERY_S."""
        now = time.monotonic()
        if now - self._alive_at < ALIVE_EVERY_S:
            return
        try:
            self.client.set(self.cfg.alive_key, papel, ex=ALIVE_TTL_S)
            self._alive_at = now
        except redis.RedisError as exc:  # the health check will report it
            logger.warning("bridge liveness not written: %s", exc)

    def _running(self, lost: threading.Event) -> bool:
        return not (self.stop.is_set() or lost.is_set())

    def _pausa(self, lost: threading.Event, s: float) -> None:
        """Back off after a failure; cut short when the bridge stops or loses the lead."""
        fim = time.monotonic() + s
        while self._running(lost) and (resta := fim - time.monotonic()) > 0:
            self.stop.wait(min(resta, 0.05))

    # -- pub/sub -----------------------------------------------------------------------
    def _pubsub_loop(self, lost: threading.Event) -> None:
        """Subscribe (retried until it works), then take messages until stopped or the lead
        is lost. No error ends it: each is logged and retried after a short pause."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            while self._running(lost):
                try:
                    if self.cfg.channels:
                        pubsub.subscribe(*self.cfg.channels)
                    if self.cfg.patterns:
                        pubsub.psubscribe(*self.cfg.patterns)
                    break
                except Exception:
                    logger.exception("pub/sub subscribe failed; retrying")
                    self._pausa(lost, 0.5)
            while self._running(lost):
                try:
                    self._pubsub_lote(pubsub, lost)
                except Exception:
                    logger.exception("pub/sub intake failed; retrying")
                    self._pausa(lost, 0.5)
            # Stop listening, then enqueue what already arrived: nothing received is dropped.
            try:
                pubsub.unsubscribe()
                pubsub.punsubscribe()
                while self._pubsub_lote(pubsub, lost):
                    pass
            except Exception:
                logger.exception("pub/sub: could not drain on the way out")
        finally:
            with suppress(Exception):
                pubsub.close()

    def _pubsub_lote(self, pubsub, lost: threading.Event | None = None) -> bool:
        """Wait up to 0.2 s for a message, take whatever else has already arrived (up to
        ``batch_max``), send it as one batch. A lone message goes at once while the
        workers keep up: batching adds no latency then; it happens when messages are
        queuing up, here or in the sync queue (``_juntar_enquanto_ocupado``)."""
        lote: list[dict] = []
        brutos: list[tuple[str, bytes]] = []
        got = self._pubsub_ler(pubsub, timeout=0.2, brutos=brutos)
        mais = got
        while mais and len(brutos) < self.cfg.batch_max:
            mais = self._pubsub_ler(pubsub, timeout=0, brutos=brutos)
        self._tratar(brutos, lote)
        if lote and len(lote) < self.cfg.batch_max and self._running(lost or threading.Event()):
            self._juntar_enquanto_ocupado(pubsub, lote, lost)
        self.flush(lote)
        return got

    def _juntar_enquanto_ocupado(self, pubsub, lote: list[dict], lost: threading.Event | None = None) -> None:
        """Keep gathering while the sync queue still holds a task no worker has taken.

        A task sent now would only wait behind it; held here for a moment, its events
        join the ones still arriving and the workers get fewer, larger tasks, each paying
        a batch's fixed costs once. Without this, a steady stream near the workers' rate
        becomes one small task per message and a backlog that never drains. Bounded by
        ``batch_espera_ms`` (messages held here are in memory only, as pub/sub's are), and
        cut short when the bridge stops or loses the leader lock (a new leader may be
        listening already: what is held goes out now).
        """
        limite = time.monotonic() + self.cfg.batch_espera_ms / 1000
        parar = lost or threading.Event()
        while (
            len(lote) < self.cfg.batch_max
            and time.monotonic() < limite
            and self._running(parar)
            and self._sync_ocupado()
        ):
            # Between looks at the queue, take what arrives for a few milliseconds.
            fatia = min(limite, time.monotonic() + 0.01)
            while len(lote) < self.cfg.batch_max and (resta := fatia - time.monotonic()) > 0:
                brutos: list[tuple[str, bytes]] = []
                if self._pubsub_ler(pubsub, timeout=resta, brutos=brutos):
                    while len(lote) + len(brutos) < self.cfg.batch_max and self._pubsub_ler(pubsub, 0, brutos):
                        pass
                self._tratar(brutos, lote)

    def _sync_ocupado(self) -> bool:
        if time.monotonic() < self._fila_ilegivel_ate:
            return False
        try:
            return self.despachante.sync_em_espera() > 0
        except Exception:  # the broker is having trouble: send now (flush retries it)
            logger.warning("bridge could not read the sync queue's length; not gathering for 5 s", exc_info=True)
            self._fila_ilegivel_ate = time.monotonic() + 5
            return False

    def _pubsub_ler(self, pubsub, timeout: float, brutos: list) -> bool:
        """Read one pub/sub message (waiting up to ``timeout``) into ``brutos``; True if
        anything arrived."""
        try:
            msg = pubsub.get_message(timeout=timeout)
        except redis.RedisError:
            logger.exception("pub/sub connection error; reconnecting")
            time.sleep(0.5)
            return False
        if msg is None or msg["type"] not in ("message", "pmessage"):
            return msg is not None
        # A channel name is bytes from any publisher: one that is not UTF-8 must not lose the batch.
        canal = msg["channel"].decode("utf-8", "replace") if isinstance(msg["channel"], bytes) else msg["channel"]
        brutos.append((canal, msg["data"]))
        return True

    def _tratar(self, brutos: list[tuple[str, bytes]], lote: list[dict]) -> None:
        """Number the messages read together (one INCRBY) and handle them in order."""
        if not brutos:
            return
        primeiro = self._reservar(len(brutos))
        for n, (canal, raw) in enumerate(brutos):
            seq = None if primeiro is None else primeiro + n
            self._safe_handle(canal, raw, "pubsub", lote=lote, seq=seq)

    def _reservar(self, n: int) -> int | None:
        """The first of ``n`` consecutive sequence numbers (the counter API writes share),
        or None if Redis keeps failing (each message then tries on its own). Pub/sub only:
        stream entries are numbered as they are read (``_NUMERAR_LUA``)."""
        try:
            return retry(
                lambda: self._sequencia.reservar(n),
                attempts=5, base_s=0.2, may_wait=self._may_wait, retry_on=(redis.RedisError,),
            )  # fmt: skip
        except redis.RedisError:
            return None

    def flush(self, lote: list[dict]) -> bool:
        """Send what ``handle`` grouped: one task for many envelopes, the single-event task
        for one. Retried for a few seconds; False (logged, counted) if it could not be sent."""
        try:
            return self._flush(lote)
        finally:
            self.stats.espelhar()

    def _flush(self, lote: list[dict]) -> bool:
        if not lote:
            return True
        try:
            retry(lambda: self._enviar(lote), attempts=5, base_s=0.4, may_wait=self._may_wait)
        except Exception:
            self.stats.add("erros")
            logger.exception("bridge failed to enqueue a batch of %d events", len(lote))
            lote.clear()
            return False
        lote.clear()
        return True

    def _enviar(self, lote: list[dict]) -> None:
        if len(lote) == 1:
            self.despachante.enviar(lote[0], headers={"event_id": lote[0]["event_id"]})
        else:
            self.despachante.enviar_lote(lote)

    def _safe_handle(
        self,
        canal: str,
        raw,
        origem: str,
        event_id: str | None = None,
        lote: list | None = None,
        seq: int | None = None,
    ) -> bool:
        """Handle one message; a failure is logged and counted, never fatal to the bridge.

        A pub/sub message cannot be read again, so a Redis hiccup is retried here for a few
        seconds; a stream entry is simply left pending and claimed again later.
        """
        try:
            retry(
                lambda: self.handle(canal, raw, origem, event_id, lote, seq),
                attempts=5 if origem == "pubsub" else 1, base_s=0.4, may_wait=self._may_wait,
                retry_on=(redis.RedisError,),
            )  # fmt: skip
            return True
        except Exception:
            self.stats.add("erros")
            logger.exception("bridge failed to enqueue a message from %s (%s)", canal, origem)
            return False

    # -- stream ------------------------------------------------------------------------
    def _ensure_group(self) -> None:
        """Create the consumer group if it is missing. The first time, from the stream's
        start (entries written before the bridge ever ran are handled). If it existed once
        and is gone (an operator deleted it, Redis lost it), from the stream's end: reading
        from the start again would replay entries already applied, with new sequence
        numbers, over newer data (and re-order CRM carts past their idempotency window).
        Entries written while it was gone must then be replayed by hand: logged loudly."""
        marca = f"{self.cfg.prefix}:bridge:stream_grupo_criado:{self.cfg.stream}:{self.cfg.group}"
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

    def _stream_loop(self, lost: threading.Event) -> None:
        """Until stopped or the lead is lost: claim what dead consumers left, read, enqueue,
        acknowledge. No error ends it (an entry not acknowledged stays pending and is
        claimed again): each is logged and retried after a short pause, the consumer group
        created again if it is missing."""
        grupo_ok = False
        next_claim = 0.0
        while self._running(lost):
            try:
                if not grupo_ok:
                    self._ensure_group()
                    grupo_ok = True
                if time.monotonic() >= next_claim:
                    self._reclaim()
                    self._stream_lag()
                    next_claim = time.monotonic() + self.cfg.lock_ttl_ms / 1000
                if entries := self._ler_stream():
                    self._process_entries(entries)
            except Exception as exc:
                if not grupo_ok:
                    logger.exception("cannot create consumer group %s on %s; retrying", self.cfg.group, self.cfg.stream)
                else:
                    logger.exception("stream intake failed; retrying")
                    grupo_ok = "NOGROUP" not in str(exc)  # stream or group deleted: create it again
                self._pausa(lost, 0.5)

    def _stream_lag(self) -> None:
        """Entries not yet delivered (``lag``) and delivered but unacknowledged (``pending``)."""
        for group in self.client.xinfo_groups(self.cfg.stream):
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.cfg.group:
                self.client.hset(
                    self.cfg.stats_key,
                    mapping={"stream_lag": group.get("lag") or 0, "stream_pendentes": group.get("pending") or 0},
                )

    def _numerar(self, *args) -> list:
        keys = [self.cfg.stream, self._seq_key, self.cfg.stream_seq_key]
        return self._numerar_lua(keys=keys, args=list(args))

    def _ler_stream(self) -> list[tuple]:
        """New entries for this consumer as ``(id, fields, seq)``, numbered as they are
        read; when there are none, wait up to 0.2 s for one and return []."""
        entradas, seqs, ultima = self._numerar("ler", self.cfg.group, self.cfg.consumer, STREAM_LEITURA)
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
                min_idle_time=self.cfg.lock_ttl_ms, start_id=start, count=STREAM_LEITURA,
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
            if self._safe_handle(canal or "?", payload, "stream", event_id=f"s-{eid}", lote=lote, seq=seq):
                feitos.append(entry_id)
            if len(lote) >= self.cfg.batch_max and not self._flush_ack(lote, feitos):
                return
        self._flush_ack(lote, feitos)

    def _flush_ack(self, lote: list[dict], feitos: list) -> bool:
        ok = self.flush(lote)
        if ok and feitos:
            # Acknowledged and their numbers forgotten together (MULTI): an entry still
            # pending always has its number.
            with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(self.cfg.stream, self.cfg.group, *feitos)
                pipe.hdel(self.cfg.stream_seq_key, *feitos)
                pipe.execute()
            feitos.clear()
        return ok

    def snapshot(self) -> dict:
        return {**self.stats.values, "lider": self.leading.is_set(), "lag_ms": self.stats.lag_ms}
