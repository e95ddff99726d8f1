"""What the WSGI fast paths (``leitura_rapida``, ``leitura_autenticada``) share with Flask:
the rate-limit count on Flask-Limiter's own keys, and the per-request headers and metrics.

A fast answer must be indistinguishable from Flask's, budget included: it counts on the
very key Flask-Limiter would count on, with the same limit, in the same Redis round trip
as the fast path's own reads.
"""

from __future__ import annotations

import time
import uuid

from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from adapters import metrics
from webapp.limits import prefixo
from webapp.observability import REQUEST_ID
from webapp.security import HSTS


class FastPath:
    """A WSGI middleware in front of the Flask app (inside ``ProxyFix``). Its handles on
    Redis, MongoDB and the limiter are taken at the first request (``_preparar``), after
    gunicorn forks."""

    def __init__(self, wsgi_app, flask_app, limiter) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.limiter = limiter
        self._pronto = False


class RateCounter:
    """Flask-Limiter's fixed-window count of one request, added to a pipeline."""

    def __init__(self, flask_app, limiter) -> None:
        cfg = flask_app.config
        self.limiter = limiter
        self.limite = parse(cfg["RATELIMIT_DEFAULT"]) if cfg["RATELIMIT_ENABLED"] else None
        self.prefixo = prefixo(cfg)

    def contar(self, pipe, environ: dict, endpoint: str) -> str | bool | None:
        """Queue the count of this request; the key counted, None when limits are off, or
        False when the limiter is not counting in Redis with that strategy (its in-memory
        fallback while Redis is down): then only Flask can count, so Flask answers."""
        if self.limite is None:
            return None
        estrategia = self.limiter.limiter
        storage = estrategia.storage
        if not (isinstance(estrategia, FixedWindowRateLimiter) and isinstance(storage, RedisStorage)):
            return False
        # flask_limiter.util.get_remote_address: request.remote_addr or "127.0.0.1".
        endereco = environ.get("REMOTE_ADDR") or "127.0.0.1"
        chave = storage.prefixed_key(self.limite.key_for(self.prefixo, endereco, endpoint))
        # What limits' incr_expire.lua does, as two plain commands: an expiry set only by
        # the window's first hit (EXPIRE NX, Redis >= 7).
        pipe.incrby(chave, 1)
        pipe.expire(chave, self.limite.get_expiry(), nx=True)
        return chave

    def dentro(self, chave: str | None, contagem) -> bool:
        """Whether the request counted under ``chave`` is within the limit (Flask gives
        the 429 and its Retry-After otherwise)."""
        return chave is None or int(contagem) <= self.limite.amount


def finish(environ: dict, rota: str, inicio: float, status: str, headers: list, body: bytes):
    """The per-request headers Flask's hooks would add, and the request's metrics."""
    dado = environ.get("HTTP_X_REQUEST_ID", "")
    headers.append(("X-Request-ID", dado if REQUEST_ID.match(dado) else uuid.uuid4().hex))
    if environ.get("wsgi.url_scheme") == "https":
        headers.append(("Strict-Transport-Security", HSTS))
    metrics.http_requests().labels("GET", rota, status[:3]).inc()
    metrics.http_latency().labels("GET", rota).observe(time.perf_counter() - inicio)
    return status, headers, body


def regras(flask_app, *endpoints: str) -> dict[str, str]:
    """The URL rule (the metrics' route label) of each endpoint."""
    rotas = {r.endpoint: r.rule for r in flask_app.url_map.iter_rules()}
    return {e: rotas[e] for e in endpoints}
