"""Abuse limits with Flask-Limiter on Redis: a default per-client limit and a stricter
one on log-in. A breach is a JSON 429 with ``Retry-After``.

Limits are keyed by the client's address (after ``ProxyFix`` when behind proxies) and
checked before authentication, so guessing keys or tokens is throttled too. If Redis
is unreachable the limiter falls back to per-process memory rather than failing requests.
"""

from __future__ import annotations

import math
import time

from flask import Flask
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from adapters.redis_client import limiter_storage, tls_options
from webapp.errors import error_body


def prefixo(cfg) -> str:
    """The prefix of every limit key (also used by ``webapp.leitura_rapida``, which
    counts its answers on the very same keys)."""
    return f"{cfg['REDIS_PREFIX']}:rl"


def init_app(app: Flask, *, login_blueprint, exempt_blueprints) -> Limiter:
    cfg = app.config
    storage_uri, storage_options = limiter_storage(cfg["REDIS_URL"], cfg["REDIS_SENTINEL_MASTER"])
    storage_options = {**storage_options, **tls_options(cfg)}  # limits hands them to redis-py
    limiter = Limiter(
        key_func=get_remote_address,
        default_limits=[cfg["RATELIMIT_DEFAULT"]],
        storage_uri=storage_uri,
        storage_options=storage_options,
        key_prefix=prefixo(cfg),
        # Flask-Limiter's own headers would put Retry-After on every response (and
        # overwrite a 503's); Ponte sets it on 429 only, below.
        headers_enabled=False,
        enabled=cfg["RATELIMIT_ENABLED"],
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        strategy="fixed-window",
    )
    limiter.limit(cfg["RATELIMIT_LOGIN"])(login_blueprint)
    for blp in exempt_blueprints:
        limiter.exempt(blp)
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        limite = limiter.current_limit
        retry = max(1, math.ceil(limite.reset_at - time.time())) if limite else 60
        return error_body(429, f"Limite de requisições excedido ({exc.description})."), 429, {"Retry-After": str(retry)}

    return limiter
