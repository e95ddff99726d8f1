"""Logging for every Ponte process: one line per event, JSON by default, with context.

A ``ContextVar`` carries the correlation fields of the work in hand (``request_id``,
``event_id``, ``task_id``...). The web app binds them per request, the bridge per
message and the worker per task (``tasks.observability``); a Celery signal copies
``request_id``/``event_id`` into the headers of every task published while they are
bound, so ``grep <request id>`` follows one order from the API through every task. With
tracing on (``adapters.tracing``) each line also carries ``trace_id`` and ``span_id``.

Secrets never reach a log line: a filter masks passwords, bearer tokens and API keys
in the rendered message and drops sensitive ``extra`` fields, whatever logged them.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

logger = logging.getLogger(__name__)

CORRELATION_FIELDS = ("request_id", "event_id", "task_id", "task_name")
# Headers a published task inherits from the context it was sent from.
PROPAGATED = ("request_id", "event_id")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("ponte_log_context", default=_EMPTY)


def bind(**fields: str | None) -> contextvars.Token:
    """Add correlation fields for the work in hand; ``reset`` with the returned token."""
    merged = dict(_context.get())
    merged.update({k: str(v) for k, v in fields.items() if v})
    return _context.set(merged)


def reset(token: contextvars.Token) -> None:
    _context.reset(token)


def current() -> Mapping[str, str]:
    return _context.get()


# Set by adapters.tracing when tracing is on: trace_id/span_id of the current span, so a
# log search and a trace view meet. None (off): not even a call per line.
_trace_fields: Callable[[], Mapping[str, str]] | None = None


def set_trace_fields(fields: Callable[[], Mapping[str, str]] | None) -> None:
    global _trace_fields  # noqa: PLW0603 - one hook per process, set once at start
    _trace_fields = fields


# -- secrets --------------------------------------------------------------------------
MASK = "***"
SENSITIVE_KEYS = frozenset(
    {"senha", "password", "senha_hash", "secret", "secret_key", "token", "access_token", "authorization", "api_key"}
)
_SECRET_PATTERNS = (
    # key=value, key: value, "key": "value" for sensitive keys (JSON, query strings, reprs)
    re.compile(
        r"""(?P<k>["']?(?:senha|password|passwd|secret(?:_key)?|token|access_token|api[_-]?key|senha_hash)["']?"""
        r"""\s*[:=]\s*)(?P<q>["']?)(?P<v>[^"'\s,;&}]+)""",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<k>\b(?:Bearer|Basic)\s+)(?P<q>)(?P<v>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE),
    re.compile(r"(?P<k>X-API-Key\s*[:=]\s*)(?P<q>)(?P<v>\S+)", re.IGNORECASE),
    # Ponte API keys keep their public prefix (it names the key), never the secret part
    re.compile(r"(?P<k>\bponte_[0-9a-f]{8}_)(?P<q>)(?P<v>[A-Za-z0-9_-]{16,})"),
    # argon2 hashes (the bridge hashes CRM passwords): a hash is still an offline-guessing target
    re.compile(r"(?P<k>)(?P<q>)(?P<v>\$argon2(?:id|i|d)?\$[^\s\"']+)"),
    # credentials inside URLs: redis://:pw@host, rediss://user:pw@host, mongodb://user:pw@host,
    # mongodb+srv://..., each sentinel:// of a Sentinel REDIS_URL. The password runs to the
    # last @ of the URL: redis-py reads a raw "@" in it (rpartition), so stopping at the
    # first would show the rest. (The scheme is bounded and must start a word: unbounded, a
    # long run of letters made this pattern quadratic, 9 s for a 40 KB string.)
    re.compile(r"(?P<k>\b[a-z][a-z0-9+.-]{0,31}://[^/\s:@]{0,256}:)(?P<q>)(?P<v>[^\s/;]+)(?=@)", re.IGNORECASE),
)


