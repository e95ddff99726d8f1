"""Redis access: one connection pool per process, created after fork; plain or Sentinel.

``REDIS_URL`` is either a plain ``redis://`` (or ``rediss://``) URL or, for Redis behind
Sentinel, Celery's own notation, so that the broker and every other client read the
same setting::

    sentinel://:password@s1:26379/0;sentinel://:password@s2:26379/0;sentinel://...

with ``REDIS_SENTINEL_MASTER`` naming the monitored master. The password is the
master's (``sentinel_kwargs`` get it too, as Sentinel deployments usually share it).
No home-made failover: redis-py's ``Sentinel`` and Kombu's sentinel transport find the
current master and follow a failover.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from adapters.per_process import PerProcess

SENTINEL_SCHEME = "sentinel://"


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
    def __init__(self, url: str, timeout_s: float = 5.0, master: str = "mymaster"):
        self.url = url
        self._client = PerProcess(
            lambda: redis_from_url(
                url,
                master,
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
