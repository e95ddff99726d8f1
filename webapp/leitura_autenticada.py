"""The hot path of a logged-in shopper and of staff reading the catalogue: four reads
answered without entering Flask.

- ``GET /clientes/me``, ``GET /carrinhos/me``, ``GET /pedidos/<24 hex>`` with a customer
  token, and ``GET /produtos/<24 hex>`` with a staff key; no query string, no ``Origin``
  (CORS stays Flask's), no conditional header.

Through Flask such a read costs two Redis round trips (Flask-Limiter's count, then the
token's deny-list) and Flask-Limiter's per-request resolution: about 1 ms of CPU, three
times the read itself. Here the count and the deny-list read share one pipeline, with a
customer's own profile, cart lines or order from ``adapters.read_cache`` when cached (so a
hit sends no MongoDB command), and the rest is what the view does: the same identity
checks (``JwtTokens.decodificar`` and ``conferir``, ``chaves.autenticar``), the view's own
``@acesso`` policy, the same service call, schema and JSON provider.

Only a success is answered here. Anything else (a bad or revoked credential, a policy
that refuses, a missing record, a breached limit, Redis unreachable, any surprise) is
handed to Flask, uncounted, and Flask answers it as always, counting it itself.
``tests/integration/test_leitura_autenticada.py`` compares both paths byte for byte.
``LEITURA_RAPIDA=false`` turns this off with the anonymous fast path.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from adapters.read_cache import CARRINHO, CLIENTE, PEDIDO, carrinho_dump, carrinho_load
from adapters.store_errors import MONGO_DOWN, REDIS_ERRORS, SCRIPT_PERDIDO
from domain.errors import DomainError
from domain.seguranca import Identidade
from services import carrinhos, chaves, clientes, pedidos, produtos
from webapp.etag import etag_de
from webapp.fastpath import FastPath, RateCounter, finish, regras
from webapp.security import cabecalhos_fixos

logger = logging.getLogger(__name__)

# Conditional requests and CORS are Flask's; so is a HEAD.
PASSA_ADIANTE = ("HTTP_ORIGIN", "HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE")


@dataclass(frozen=True)
class Rota:
    padrao: re.Pattern
    endpoint: str
    staff: bool  # the credential this path serves: a staff key, else a customer token
    ler: Callable  # (middleware, identity, url argument, its cache read) -> (ETag or None, body)
    argumento: str | None = None  # the view's URL argument, for its policy
    cache: str | None = None  # its kind in adapters.read_cache (a customer's own reads)


ROTAS = (
    Rota(re.compile(r"^/clientes/me/?$"), "clientes.ClienteAtual", False,
         lambda m, ident, _, lido: m.cacheado(CLIENTE, ident.id, ident, lido, lambda: m.render(
             "clientes.ClienteAtual", clientes.obter(m.ctx(ident), ident.id), True)), cache=CLIENTE),
    Rota(re.compile(r"^/carrinhos/me/?$"), "carrinhos.MeuCarrinho", False,
         lambda m, ident, _, lido: m.carrinho(ident, lido), cache=CARRINHO),
    Rota(re.compile(r"^/pedidos/([0-9a-f]{24})/?$"), "pedidos.PedidoPorId", False,
         lambda m, ident, pid, lido: m.cacheado(PEDIDO, pid, ident, lido, lambda: m.render(
             "pedidos.PedidoPorId", pedidos.obter(m.ctx(ident), pid, ident.id), False)), "pedido_id", PEDIDO),
    Rota(re.compile(r"^/produtos/([0-9a-f]{24})/?$"), "produtos.ProdutoPorId", True,
         lambda m, ident, pid, raw: m.produto(ident, pid, raw), "produto_id"),
)  # fmt: skip


class Recusa(Exception):
    """This request is Flask's to answer."""