# Every pattern above needs one of these: a line without any (an access line, most messages)
# is returned after one search instead of six substitutions.
_SUSPEITO = re.compile(r"senha|passw|secret|token|api[_-]?key|bearer|basic|ponte_|\$argon2|://", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every recognisable secret replaced by ``***``."""
    if not _SUSPEITO.search(text):
        return text
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m['k']}{m['q']}{MASK}", text)
    return text


# A task's arguments are its payload (a CRM envelope: names, e-mails, documents, password
# hashes). Celery's own lines carry them in ``extra={"data": {"args": ...}}``, which the JSON
# formatter would write whole: they are left out, the task's name and id are kept.
PAYLOAD_KEYS = frozenset({"args", "kwargs", "argsrepr", "kwargsrepr"})
OMITTED = "<omitido>"


def _limpar(value: Any, depth: int = 0) -> Any:
    """A structured ``extra`` value with payloads left out and secrets masked, at any depth."""
    if isinstance(value, str):
        return redact(value)
    if depth > 4:  # deeper than any log extra Ponte or Celery writes
        return OMITTED
    if isinstance(value, Mapping):
        return {
            k: MASK
            if str(k).lower() in SENSITIVE_KEYS
            else OMITTED
            if str(k).lower() in PAYLOAD_KEYS
            else _limpar(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_limpar(v, depth + 1) for v in value]
    return value


_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Masks secrets in the message and in ``extra`` fields, and adds the context."""

    def __init__(self, role: str):
        super().__init__()
        self.role = role
        self.host = socket.gethostname()
        self._ultimo: logging.LogRecord | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        # Each handler runs its filters: the second one (stdout and LOG_FILE) finds it done.
        # (Another thread's record in between only means filtering again: it is idempotent.)
        if self._ultimo is record:
            return True
        self._ultimo = record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        for key, value in list(vars(record).items()):
            if key in _RECORD_FIELDS:  # the record's own attributes: none sensitive, msg done above
                continue
            if key.lower() in SENSITIVE_KEYS:
                setattr(record, key, MASK)
            elif key.lower() in PAYLOAD_KEYS and key != "args":  # record.args is the format's (None by now)
                setattr(record, key, OMITTED)
            elif key not in _RECORD_FIELDS and isinstance(value, Mapping | list | tuple | str):
                setattr(record, key, _limpar(value))
        _redact_traceback(record)
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        if _trace_fields is not None:
            for key, value in _trace_fields().items():
                setattr(record, key, value)
        record.role = self.role
        record.host = self.host
        return True


def _redact_traceback(record: logging.LogRecord) -> None:
    if record.exc_info:
        # Formatters render exc_text when exc_info is gone: only the masked text stays.
        record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class _UmaVez:
    """A formatter shared by the handlers (stdout, LOG_FILE) renders each record once;
    RotatingFileHandler renders it a second time to decide on rotation."""

    _ultimo: tuple[logging.LogRecord | None, str] = (None, "")

    def format(self, record: logging.LogRecord) -> str:
        ultimo = self._ultimo  # one read: another thread may replace it meanwhile
        if ultimo[0] is record:
            return ultimo[1]
        linha = super().format(record)  # type: ignore[misc]
        self._ultimo = (record, linha)
        return linha


class JsonUmaVez(_UmaVez, JsonFormatter):
    pass


class TextoUmaVez(_UmaVez, logging.Formatter):
    pass


# -- configuration --------------------------------------------------------------------
TEXT_FORMAT = "%(asctime)s %(levelname)s %(role)s[%(process)d] %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(process)d %(role)s"


def dict_config(cfg: Mapping[str, Any], role: str) -> dict:
    """A ``logging.config.dictConfig`` mapping for a process of kind ``role``.

    gunicorn takes it as ``logconfig_dict``; its own loggers then propagate to the root
    handler so access and error lines share the format.
    """
    level = str(cfg["LOG_LEVEL"]).upper()
    handlers = _handlers(cfg, role)
    propagate = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": RedactingFilter, "role": role}},
        "formatters": {"ponte": _formatter(cfg)},
        "handlers": handlers,
        "root": {"level": level, "handlers": list(handlers)},
        "loggers": {
            "gunicorn.error": {**propagate, "level": level},
            "gunicorn.access": {**propagate, "level": level},
            "celery": {**propagate, "level": level},
            # pymongo's command monitoring is far too chatty at DEBUG for production.
            "pymongo": {**propagate, "level": max(logging.INFO, logging.getLevelName(level))},
        },
    }


