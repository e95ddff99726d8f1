"""Counting the store commands a unit of work issues: MongoDB through pymongo's command
monitoring, Redis by wrapping redis-py's one-command and pipeline calls.

Counts, not timings: they carry over to a real MongoDB and do not flake on a busy machine.
The MongoDB listener is registered once, when this module is imported (pymongo gives it to
every client created afterwards), and records only while a ``contar`` block is open.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import redis
from pymongo import monitoring

# Commands that are the driver's own housekeeping, not the unit of work's.
_DO_DRIVER = frozenset({"endSessions", "hello", "isMaster", "ismaster", "ping", "createIndexes", "listIndexes"})


@dataclass
class Contagem:
    """What one ``contar`` block saw: each MongoDB command (name, collection, filter) and
    each Redis round trip (a command name, or ``pipeline`` with its commands)."""

    database: str
    mongo: list[tuple[str, str, dict]] = field(default_factory=list)
    redis: list[str] = field(default_factory=list)

    def sem_chave(self) -> list[tuple[str, str, dict]]:
        """Commands whose filter does not name one document by ``_id``: those may examine
        more documents than they return or change (a MongoDB insert names its own)."""
        return [(n, c, f) for n, c, f in self.mongo if "_id" not in f or f["_id"] is None]

    def resumo(self) -> str:
        linhas = [f"  mongo {nome} {colecao} {filtro}" for nome, colecao, filtro in self.mongo]
        return "\n".join([*linhas, *(f"  redis {c}" for c in self.redis)])


_ATIVA = threading.local()


def _filtro(nome: str, cmd) -> dict:
    if nome in ("find", "count", "delete"):
        return dict(cmd.get("filter") or cmd.get("query") or (cmd.get("deletes") or [{}])[0].get("q") or {})
    if nome == "findAndModify":
        return dict(cmd.get("query") or {})
    if nome == "update":
        return dict((cmd.get("updates") or [{}])[0].get("q") or {})
    if nome == "insert":
        return {"_id": [d.get("_id") for d in cmd.get("documents", [])]}
    if nome == "aggregate":
        return dict(next((e["$match"] for e in cmd.get("pipeline", []) if "$match" in e), {}))
    return {}


class _Ouvinte(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        contagem = getattr(_ATIVA, "contagem", None)
        if contagem is None or event.database_name != contagem.database or event.command_name in _DO_DRIVER:
            return
        nome = event.command_name
        contagem.mongo.append((nome, str(event.command.get(nome)), _filtro(nome, event.command)))

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


monitoring.register(_Ouvinte())

_execute_command = redis.Redis.execute_command
_pipeline_execute = redis.client.Pipeline.execute


def _comando(self, *args, **options):
    contagem = getattr(_ATIVA, "contagem", None)
    if contagem is not None and not isinstance(self, redis.client.Pipeline):
        contagem.redis.append(str(args[0]))
    return _execute_command(self, *args, **options)


def _pipeline(self, *args, **kwargs):
    contagem = getattr(_ATIVA, "contagem", None)
    if contagem is not None:
        contagem.redis.append("pipeline(" + ",".join(str(c[0][0]) for c in self.command_stack) + ")")
    return _pipeline_execute(self, *args, **kwargs)


@contextlib.contextmanager
def contar(database: str):
    """Record, on this thread, the commands issued on ``database`` and every Redis round trip."""
    contagem = Contagem(database)
    _ATIVA.contagem = contagem
    with _patched():
        try:
            yield contagem
        finally:
            _ATIVA.contagem = None


@contextlib.contextmanager
def _patched():
    redis.Redis.execute_command = _comando
    redis.client.Pipeline.execute = _pipeline
    try:
        yield
    finally:
        redis.Redis.execute_command = _execute_command
        redis.client.Pipeline.execute = _pipeline_execute
