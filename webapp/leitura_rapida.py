"""The hot path of the catalogue: anonymous product reads served from Redis without
entering Flask.

Product pages and listings are the bulk of a shop's traffic. A cached answer costs one
Redis round trip to find; Flask's request machinery (context, hooks, limiter
resolution, smorest's response wrapper) costs several times that. This WSGI middleware
answers a request only when the answer is certain to be the one Flask would give:

- ``GET /produtos/<24 hex>`` (no query string) or ``GET /produtos?<query>``, with no
  credential header (``Authorization``, ``X-API-Key``, not even an empty one) and no
  ``Origin`` (CORS stays Flask's);
- a product: its entry is in the product cache (``adapters.cache``: the same entries
  and invalidation as the Flask path; only visible products are cached, hiding one
  invalidates it), rendered with the same schema, JSON provider and ETag rule;
- a listing: Flask's own answer to the very same query string, stored whole under the
  catalogue generation read *before* Flask read MongoDB. Every product write bumps that
  generation, so an answer computed before a write is never served after it;
- the client is within its rate limit, counted on the same Flask-Limiter key (address,
  endpoint) with the same limit as the Flask view: the budget is shared.

Everything else (a miss, a breached limit, Redis unreachable, any surprise) goes to
Flask unchanged, which answers, counts and caches as usual.
``tests/integration/test_leitura_rapida.py`` compares both paths byte for byte.
``LEITURA_RAPIDA=false`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache

import redis
from werkzeug.http import is_resource_modified

from webapp.etag import etag_de
from webapp.fastpath import FastPath, RateCounter, finish, regras
from webapp.security import cabecalhos_fixos

logger = logging.getLogger(__name__)

PRODUTO = re.compile(r"^/produtos/([0-9a-f]{24})/?$")
LISTA = re.compile(r"^/produtos/?$")
ENDPOINT_PRODUTO = "produtos.ProdutoPorId"
ENDPOINT_LISTA = "produtos.Produtos"
# Requests carrying any of these, even empty, are not anonymous or need CORS: Flask decides
# (an empty X-API-Key is a 401 there, not an anonymous read).
PASSA_ADIANTE = ("HTTP_AUTHORIZATION", "HTTP_X_API_KEY", "HTTP_ORIGIN")
# Per request, never replayed from a stored answer.
PROPRIOS = frozenset({"x-request-id", "date", "content-length", "set-cookie", "strict-transport-security"})
MAX_QUERY = 512  # longer query strings are not worth a cache key: Flask answers


class LeituraRapida(FastPath):
    """Anonymous product and listing reads from Redis, or Flask."""

    def _preparar(self) -> None:
        # Imported here: the schema module pulls the whole smorest stack in.
        from webapp.produtos.schemas import ProdutoSchema

        app = self.flask_app
        self.cache = app.extensions["ponte"].produto_cache
        if self.cache is not None:
            self.cache.carregar_scripts()  # (Redis down: raises, Flask answers, tried again next time)
        schema, dumps, carregar = ProdutoSchema(), app.json.dumps, self.cache.carregar if self.cache else None

        @lru_cache(maxsize=2048)
        def renderizar(raw: bytes) -> tuple[str, bytes]:
            # A pure function of the cached bytes: the same entry always renders the same.
            produto = carregar(raw)
            return etag_de(produto.versao), (dumps(schema.dump(produto)) + "\n").encode()

        self.renderizar = renderizar
        self.contador = RateCounter(app, self.limiter)
        self.rotas = regras(app, ENDPOINT_PRODUTO, ENDPOINT_LISTA)
        self.cabecalhos = cabecalhos_fixos(anonimo=True)
        self._pronto = True

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or any(h in environ for h in PASSA_ADIANTE):
            return self.wsgi_app(environ, start_response)
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        try:
            if not self._pronto:
                self._preparar()
            if self.cache is not None:
                if not query and (match := PRODUTO.match(path)):
                    resposta = self._produto(environ, match.group(1))
                elif LISTA.match(path) and len(query) <= MAX_QUERY:
                    return self._lista(environ, start_response, query)
                else:
                    resposta = None
                if resposta is not None:
                    start_response(resposta[0], resposta[1])
                    return [resposta[2]]
        except redis.exceptions.NoScriptError:
            self.cache.carregar_scripts()  # Redis restarted or was flushed; this one goes to Flask
        except redis.RedisError as exc:
            logger.debug("fast read path without Redis (%s); Flask answers", exc)
        except Exception:  # the fast path must never be the reason a read fails
            logger.exception("fast read path failed; Flask answers")
        return self.wsgi_app(environ, start_response)

    # -- the two routes ----------------------------------------------------------------
    def _produto(self, environ: dict, produto_id: str) -> tuple[str, list, bytes] | None:
        inicio = time.perf_counter()
        ler = lambda pipe: pipe.get(self.cache.chave_produto(produto_id))  # noqa: E731
        lido = self._ler_contando(environ, ENDPOINT_PRODUTO, ler, lambda raw: raw is not None)
        if lido is None or not lido[1]:
            return None
        raw = lido[0]
        etag, body = self.renderizar(raw)
        headers = [("ETag", etag), *self.cabecalhos]
        if not is_resource_modified(environ, etag=etag.strip('"')):
            return self._fim(environ, ENDPOINT_PRODUTO, inicio, "304 NOT MODIFIED", headers, b"")
        headers[:0] = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        return self._fim(environ, ENDPOINT_PRODUTO, inicio, "200 OK", headers, body)

    def _lista(self, environ: dict, start_response: Callable, query: str) -> Iterable[bytes]:
        inicio = time.perf_counter()
        chave = hashlib.sha256(query.encode("latin-1")).hexdigest()
        ler = lambda pipe: self.cache.ler_resposta(chave, pipe)  # noqa: E731
        lido = self._ler_contando(environ, ENDPOINT_LISTA, ler, lambda lido: lido[1] is not None)
        if lido is None:
            return self.wsgi_app(environ, start_response)
        (gen, raw), servir = lido
        gen = gen.decode() if isinstance(gen, bytes) else str(gen)
        if servir:
            linha, body = raw.split(b"\n", 1)
            headers = [tuple(h) for h in json.loads(linha)] + [("Content-Length", str(len(body)))]
            status, headers, body = self._fim(environ, ENDPOINT_LISTA, inicio, "200 OK", headers, body)
            start_response(status, headers)
            return [body]
        return self._flask_e_guardar(environ, start_response, chave, gen)

    def _flask_e_guardar(self, environ: dict, start_response: Callable, chave: str, gen: str) -> Iterable[bytes]:
        """Flask answers; a 200 is kept under the generation read before it ran."""
        visto: dict = {}

        def capturar(status, headers, exc_info=None):
            visto["status"], visto["headers"] = status, headers
            return start_response(status, headers, exc_info)

        resultado = self.wsgi_app(environ, capturar)
        if not visto.get("status", "").startswith("200 "):
            return resultado
        try:
            body = b"".join(resultado)
        finally:
            if hasattr(resultado, "close"):
                resultado.close()
        guardar = [[k, v] for k, v in visto["headers"] if k.lower() not in PROPRIOS]
        try:
            self.cache.guardar_resposta(chave, gen, json.dumps(guardar).encode() + b"\n" + body)
        except redis.RedisError as exc:
            logger.debug("listing not cached: %s", exc)
        return [body]

    # -- shared ------------------------------------------------------------------------
    def _ler_contando(self, environ: dict, endpoint: str, ler: Callable, achou: Callable) -> tuple | None:
        """Run ``ler(pipeline)`` (the cache read) and, in the same round trip, count this
        request on the Flask view's own limit key, the way Flask-Limiter's fixed-window
        strategy does. Returns the read's result and
        whether to serve it: not on a miss (``achou`` false), nor over the limit (Flask
        then gives its 429 and Retry-After). None when the limiter is not counting in
        Redis with that strategy (its in-memory fallback while Redis is down): then
        only Flask can count, so Flask answers."""
        pipe = self.cache.client.pipeline(transaction=False)
        ler(pipe)
        chave = self.contador.contar(pipe, environ, endpoint)
        if chave is False:
            return None
        resultados = pipe.execute()
        lido = resultados[0]
        if not achou(lido):
            if chave:
                self.cache.client.decr(chave)  # Flask answers and counts this request itself
            return lido, False
        return lido, self.contador.dentro(chave, resultados[1] if chave else None)

    def _fim(self, environ, endpoint, inicio, status, headers, body) -> tuple[str, list, bytes]:
        return finish(environ, self.rotas[endpoint], inicio, status, headers, body)