def _formatter(cfg: Mapping[str, Any]) -> dict:
    if cfg["LOG_FORMAT"] != "json":
        return {"()": TextoUmaVez, "fmt": TEXT_FORMAT}
    return {
        "()": JsonUmaVez,
        "fmt": JSON_FIELDS,
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "ts",  # ISO 8601, UTC
        "json_ensure_ascii": False,  # Portuguese text stays readable (and greppable)
    }


class StdoutHandler(logging.StreamHandler):
    """The console handler: ``sys.stdout`` as configured (or the stream given), and the
    process's own stdout once that stream is closed. A CLI runner or a test swaps stdout,
    configures logging inside and closes its stream; without this, every later record is a
    "Logging error" traceback in whatever stderr is then (the next command's output)."""

    def __init__(self, stream=None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)

    @property
    def stream(self):
        return sys.__stdout__ if getattr(self._stream, "closed", False) else self._stream

    @stream.setter
    def stream(self, value) -> None:
        self._stream = value


def _handlers(cfg: Mapping[str, Any], role: str) -> dict[str, dict]:
    level = str(cfg["LOG_LEVEL"]).upper()
    handlers: dict[str, dict] = {
        "console": {
            "()": StdoutHandler,
            "formatter": "ponte",
            "filters": ["context"],
            "level": str(cfg.get("LOG_STDOUT_LEVEL") or level).upper(),
        }
    }
    if cfg.get("LOG_FILE"):
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler",
            # One file per process: rotation is not safe with several writers on one file.
            "filename": str(cfg["LOG_FILE"]).format(role=role, pid=os.getpid()),
            "maxBytes": int(cfg["LOG_FILE_MAX_BYTES"]),
            "backupCount": int(cfg["LOG_FILE_BACKUPS"]),
            "encoding": "utf-8",
            "delay": True,
            "formatter": "ponte",
            "filters": ["context"],
        }
    return handlers


LEITURAS = frozenset({"GET", "HEAD", "OPTIONS"})


def access_wanted(modo: str, status: int | None, ms: int = 0, lento_ms: int = 0, metodo: str = "GET") -> bool:
    """Whether the API's access line of a response is written (``ACCESS_LOG``): ``all``;
    ``writes``: every request but a successful read (the bulk of the traffic, counted in
    /metrics anyway); ``errors``: 400 and above or no status; ``off``. With ``writes`` and
    ``errors``, a request that took ``lento_ms`` or more (when set) is written too."""
    if modo in ("writes", "errors"):
        if status is None or status >= 400 or 0 < lento_ms <= ms:
            return True
        return modo == "writes" and metodo not in LEITURAS
    return modo == "all"


def ensure_log_dir(cfg: Mapping[str, Any]) -> None:
    """Create ``LOG_FILE``'s folder: gunicorn applies ``logconfig_dict`` itself, and a
    missing folder there costs a traceback per handler and the first lines."""
    if cfg.get("LOG_FILE"):
        os.makedirs(os.path.dirname(os.path.abspath(str(cfg["LOG_FILE"]))), exist_ok=True)


def configure(cfg: Mapping[str, Any], role: str) -> None:
    """Replace the root logger's handlers with Ponte's (idempotent)."""
    ensure_log_dir(cfg)
    logging.config.dictConfig(dict_config(cfg, role))


def after_fork(cfg: Mapping[str, Any], role: str) -> None:
    """In a forked child (gunicorn worker, Celery pool process): a per-process log file
    (``{pid}`` in ``LOG_FILE``) is opened anew under the child's own pid; otherwise the
    child would keep writing into its parent's file."""
    if "{pid}" in str(cfg.get("LOG_FILE") or ""):
        configure(cfg, role)


__all__ = [
    "access_wanted",
    "after_fork",
    "bind",
    "configure",
    "current",
    "dict_config",
    "ensure_log_dir",
    "redact",
    "reset",
    "set_trace_fields",
]