class LeituraAutenticada(FastPath):
    """The four authenticated reads of the module docstring, or Flask."""

    def _preparar(self) -> None:
        # Imported here: the schema modules pull the whole smorest stack in.
        from webapp.carrinhos.schemas import CarrinhoSchema
        from webapp.clientes.schemas import ClienteSchema
        from webapp.pedidos.schemas import PedidoSchema
        from webapp.produtos.schemas import ProdutoSchema

        app = self.flask_app
        self.res = app.extensions["ponte"]
        self.dumps = app.json.dumps
        schemas = (ClienteSchema(), CarrinhoSchema(), PedidoSchema(), ProdutoSchema())
        self.schemas = {rota.endpoint: schema for rota, schema in zip(ROTAS, schemas, strict=True)}
        self.politicas = {rota.endpoint: app.view_functions[rota.endpoint].view_class.get._politica for rota in ROTAS}
        self.rotas = regras(app, *(rota.endpoint for rota in ROTAS))
        self.contador = RateCounter(app, self.limiter)
        self.cabecalhos = cabecalhos_fixos(anonimo=False)
        self.chaves = ChavesVerificadas()
        carregar = self.res.produto_cache.carregar if self.res.produto_cache else None

        @lru_cache(maxsize=2048)
        def render_cache(raw: bytes) -> tuple[str | None, bytes]:
            # A pure function of the cached bytes, as in webapp.leitura_rapida.
            return self.render("produtos.ProdutoPorId", carregar(raw), True)

        @lru_cache(maxsize=2048)
        def render_carrinho(cliente_id: str, raw: bytes, produtos_raw: tuple[bytes, ...]) -> tuple[None, bytes]:
            # A pure function of the cart's cached lines and its products' cache entries.
            carrinho = carrinho_load(cliente_id, raw)
            produtos = {i.produto_id: carregar(p) for i, p in zip(carrinho.itens, produtos_raw, strict=True)}
            return self.render("carrinhos.MeuCarrinho", carrinhos.com_produtos(carrinho, produtos), False)

        self.res.read_cache.load_scripts()  # (Redis down: raises, Flask answers, tried again next time)
        self._render_cache = render_cache
        self._render_carrinho = render_carrinho
        self._pronto = True

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        achado = self._rota(environ)
        if achado is not None:
            try:
                if not self._pronto:
                    self._preparar()
                status, headers, body = self._servir(environ, *achado)
                start_response(status, headers)
                return [body]
            except Recusa:
                pass
            except (*REDIS_ERRORS, *MONGO_DOWN) as exc:  # Flask meets it too, and answers 503
                logger.debug("authenticated fast path without its stores (%s); Flask answers", exc)
            except Exception:  # the fast path must never be the reason a read fails
                logger.exception("authenticated fast path failed; Flask answers")
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def _rota(environ: dict) -> tuple[Rota, str | None, str] | None:
        """The route, its URL argument and the credential, when this path may serve it."""
        if environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING"):
            return None
        if any(h in environ for h in PASSA_ADIANTE):
            return None
        credencial = _credencial(environ)
        if credencial is None:
            return None
        path = environ.get("PATH_INFO", "")
        for rota in ROTAS:
            if (match := rota.padrao.match(path)) and rota.staff == credencial.startswith("ponte_"):
                return rota, (match.group(1) if match.groups() else None), credencial
        return None

    def _servir(self, environ: dict, rota: Rota, arg: str | None, credencial: str) -> tuple[str, list, bytes]:
        inicio = time.perf_counter()
        tokens = self.res.tokens()
        claims = None if rota.staff else _ou_recusa(tokens.decodificar, credencial)
        cliente = self.res.redis.client
        pipe = cliente.pipeline(transaction=False)
        chave = self.contador.contar(pipe, environ, rota.endpoint)
        if chave is False:
            raise Recusa
        if claims is not None:
            pipe.mget(tokens.chaves_revogacao(claims))
            self._ler_cache(pipe, rota, arg or str(claims["sub"]))
        else:  # a staff key: its generation, and the product from the cache if there
            pipe.get(tokens.chave_geracao)
            pipe.get(self.res.produto_cache.chave_produto(arg) if self.res.produto_cache else "-")
        try:
            resultados = pipe.execute()
        except SCRIPT_PERDIDO:  # Redis restarted: counted, so uncount; Flask answers
            if chave:
                cliente.decr(chave)
            self.res.read_cache.load_scripts()
            raise Recusa from None
        if not self.contador.dentro(chave, resultados[0] if chave else None):
            raise Recusa  # Flask counts it too and answers 429 with its Retry-After
        lidos = resultados[2:] if chave else resultados
        try:
            ident = self._identidade(credencial, claims, lidos[0])
            _ou_recusa(self.politicas[rota.endpoint].verificar, ident, {rota.argumento: arg} if rota.argumento else {})
            etag, body = _ou_recusa(rota.ler, self, ident, arg, lidos[1] if len(lidos) > 1 else None)
        except Exception:  # a refusal, or a store that failed: Flask answers and counts it itself
            if chave:
                cliente.decr(chave)
            raise
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if etag:
            headers.append(("ETag", etag))
        return finish(environ, self.rotas[rota.endpoint], inicio, "200 OK", headers + self.cabecalhos, body)

    def _ler_cache(self, pipe, rota: Rota, entity_id: str) -> None:
        """Queue the read itself, if cached (on a miss, the generation to store under); a
        cart with its products' cache entries."""
        leituras, produtos = self.res.read_cache, self.res.produto_cache
        if leituras.ttl_s <= 0:
            return
        if rota.cache == CARRINHO and produtos is not None:
            leituras.carrinho_com_produtos(pipe, entity_id, produtos.chave_produto(""))
        else:
            pipe.mget(leituras.keys(rota.cache, entity_id))

    def ctx(self, ident: Identidade):
        return self.res.contexto(ident.ator)

    def render(self, endpoint: str, entidade, com_etag: bool) -> tuple[str | None, bytes]:
        """The view's body (its schema, the app's JSON provider) and ETag."""
        body = (self.dumps(self.schemas[endpoint].dump(entidade)) + "\n").encode()
        return (etag_de(entidade.versao) if com_etag else None), body

    def cacheado(self, kind: str, entity_id: str, ident: Identidade, lido, ler: Callable) -> tuple[str | None, bytes]:
        """A customer's profile or order: the entry the pipeline read (its owner, ETag and
        body), else ``ler()`` stored under the generation the pipeline saw. Someone else's
        order is Flask's to refuse."""
        raw, geracao = lido or (None, None)
        if raw:
            dono, etag, body = raw.split(b"\n", 2)
            if dono.decode() != ident.id:
                raise Recusa
            return etag.decode() or None, body
        etag, body = ler()
        self.res.read_cache.store(
            kind, entity_id, geracao, b"\n".join([ident.id.encode(), (etag or "").encode(), body])
        )
        return etag, body

    def carrinho(self, ident: Identidade, lido) -> tuple[str | None, bytes]:
        """The cart's lines from the cache entry, else MongoDB; priced at each read (its
        products' own cache), as ``carrinhos.ver``."""
        raw, geracao, *produtos_raw = lido or (None, None)
        ctx = self.ctx(ident)
        if raw:
            carrinho = carrinho_load(ident.id, raw)
            # Every product cached, as ``varios`` would read them: rendered once per version.
            if self.res.produto_cache is not None and len(produtos_raw) == len(carrinho.itens) and all(produtos_raw):
                return self._render_carrinho(ident.id, raw, tuple(produtos_raw))
        else:
            carrinho = carrinhos.obter(ctx, ident.id)
            self.res.read_cache.store(CARRINHO, ident.id, geracao, carrinho_dump(carrinho))
        return self.render("carrinhos.MeuCarrinho", carrinhos.precificado(ctx, carrinho), False)

    def produto(self, ident: Identidade, produto_id: str, cache_raw: bytes | None) -> tuple[str | None, bytes]:
        """From the cache entry read in the pipeline (only visible products are cached, as
        the view's own read would find them), rendered once per entry; else the view's read."""
        if cache_raw:
            return self._render_cache(cache_raw)
        return self.render("produtos.ProdutoPorId", produtos.obter(self.ctx(ident), produto_id), True)

    def _identidade(self, credencial: str, claims: dict | None, lido) -> Identidade:
        """A customer's from the token and its deny-list values; a staff key's from memory
        while the key generation is the one it was verified under, else from MongoDB."""
        if claims is not None:
            return _ou_recusa(self.res.tokens().conferir, claims, lido)
        if lido is None:
            self.res.tokens().nova_geracao()  # this key is checked in MongoDB; the next remembered
        return self.chaves.identidade(credencial, lido, lambda: chaves.autenticar(self.res.chaves_repo(), credencial))


