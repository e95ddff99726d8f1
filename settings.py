"""Ponte's configuration: defaults, then the environment, then explicit overrides.

Every process (web, worker, launcher, tests) reads its settings through ``load`` so that
one table in the README describes them all. In production (``PONTE_ENV=production``) a
missing connection setting stops start-up with a clear message instead of silently
falling back to a localhost default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the process must not start."""


DEFAULTS: dict[str, Any] = {
    "PONTE_ENV": "development",
    "MONGO_URI": "mongodb://127.0.0.1:27017/?directConnection=true",
    "MONGO_DB": "ecommerce",
    "MONGO_TIMEOUT_MS": 5000,
    "REDIS_URL": None,  # built from REDIS_HOST/REDIS_PORT/REDIS_DB when absent
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": 6379,
    "REDIS_DB": 0,
    "API_HOST": "127.0.0.1",
    "API_PORT": 8000,
    "WEB_CONCURRENCY": 2,
    "WEB_THREADS": 4,
    "MAX_BODY_BYTES": 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    "LOG_LEVEL": "INFO",
}

_INTS = {
    "MONGO_TIMEOUT_MS",
    "REDIS_PORT",
    "REDIS_DB",
    "API_PORT",
    "WEB_CONCURRENCY",
    "WEB_THREADS",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
}

# Settings that production must receive explicitly: a localhost default there would
# point a deployed process at nothing (or at the wrong data) without saying so.
REQUIRED_IN_PRODUCTION = ("MONGO_URI", "REDIS_URL")

ENVIRONMENTS = ("development", "test", "production")


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective settings; raise ``ConfigError`` if they cannot work."""
    environ = os.environ if environ is None else environ
    cfg = dict(DEFAULTS)
    explicit: set[str] = set()
    for key in DEFAULTS:
        raw = environ.get(key)
        if raw is not None and raw != "":
            cfg[key] = raw
            explicit.add(key)
    for key, value in (overrides or {}).items():
        cfg[key] = value
        explicit.add(key)

    for key in _INTS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {cfg[key]!r}") from None

    if cfg["PONTE_ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"PONTE_ENV must be one of {', '.join(ENVIRONMENTS)}")

    # REDIS_HOST/REDIS_PORT are the seed's names; REDIS_URL wins when both are given.
    if not cfg["REDIS_URL"]:
        cfg["REDIS_URL"] = f"redis://{cfg['REDIS_HOST']}:{cfg['REDIS_PORT']}/{cfg['REDIS_DB']}"
        if explicit & {"REDIS_HOST", "REDIS_PORT"}:
            explicit.add("REDIS_URL")

    if cfg["PONTE_ENV"] == "production":
        missing = [key for key in REQUIRED_IN_PRODUCTION if key not in explicit]
        if missing:
            raise ConfigError(
                "production start-up refused: set "
                + ", ".join(missing)
                + " in the environment (see the settings table in README.md)"
            )

    if cfg["MAX_BODY_BYTES"] < 1024 or cfg["MAX_JSON_DEPTH"] < 2:
        raise ConfigError("MAX_BODY_BYTES must be >= 1024 and MAX_JSON_DEPTH >= 2")
    return cfg
