"""The order of everything Ponte receives: one Redis counter shared by the bridge and the API.

The counter is a hybrid logical clock: the next number is the Redis server's time in
microseconds, or the last number plus one when that is larger. While Redis keeps its data
it is a plain increasing counter (one number per event, in the order the bridge received
them); when Redis loses the counter (a restart without persistence, FLUSHALL, a fail-over
to an empty replica) it starts again from the clock, above every number handed out before,
instead of from 1, below every ``sync_seq`` stored in MongoDB. Numbers fit in 53 bits (Lua's
doubles, BSON's int64) until the year 2255.
"""

from __future__ import annotations

import redis

# Defines reservar(key, n): the first of n consecutive numbers. Shared by the bridge's stream
# script, which numbers the entries it reads in the same atomic step.
RESERVAR_LUA = """
local function reservar(chave, n)
  local t = redis.call('TIME')
  local agora = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local ultimo = tonumber(redis.call('GET', chave) or '0')
  local primeiro = math.max(agora, ultimo + 1)
  redis.call('SET', chave, string.format('%.0f', primeiro + n - 1))
  return primeiro
end
"""

_PROXIMOS_LUA = RESERVAR_LUA + "return reservar(KEYS[1], tonumber(ARGV[1]))\n"


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
