"""The order of everything Ponte receives, on one scale: the Redis server's clock in µs.

Pub/sub messages and API writes take the next number of a hybrid logical clock (one Redis
counter shared by the bridge and the API): the server's time in microseconds, or the last
number plus one when that is larger. While Redis keeps its data it is a plain increasing
counter; when Redis loses it (a restart without persistence, FLUSHALL, a fail-over to an
empty replica) it starts again from the clock, above every number handed out before,
instead of from 1, below every ``sync_seq`` stored in MongoDB.

A stream entry needs no counter: its id is the server's time when XADD took it, and that
time is its number (``seq_da_entrada``), the same however often it is read or sent again.
Numbers fit in 53 bits (Lua's doubles, BSON's int64) until the year 2255.
"""

from __future__ import annotations

import re

import redis

# Defines reservar(key, n): the first of n consecutive numbers, in one atomic step.
_RESERVAR_LUA = """
local function reservar(chave, n)
  local t = redis.call('TIME')
  local agora = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local ultimo = tonumber(redis.call('GET', chave) or '0')
  local primeiro = math.max(agora, ultimo + 1)
  redis.call('SET', chave, string.format('%.0f', primeiro + n - 1))
  return primeiro
end
"""

_PROXIMOS_LUA = _RESERVAR_LUA + "return reservar(KEYS[1], tonumber(ARGV[1]))\n"


def chave_sequencia(prefix: str) -> str:
    return f"{prefix}:bridge:seq"


class RedisSequencia:
    """Callable returning the next number (atomic across every process: one Lua script)."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._key = chave_sequencia(prefix)
        self._script = client.register_script(_PROXIMOS_LUA)

    def __call__(self) -> int:
        return self.reservar(1)

    def reservar(self, n: int) -> int:
        """The first of ``n`` consecutive numbers, all of them this caller's."""
        return int(self._script(keys=[self._key], args=[n]))


# A stream entry id: the Redis server's time in ms when XADD accepted it, and its rank in that ms.
_ENTRY_ID = re.compile(r"(\d{1,15})-(\d{1,19})")


def seq_da_entrada(entry_id: str) -> int | None:
    """A stream entry's number: the time its id carries, on the clock's scale (µs), so the
    same entry always gets the same number: read again, claimed from a dead bridge, or sent
    again by the CRM after Redis lost it (``reenvio_de``). None if it is not an entry id.
    Entries beyond the 999th of one millisecond share that millisecond's last number."""
    m = _ENTRY_ID.fullmatch(entry_id)
    if m is None:
        return None
    return int(m.group(1)) * 1000 + min(int(m.group(2)), 999)
