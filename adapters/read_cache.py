"""A customer's own reads in Redis: profile, cart and order, safe against racing writers.

Only ``webapp.leitura_autenticada`` reads and stores entries, in the Redis pipeline it
already sends for the rate count and the token's deny-list, so a hit costs no round trip
of its own and no MongoDB command. Every other read (Flask's views, the services' own
checks) goes to MongoDB as before.

The scheme is ``adapters.cache``'s: an entry is stored only if its *generation* is still
the one the reader saw before reading MongoDB (a Lua compare-and-set), and every writer,
after its MongoDB write, increments the generation and deletes the entry. Writers are the
repositories (``MongoClienteRepository``, ``MongoClienteSync``, ``MongoCarrinhoRepository``,
``MongoPedidoRepository``), so the API, the workers and the CRM's events all invalidate,
whatever ``LEITURA_CACHE_TTL_S`` says (0 turns storing off, never invalidation). Entries
expire after that TTL: the safety net for an invalidation lost to a Redis failure.
Generation counters expire after a day, long after any read that saw them ended.
"""

from __future__ import annotations

import logging
from datetime import datetime

import redis
import simplejson

from adapters.cache import SET_IF_GENERATION
from domain.carrinhos import Carrinho, ItemCarrinho

logger = logging.getLogger(__name__)

CLIENTE, CARRINHO, PEDIDO = "cliente", "carrinho", "pedido"
GERACAO_TTL_S = 86_400

# A cart's entry, its generation, then the product cache's entry of each of its lines: what
# rendering it takes, in the fast path's one round trip. The product keys are not declared:
# right on one Redis (or a Sentinel-managed master, docs/operations.md), not on a Cluster.
_CARRINHO = """
local carrinho = redis.call('GET', KEYS[1])
local out = {carrinho, redis.call('GET', KEYS[2])}
if carrinho then
    for _, item in ipairs(cjson.decode(carrinho)['itens']) do
        out[#out + 1] = redis.call('GET', ARGV[1] .. item[1])
    end
end
return out
"""


class ReadCache:
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int):
        self.client, self.prefix, self.ttl_s = client, prefix, ttl_s
        self._set = client.register_script(SET_IF_GENERATION)
        self._carrinho_sha: str | None = None

    def load_scripts(self) -> None:
        """Load the cart's read script (again after a Redis restart: ``NoScriptError``)."""
        self._carrinho_sha = self.client.script_load(_CARRINHO)

    def carrinho_com_produtos(self, pipe, cliente_id: str, produto_prefixo: str) -> None:
        """Queue on ``pipe``, as a plain ``EVALSHA`` (a script object would add a round trip),
        ``[entry, generation, product entry per line...]`` of this customer's cart."""
        if self._carrinho_sha is None:
            self.load_scripts()
        pipe.evalsha(self._carrinho_sha, 2, *self.keys(CARRINHO, cliente_id), produto_prefixo)

    def keys(self, kind: str, entity_id: str) -> tuple[str, str]:
        """The entry's key and its generation's, to ``MGET`` together."""
        base = f"{self.prefix}:cache:{kind}:{entity_id}"
        return base, base + ":gen"

    def store(self, kind: str, entity_id: str, generation: bytes | None, value: bytes) -> None:
        """Keep ``value`` unless a writer moved the generation read before MongoDB was."""
        if self.ttl_s <= 0:
            return
        gen = generation.decode() if generation else ""
        try:
            self._set(keys=self.keys(kind, entity_id), args=[gen, value, self.ttl_s])
        except redis.RedisError as exc:  # an optimisation: the next read tries again
            logger.warning("read not cached: %s", exc)

    def invalidate(self, kind: str, *entity_ids: str) -> None:
        """After a MongoDB write of these entities: no reader may store what it read before."""
        if not entity_ids:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for entity_id in entity_ids:
                    entry, gen = self.keys(kind, entity_id)
                    pipe.incr(gen)
                    pipe.expire(gen, GERACAO_TTL_S)
                    pipe.delete(entry)
                pipe.execute()
        except redis.RedisError as exc:
            # The write stands; a stale entry lives at most the TTL (the module docstring).
            logger.warning("read cache not invalidated for %s %s: %s", kind, ",".join(entity_ids), exc)


def carrinho_dump(carrinho: Carrinho) -> bytes:
    """A cart's lines (no prices: those are read from the product cache at each read)."""
    return simplejson.dumps(
        {
            "itens": [[i.produto_id, i.quantidade] for i in carrinho.itens],
            "em": carrinho.atualizado_em.isoformat() if carrinho.atualizado_em else None,
        }
    ).encode()


def carrinho_load(cliente_id: str, raw: bytes) -> Carrinho:
    data = simplejson.loads(raw)
    itens = [ItemCarrinho(produto_id, quantidade) for produto_id, quantidade in data["itens"]]
    return Carrinho(cliente_id, itens, datetime.fromisoformat(data["em"]) if data["em"] else None)
