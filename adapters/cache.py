"""Product read cache in Redis (cache-aside), safe against racing writers.

Reads: ``MGET`` of the cached product and its *generation* counter in one round trip.
On a miss the caller reads MongoDB and stores the product **only if the generation is
still the one it saw before reading** (a Lua compare-and-set). Writers, after their
MongoDB write, ``INCR`` the generation and delete the entry. So a reader that fetched
the old document before a write can never put it back after the write's invalidation,
and a read that starts after a write returns has to see the new value.

Product *lists* (a page of a filtered listing and its total) are cached under the
catalogue's generation, a counter every product write increments: a write makes every
cached page unreachable at once, and a page read before a write can only be stored
under the generation it was read at, which nobody asks for any more.

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

# Store KEYS[1] = ARGV[2] for ARGV[3] s only if the generation KEYS[2] is still ARGV[1] ('' for none).
SET_IF_GENERATION = """
local current = redis.call('GET', KEYS[2])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
    return 1
end
return 0
"""
_GET_PAGE = """
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ':' .. ARGV[2])}
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
    return _from_dict(simplejson.loads(raw, use_decimal=True))


def _from_dict(data: dict) -> Produto:
    for key in _DATES:
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    return Produto(**{k: v for k, v in data.items() if k in _NAMES})


class ProdutoCache:
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int):
        self.client, self.prefix, self.ttl_s = client, prefix, ttl_s
        self._set = client.register_script(SET_IF_GENERATION)
        self._get_page = client.register_script(_GET_PAGE)
        self._catalogo = f"{prefix}:cache:catalogo:gen"

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

    def ler_varios(self, produto_ids: list[str]) -> dict[str, tuple[Produto | None, str]]:
        """``ler`` of several products in one ``MGET`` (a cart, a checkout)."""
        chaves = [k for pid in produto_ids for k in self._keys(pid)]
        try:
            valores = self.client.mget(chaves) if chaves else []
        except redis.RedisError as exc:
            logger.warning("product cache unavailable: %s", exc)
            return dict.fromkeys(produto_ids, (None, "?"))
        lidos = {}
        for i, pid in enumerate(produto_ids):
            raw, gen = valores[2 * i], valores[2 * i + 1]
            lidos[pid] = ((_load(raw) if raw else None), gen.decode() if gen else "")
        return lidos

    def chave_produto(self, produto_id: str) -> str:
        """The Redis key of a cached product (``webapp.leitura_rapida`` reads it in a
        pipeline of its own; it never stores)."""
        return self._keys(produto_id)[0]

    @staticmethod
    def carregar(raw: bytes) -> Produto:
        return _load(raw)

    def guardar(self, produto: Produto, gen: str) -> None:
        if gen == "?":
            return
        try:
            self._set(keys=self._keys(produto.id), args=[gen, _dump(produto), self.ttl_s])
        except redis.RedisError as exc:
            logger.warning("product not cached: %s", exc)

    # -- pages of listings ------------------------------------------------------------
    def ler_pagina(self, chave: str) -> tuple[tuple[list[Produto], int] | None, str]:
        """A cached page (products, total) for ``chave`` and the catalogue generation."""
        try:
            gen, raw = self._get_page(keys=[self._catalogo], args=[f"{self.prefix}:cache:lista:", chave])
        except redis.RedisError as exc:
            logger.warning("product cache unavailable: %s", exc)
            return None, "?"
        gen = gen.decode() if isinstance(gen, bytes) else str(gen)
        if not raw:
            return None, gen
        data = simplejson.loads(raw, use_decimal=True)
        return ([_from_dict(item) for item in data["itens"]], data["total"]), gen

    def guardar_pagina(self, chave: str, gen: str, itens: list[Produto], total: int) -> None:
        if gen == "?":
            return
        body = "[" + ",".join(_dump(p) for p in itens) + "]"
        try:
            self.client.set(
                f"{self.prefix}:cache:lista:{gen}:{chave}", f'{{"itens":{body},"total":{total}}}', ex=self.ttl_s
            )
        except redis.RedisError as exc:
            logger.warning("page not cached: %s", exc)

    # -- whole answers to anonymous listings (webapp.leitura_rapida) -------------------
    def ler_resposta(self, chave: str, pipe) -> None:
        """Queue ``[gen, answer or None]`` for ``chave`` on ``pipe``, as a plain ``EVALSHA``:
        redis-py's script objects add a ``SCRIPT EXISTS`` round trip to every pipeline (a
        restarted Redis answers ``NoScriptError``; ``carregar_scripts`` loads it again)."""
        pipe.evalsha(self._get_page.sha, 1, self._catalogo, f"{self.prefix}:cache:resposta:", chave)

    def carregar_scripts(self) -> None:
        self._get_page.sha = self.client.script_load(_GET_PAGE)

    def guardar_resposta(self, chave: str, gen: str, raw: bytes) -> None:
        """Store an answer read at generation ``gen``: after any product write it is
        unreachable (readers ask for the new generation), so a stale one is never served."""
        self.client.set(f"{self.prefix}:cache:resposta:{gen}:{chave}", raw, ex=self.ttl_s)

    # -- writers --------------------------------------------------------------------------
    def invalidar(self, *produto_ids: str | None) -> None:
        ids = [i for i in produto_ids if i]
        if not ids:
            return
        # Generation keys outlive entries, so a racing reader's stale write stays refused.
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(self._catalogo)
            for produto_id in ids:
                entry, gen = self._keys(produto_id)
                pipe.incr(gen)
                pipe.expire(gen, self.ttl_s * 10)
                pipe.delete(entry)
            pipe.execute()


class IdsCompartilhados:
    """CRM id -> product id, shared by every sync worker process in Redis.

    A process that meets a product for the first time would otherwise read it from
    MongoDB (a batch reads all its unknown products with one ``$in``) even when another
    process already has. A product's CRM id never moves to another document while the
    database lives; when it does (a database restored under running workers) the sync's
    read-back finds out and calls ``esquecer``. Entries expire after ``ttl_s`` (the map
    holds the products the CRM changed lately, not the whole catalogue). Redis being
    unavailable only costs the MongoDB read.
    """

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int = 24 * 3600):
        self.client, self.prefix, self.ttl_s = client, prefix, ttl_s

    def _key(self, java_id: int) -> str:
        return f"{self.prefix}:sync:produto_id:{java_id}"

    def buscar(self, java_ids: list[int]) -> dict[int, str]:
        if not java_ids:
            return {}
        try:
            valores = self.client.mget([self._key(j) for j in java_ids])
        except redis.RedisError as exc:
            logger.warning("shared product ids unavailable: %s", exc)
            return {}
        return {j: v.decode() for j, v in zip(java_ids, valores, strict=True) if v}

    def gravar(self, ids: dict[int, str]) -> None:
        if not ids:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for java_id, doc_id in ids.items():
                    pipe.set(self._key(java_id), doc_id, ex=self.ttl_s)
                pipe.execute()
        except redis.RedisError as exc:
            logger.warning("shared product ids not stored: %s", exc)

    def esquecer(self, java_id: int) -> None:
        try:
            self.client.delete(self._key(java_id))
        except redis.RedisError as exc:
            logger.warning("shared product id not forgotten: %s", exc)
