"""Redis access: one connection pool per process, created after fork; plain or Sentinel.

``REDIS_URL`` is either a plain ``redis://`` (or ``rediss://``) URL or, for Redis behind
Sentinel, Celery's own notation, so that the broker and every other client read the
same setting::

    sentinel://:password@s1:26379/0;sentinel://:password@s2:26379/0;sentinel://...

with ``REDIS_SENTINEL_MASTER`` naming the monitored master. The password is the
master's (``sentinel_kwargs`` get it too, as Sentinel deployments usually share it).
No home-made failover: redis-py's ``Sentinel`` and Kombu's sentinel transport find the
current master and follow a failover.

A ``rediss://`` URL is Redis over TLS: every client (redis-py, the Celery broker, the rate
limiter) verifies the server's certificate and host name, against ``REDIS_TLS_CA_FILE``
or the system's CAs, and presents ``REDIS_TLS_CERTFILE`` when one is set. Kombu on its own
would connect to a ``rediss://`` broker without verifying anything (``CERT_NONE``), hence
``celery_broker_ssl``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from adapters.per_process import PerProcess

SENTINEL_SCHEME = "sentinel://"
TLS_SCHEME = "rediss://"
# Ponte's settings and the redis-py argument each one becomes.
TLS_FILES = {
    "REDIS_TLS_CA_FILE": "ssl_ca_certs",
    "REDIS_TLS_CERTFILE": "ssl_certfile",
    "REDIS_TLS_KEYFILE": "ssl_keyfile",
}


def is_sentinel(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME)


def parse_sentinel(url: str) -> tuple[list[tuple[str, int]], str | None, int]:
    """``(hosts, password, db)`` of a ``sentinel://...;sentinel://...`` URL."""
    hosts, password, db = [], None, 0
    for part in filter(None, (item.strip() for item in url.split(";"))):
        if not is_sentinel(part):
            raise ValueError(f"every item of a Sentinel REDIS_URL starts with sentinel://: {part!r}")
        u = urlsplit(part)
        hosts.append((u.hostname or "127.0.0.1", u.port or 26379))
        password = unquote(u.password) if u.password else password
        if u.path.strip("/"):
            db = int(u.path.strip("/"))
    if not hosts:
        raise ValueError("a Sentinel REDIS_URL names at least one sentinel")
    return hosts, password, db


def redis_from_url(url: str, master: str = "mymaster", **kwargs) -> redis.Redis:
    """A client for ``url``: the current master when ``url`` names sentinels."""
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **kwargs)
    hosts, password, db = parse_sentinel(url)
    timeouts = {k: kwargs[k] for k in ("socket_timeout", "socket_connect_timeout") if k in kwargs}
    sentinel = Sentinel(hosts, sentinel_kwargs={"password": password, **timeouts}, password=password, db=db)
    return sentinel.master_for(master, **kwargs)


def tls_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """redis-py's TLS arguments for the settings' ``REDIS_URL`` (none unless ``rediss://``)."""
    if not str(cfg["REDIS_URL"]).startswith(TLS_SCHEME):
        return {}
    options: dict[str, Any] = {"ssl_cert_reqs": "required", "ssl_check_hostname": True}
    options.update({arg: cfg[key] for key, arg in TLS_FILES.items() if cfg.get(key)})
    return options


def redis_from_settings(cfg: Mapping[str, Any], **kwargs) -> redis.Redis:
    """A client for the settings' Redis: ``REDIS_URL``, its Sentinel master, its TLS files."""
    return redis_from_url(cfg["REDIS_URL"], cfg["REDIS_SENTINEL_MASTER"], **tls_options(cfg), **kwargs)


def celery_broker_ssl(cfg: Mapping[str, Any]) -> dict[str, Any] | None:
    """Celery's ``broker_use_ssl`` for a ``rediss://`` broker: verified, never Kombu's
    default of ``CERT_NONE``; ``None`` (no TLS) otherwise."""
    options = tls_options(cfg)
    return {**options, "ssl_cert_reqs": ssl.CERT_REQUIRED} if options else None


def celery_transport_options(url: str, master: str) -> dict:
    """Broker transport options that Kombu needs for a Sentinel URL (none otherwise)."""
    if not is_sentinel(url):
        return {}
    _, password, _ = parse_sentinel(url)
    options: dict = {"master_name": master}
    if password:
        options["sentinel_kwargs"] = {"password": password}
    return options


def limiter_storage(url: str, master: str) -> tuple[str, dict]:
    """The same Redis for Flask-Limiter: ``(storage_uri, storage_options)`` in the
    ``limits`` library's notation."""
    if not is_sentinel(url):
        return url, {}
    hosts, password, db = parse_sentinel(url)
    auth = f":{password}@" if password else ""
    return f"redis+sentinel://{auth}{','.join(f'{h}:{p}' for h, p in hosts)}/{master}", {"db": db}


class RedisConnector:
    def __init__(
        self, url: str, timeout_s: float = 5.0, master: str = "mymaster", tls: Mapping[str, Any] | None = None
    ):
        self.url = url
        self._client = PerProcess(
            lambda: redis_from_url(
                url,
                master,
                **(tls or {}),
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                health_check_interval=30,
            ),
            lambda client: client.close(),
        )

    @property
    def client(self) -> redis.Redis:
        return self._client.get()

    def close(self) -> None:
        self._client.close()