class ChavesVerificadas:
    """Staff keys this process verified against MongoDB, each under the key generation read
    before that check. Revoking a key moves the generation (``chaves.revogar``), so a
    remembered key is checked again at its next use; with no generation in Redis (lost with
    its data, or never set) nothing is remembered. An entry also ages out after ``IDADE_S``."""

    IDADE_S = 300
    MAX = 1024

    def __init__(self) -> None:
        self._lembradas: dict[str, tuple[bytes, float, Identidade]] = {}

    def identidade(self, credencial: str, geracao: bytes | None, verificar: Callable) -> Identidade:
        chave = hashlib.sha256(credencial.encode()).hexdigest()  # the clear key is kept nowhere
        agora = time.monotonic()
        lembrada = self._lembradas.get(chave)
        if geracao is not None and lembrada and lembrada[0] == geracao and agora - lembrada[1] < self.IDADE_S:
            return lembrada[2]
        ident = verificar()
        if ident is None:
            self._lembradas.pop(chave, None)
            raise Recusa
        if geracao is not None:
            if len(self._lembradas) >= self.MAX:
                self._lembradas.clear()
            self._lembradas[chave] = (geracao, agora, ident)
        return ident


def _credencial(environ: dict) -> str | None:
    """``webapp.security._credencial`` on the WSGI environ; None where Flask would refuse."""
    auth = environ.get("HTTP_AUTHORIZATION")
    if auth is not None:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    key = environ.get("HTTP_X_API_KEY")
    return key.strip() or None if key is not None else None


def _ou_recusa(fn: Callable, *args):
    """``fn(*args)``; a domain refusal (401, 403, 404...) becomes Flask's to answer."""
    try:
        return fn(*args)
    except DomainError:
        raise Recusa from None
