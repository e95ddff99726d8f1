"""Ponte's configuration: defaults, then the environment, then explicit overrides.

Every process (web, worker, launcher, tests) reads its settings through ``load`` so that
one table in the README describes them all. In production (``PONTE_ENV=production``) a
missing connection setting stops start-up with a clear message instead of silently
falling back to a localhost default.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit


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
    "REDIS_SENTINEL_MASTER": "mymaster",  # used when REDIS_URL is sentinel://...;sentinel://...
    # rediss:// only: the CA that signed Redis's certificate (system CAs when unset), and a
    # client certificate when Redis asks for one (tls-auth-clients).
    "REDIS_TLS_CA_FILE": None,
    "REDIS_TLS_CERTFILE": None,
    "REDIS_TLS_KEYFILE": None,
    # Production refuses a REDIS_URL/MONGO_URI without credentials unless this says that
    # nothing but Ponte's own processes can reach the stores.
    "TRUSTED_NETWORK": "false",
    "API_HOST": "127.0.0.1",
    "API_PORT": 8000,
    "WEB_CONCURRENCY": 2,
    "WEB_THREADS": 4,
    "MAX_BODY_BYTES": 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",  # json (one object per line) or text
    "LOG_FILE": None,  # optional; {role} and {pid} are replaced (one file per process)
    "LOG_FILE_MAX_BYTES": 10 * 1024 * 1024,
    "LOG_FILE_BACKUPS": 5,
    # Lines below this level go to LOG_FILE only, not to stdout (make run: WARNING, its files
    # have every line; a pipe to a relay made each line cost the web tier: docs/performance.md).
    "LOG_STDOUT_LEVEL": None,  # unset: LOG_LEVEL
    # The API's access line: writes (every request but a successful read, and any request
    # slower than ACCESS_LOG_SLOW_MS), all (one JSON line per request), errors (>= 400, and
    # slow ones), off. Every request is counted in /metrics by route and status either way;
    # a line per request cost a fifth of a cached read's CPU (docs/performance.md).
    "ACCESS_LOG": "writes",
    "ACCESS_LOG_SLOW_MS": 1000,
    # -- monitoring -----------------------------------------------------------------
    "METRICS_DIR": None,  # Prometheus multiprocess files, shared by the host's processes
    "WORKER_METRICS_PORT": 0,  # >0: a Celery worker also serves /metrics on this port
    "WORKER_HEARTBEAT_S": 10,  # how often a worker announces its queues for /ready
    # -- security ---------------------------------------------------------------
    "SECRET_KEY": None,  # signs customer tokens; required (and strong) in production
    "TOKEN_TTL_S": 900,
    "REDIS_PREFIX": "ponte",
    "RATELIMIT_ENABLED": "true",
    "RATELIMIT_DEFAULT": "600 per minute",
    "RATELIMIT_LOGIN": "10 per minute",
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_S": 900,
    "CORS_ORIGINS": "",
    "PROXY_COUNT": 0,
    "TLS_CERTFILE": None,
    "TLS_KEYFILE": None,
    "ARGON2_TIME_COST": 2,
    "ARGON2_MEMORY_KIB": 19456,
    "ARGON2_PARALLELISM": 1,
    "PRODUTO_CACHE_TTL_S": 60,  # product read cache in Redis; 0 turns it off
    "LEITURA_CACHE_TTL_S": 60,  # a customer's own reads in Redis (adapters.read_cache); 0: off
    "LEITURA_RAPIDA": "true",  # anonymous cached product reads answered before Flask
    # -- CRM bridge and sync workers ---------------------------------------------
    "BRIDGE_CHANNELS": "produtos,canal-clientes",
    "BRIDGE_PATTERNS": "carrinho:*",
    "BRIDGE_STREAM": "ponte:eventos",
    "BRIDGE_GROUP": "ponte-bridge",
    "BRIDGE_LOCK_TTL_MS": 5000,
    # Events already waiting are sent as one task of up to this many (500: measured, see
    # docs/performance.md; a lone event still goes at once).
    "BRIDGE_BATCH_MAX": 500,
    # While the sync queue still holds a task no worker has taken, a new one would only
    # wait behind it: the bridge keeps gathering events for up to this long instead.
    "BRIDGE_BATCH_ESPERA_MS": 100,  # chosen by measurement: bench/notes.md
    "SYNC_MAX_RETRIES": 60,
    "SYNC_RETRY_MAX_S": 60,
    "SYNC_FAULT_DELAY_MS": 0,  # fault injection: each sync task first sleeps up to this long
    "SYNC_FAULT_DELAY_MIN_MS": 0,
    # A killed worker's reserved tasks come back after this long (make drill, scenario 4);
    # at least twice the longest retry wait (checked below).
    "BROKER_VISIBILITY_TIMEOUT_S": 120,
    # -- payments ------------------------------------------------------------------
    "PAGAMENTO_MAX_RETRIES": 5,
    "PAGAMENTO_RETRY_MAX_S": 30,
    "PAGAMENTO_EXPIRA_S": 3 * 24 * 3600,  # unpaid boleto/pix orders are cancelled after this
    "PAGAMENTO_VERIFICAR_S": 60,  # how often beat looks for expired or stuck payments
    "CARRINHO_JAVA_PAGAMENTO": "boleto",  # the CRM sends no payment data
    # -- backups ---------------------------------------------------------------------
    "BACKUP_DIR": None,  # unset: beat makes no backups (make run sets var/backups)
    "BACKUP_INTERVAL_S": 24 * 3600,
    "BACKUP_KEEP": 7,  # newest backups kept; older ones are deleted after each new one
}

# Used only outside production so that tests and a bare `flask run` work; production
# refuses it (and any secret shorter than SECRET_MIN_LENGTH).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"  # noqa: S105 - refused in production
SECRET_MIN_LENGTH = 32

_INTS = {
    "ACCESS_LOG_SLOW_MS",
    "MONGO_TIMEOUT_MS",
    "REDIS_PORT",
    "REDIS_DB",
    "API_PORT",
    "WEB_CONCURRENCY",
    "WEB_THREADS",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "LOG_FILE_MAX_BYTES",
    "LOG_FILE_BACKUPS",
    "WORKER_METRICS_PORT",
    "PRODUTO_CACHE_TTL_S",
    "LEITURA_CACHE_TTL_S",
    "WORKER_HEARTBEAT_S",
    "TOKEN_TTL_S",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCKOUT_S",
    "PROXY_COUNT",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_KIB",
    "ARGON2_PARALLELISM",
    "BRIDGE_LOCK_TTL_MS",
    "BRIDGE_BATCH_MAX",
    "BRIDGE_BATCH_ESPERA_MS",
    "SYNC_MAX_RETRIES",
    "SYNC_RETRY_MAX_S",
    "SYNC_FAULT_DELAY_MS",
    "SYNC_FAULT_DELAY_MIN_MS",
    "BROKER_VISIBILITY_TIMEOUT_S",
    "PAGAMENTO_MAX_RETRIES",
    "PAGAMENTO_RETRY_MAX_S",
    "PAGAMENTO_EXPIRA_S",
    "PAGAMENTO_VERIFICAR_S",
    "BACKUP_INTERVAL_S",
    "BACKUP_KEEP",
}

# Settings that production must receive explicitly: a localhost default there would
# point a deployed process at nothing (or at the wrong data) without saying so.
REQUIRED_IN_PRODUCTION = ("MONGO_URI", "REDIS_URL")

ENVIRONMENTS = ("development", "test", "production")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
REDIS_TLS_FILES = ("REDIS_TLS_CA_FILE", "REDIS_TLS_CERTFILE", "REDIS_TLS_KEYFILE")
# MongoDB mechanisms that authenticate without a password in the URI.
MONGO_PASSWORDLESS_AUTH = ("MONGODB-X509", "MONGODB-AWS", "MONGODB-OIDC", "GSSAPI")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ACCESS_LOGS = ("writes", "all", "errors", "off")


# What `make run` chose (the embedded stores' URIs, its secret), for any Ponte command run
# from the same checkout while it is up: `flask --app wsgi ...`, an extra worker.
STACK_FILE = "stack.env"


def _gather(
    environ: Mapping[str, str], overrides: Mapping[str, Any], real_environment: bool
) -> tuple[dict[str, Any], set[str]]:
    """Defaults, then the environment, then the overrides; and which keys were given."""
    cfg = dict(DEFAULTS)
    explicit: set[str] = set()
    for key in DEFAULTS:
        raw = environ.get(key)
        if raw is not None and raw != "":
            cfg[key] = raw
            explicit.add(key)
    for key, value in overrides.items():
        cfg[key] = value
        explicit.add(key)
    # Development only, and only for this process's real environment (never a mapping a
    # test passes): production reads nothing but its environment.
    if real_environment and cfg["PONTE_ENV"] == "development":
        for key, value in _read_stack_file(stack_file(environ)).items():
            if key not in explicit:
                cfg[key] = value
    return cfg, explicit


def stack_file(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("PONTE_VAR_DIR") or Path(__file__).resolve().parent / "var") / STACK_FILE


def _read_stack_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    entries = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in entries if key.strip() in DEFAULTS}


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective settings; raise ``ConfigError`` if they cannot work."""
    cfg, explicit = _gather(os.environ if environ is None else environ, overrides or {}, environ is None)
    for key in _INTS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {cfg[key]!r}") from None

    _parse_observability(cfg)

    if cfg["PONTE_ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"PONTE_ENV must be one of {', '.join(ENVIRONMENTS)}")
    cfg["TRUSTED_NETWORK"] = _boolean(cfg, "TRUSTED_NETWORK")

    # REDIS_HOST/REDIS_PORT are the seed's names; REDIS_URL wins when both are given.
    if not cfg["REDIS_URL"]:
        cfg["REDIS_URL"] = f"redis://{cfg['REDIS_HOST']}:{cfg['REDIS_PORT']}/{cfg['REDIS_DB']}"
        # Only a host names a server: REDIS_PORT (or REDIS_DB) alone would still point
        # production at 127.0.0.1, which is exactly what it must refuse.
        if "REDIS_HOST" in explicit:
            explicit.add("REDIS_URL")

    _check_redis_tls(cfg)
    if cfg["PONTE_ENV"] == "production":
        _check_production(cfg, explicit)
    elif not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = DEV_SECRET_KEY
    _parse_security(cfg)
    if cfg["LOGIN_MAX_FAILURES"] < 1 or cfg["TOKEN_TTL_S"] < 1 or cfg["PROXY_COUNT"] < 0:
        raise ConfigError("LOGIN_MAX_FAILURES and TOKEN_TTL_S must be >= 1, PROXY_COUNT >= 0")
    if cfg["MAX_BODY_BYTES"] < 1024 or cfg["MAX_JSON_DEPTH"] < 2:
        raise ConfigError("MAX_BODY_BYTES must be >= 1024 and MAX_JSON_DEPTH >= 2")
    return cfg


def _check_production(cfg: dict[str, Any], explicit: set[str]) -> None:
    missing = [key for key in REQUIRED_IN_PRODUCTION if key not in explicit]
    if "REDIS_URL" in missing:
        missing[missing.index("REDIS_URL")] = "REDIS_URL (or REDIS_HOST)"
    if missing:
        raise ConfigError(
            "production start-up refused: set "
            + ", ".join(missing)
            + " in the environment (see the settings table in README.md)"
        )
    secret = cfg["SECRET_KEY"] or ""
    if secret == DEV_SECRET_KEY or len(secret) < SECRET_MIN_LENGTH:
        raise ConfigError(
            f"production start-up refused: SECRET_KEY must be set to a random value of at least "
            f"{SECRET_MIN_LENGTH} characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if not cfg["TRUSTED_NETWORK"]:
        _check_store_credentials(cfg)


def _boolean(cfg: dict[str, Any], key: str) -> bool:
    value = str(cfg[key] if cfg[key] is not None else "").strip().lower()
    if value not in TRUE + FALSE:
        raise ConfigError(f"{key} must be true or false, got {cfg[key]!r}")
    return value in TRUE


def redis_has_credentials(url: str) -> bool:
    """Whether ``url`` authenticates as a named Redis user, not as ``default``
    (``redis://:password@host``, which the ACL file turns off). A Sentinel URL counts with
    a password: Celery's notation has no other place for one."""
    parts = [p.strip() for p in url.split(";") if p.strip()]
    if parts and all(p.startswith("sentinel://") for p in parts):
        return any(urlsplit(p).password for p in parts)
    u = urlsplit(url)
    return bool(u.password) and (u.username or "default") != "default"


def mongo_has_credentials(uri: str) -> bool:
    """Whether ``uri`` carries a user and password, or names a mechanism that needs none."""
    u = urlsplit(uri)
    mechanism = dict(parse_qsl(u.query)).get("authMechanism", "").upper()
    return bool(u.username and u.password) or mechanism in MONGO_PASSWORDLESS_AUTH


def _check_store_credentials(cfg: dict[str, Any]) -> None:
    # The messages name the setting, never its value: the URL may hold a password.
    trusted = "or set TRUSTED_NETWORK=true if only Ponte's own processes can reach it"
    if not redis_has_credentials(cfg["REDIS_URL"]):
        raise ConfigError(
            "production start-up refused: REDIS_URL has no credentials or uses Redis's default user; "
            "use the ponte ACL user, redis://ponte:<password>@host:6379/0 (docs/security.md, Hardening), " + trusted
        )
    if not mongo_has_credentials(cfg["MONGO_URI"]):
        raise ConfigError(
            "production start-up refused: MONGO_URI has no credentials; use the application user, "
            "mongodb://ponte:<password>@host:27017/ecommerce?authSource=ecommerce (docs/security.md, Hardening), "
            + trusted
        )


def _check_redis_tls(cfg: dict[str, Any]) -> None:
    given = [key for key in REDIS_TLS_FILES if cfg[key]]
    if not given:
        return
    if not str(cfg["REDIS_URL"]).startswith("rediss://"):
        raise ConfigError(f"{', '.join(given)} apply to a rediss:// REDIS_URL only (REDIS_URL does not use TLS)")
    if bool(cfg["REDIS_TLS_CERTFILE"]) != bool(cfg["REDIS_TLS_KEYFILE"]):
        raise ConfigError("REDIS_TLS_CERTFILE and REDIS_TLS_KEYFILE go together: set both or neither")
    for key in given:
        if not os.access(cfg[key], os.R_OK):
            raise ConfigError(f"{key}: {cfg[key]} is not a readable file")


def lista(valor: str) -> list[str]:
    """A comma-separated setting as a list (blank items dropped)."""
    return [item.strip() for item in str(valor or "").split(",") if item.strip()]


def _parse_observability(cfg: dict[str, Any]) -> None:
    cfg["LOG_FORMAT"] = str(cfg["LOG_FORMAT"]).lower()
    if cfg["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    cfg["LOG_LEVEL"] = str(cfg["LOG_LEVEL"]).upper()
    if cfg["LOG_LEVEL"] not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    cfg["LOG_STDOUT_LEVEL"] = str(cfg["LOG_STDOUT_LEVEL"] or cfg["LOG_LEVEL"]).upper()
    if cfg["LOG_STDOUT_LEVEL"] not in LOG_LEVELS:
        raise ConfigError(f"LOG_STDOUT_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    cfg["ACCESS_LOG"] = str(cfg["ACCESS_LOG"]).lower()
    if cfg["ACCESS_LOG"] not in ACCESS_LOGS:
        raise ConfigError(f"ACCESS_LOG must be one of {', '.join(ACCESS_LOGS)}")
    if not cfg["METRICS_DIR"]:
        # Shared by every Ponte process of this user on this host (see adapters.metrics).
        cfg["METRICS_DIR"] = os.path.join(tempfile.gettempdir(), f"ponte-metrics-{os.getuid()}")
    if cfg["BRIDGE_BATCH_MAX"] < 1:
        raise ConfigError("BRIDGE_BATCH_MAX must be >= 1")
    if cfg["BRIDGE_BATCH_ESPERA_MS"] < 0:
        raise ConfigError("BRIDGE_BATCH_ESPERA_MS must be >= 0")
    if cfg["WORKER_HEARTBEAT_S"] < 1 or cfg["WORKER_METRICS_PORT"] < 0:
        raise ConfigError("WORKER_HEARTBEAT_S must be >= 1 and WORKER_METRICS_PORT >= 0")
    if cfg["BACKUP_INTERVAL_S"] < 1 or cfg["BACKUP_KEEP"] < 1:
        raise ConfigError("BACKUP_INTERVAL_S and BACKUP_KEEP must be >= 1")


def _parse_security(cfg: dict[str, Any]) -> None:
    cfg["RATELIMIT_ENABLED"] = str(cfg["RATELIMIT_ENABLED"]).lower() in ("1", "true", "yes", "on")
    cfg["LEITURA_RAPIDA"] = str(cfg["LEITURA_RAPIDA"]).lower() in ("1", "true", "yes", "on")
    cfg["CORS_ORIGINS"] = lista(cfg["CORS_ORIGINS"])
    if bool(cfg["TLS_CERTFILE"]) != bool(cfg["TLS_KEYFILE"]):
        raise ConfigError("TLS_CERTFILE and TLS_KEYFILE go together: set both or neither")
    # A retry waiting longer than the broker's visibility timeout would be delivered twice.
    for key in ("SYNC_RETRY_MAX_S", "PAGAMENTO_RETRY_MAX_S"):
        if cfg[key] * 2 > cfg["BROKER_VISIBILITY_TIMEOUT_S"]:
            raise ConfigError(f"{key} must be at most half of BROKER_VISIBILITY_TIMEOUT_S")
