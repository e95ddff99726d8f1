"""Product read cache in Redis (cache-aside), safe against racing writers.

Reads: ``MGET`` of the cached product and its *generation* counter in one round trip.
On a miss the caller reads MongoDB and stores the product **only if the generation is
still the one it saw before reading** (a Lua compare-and-set). Writers, after their
MongoDB write, ``INCR`` the generation and delete the entry. So a reader that fetched
the old document before a write can never put it back after the write's invalidation,
and a read that starts after a write returns has to see the new value.

Every path that changes a product goes through this: API writes
(``MongoProdutoRepository``), CRM sync (``MongoProdutoSync``), checkout stock
reservations and releases (``MongoEstoque``). Entries also expire after a TTL, the
safety net for a write made by a process without the cache.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import datetime

import redis
import simplejson

from domain.produtos import Produto

logger = logging.getLogger(__name__)

_SET_IF_GENERATION = """
local current = redis.call('GET', KEYS[2])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
    return 1
end
return 0
"""
_DATES = ("criado_em", "atualizado_em")
_NAMES = frozenset(f.name for f in fields(Produto))


def _dump(produto: Produto) -> str:
    data = asdict(produto)
    for key in _DATES:
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return simplejson.dumps(data, use_decimal=True)


def _load(raw: bytes) -> Produto:
    data = simplejson.loads(raw, use_decimal=True)
    for key in _DATES:
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    return Produto(**{k: v for k, v in data.items() if k in _NAMES})


class ProdutoCache:
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int):
        self.client, self.prefix, self.ttl_s = client, prefix, ttl_s
        self._set = client.register_script(_SET_IF_GENERATION)

    def _keys(self, produto_id: str) -> tuple[str, str]:
        base = f"{self.prefix}:cache:produto:{produto_id}"
        return base, base + ":gen"

    def ler(self, produto_id: str) -> tuple[Produto | None, str]:
        """The cached product (or None) and the generation to store a fresh one under."""
        try:
            raw, gen = self.client.mget(self._keys(produto_id))
        except redis.RedisError as exc:  # the cache is an optimisation: MongoDB answers
            logger.warning("product cache unavailable: %s", exc)
            return None, "?"
        gen = gen.decode() if gen else ""
        return (_load(raw) if raw else None), gen

    def guardar(self, produto: Produto, gen: str) -> None:
        if gen == "?":
            return
        try:
            self._set(keys=self._keys(produto.id), args=[gen, _dump(produto), self.ttl_s])
        except redis.RedisError as exc:
            logger.warning("product not cached: %s", exc)

    def invalidar(self, *produto_ids: str | None) -> None:
        ids = [i for i in produto_ids if i]
        if not ids:
            return
        # Generation keys outlive entries, so a racing reader's stale write stays refused.
        with self.client.pipeline(transaction=False) as pipe:
            for produto_id in ids:
                entry, gen = self._keys(produto_id)
                pipe.incr(gen)
                pipe.expire(gen, self.ttl_s * 10)
                pipe.delete(entry)
            pipe.execute()
