"""The drill's arithmetic: what the CRM published against what Ponte's workers applied.

Kept apart from the processes (``bench.drill``) so that it is tested on its own
(``tests/unit/test_drill_contas.py``). An event is identified by its product and its
``estoque``: the drill's CRM sends increasing stock per product, so last-write-wins can be
checked against MongoDB's final state. The workers log one line per event they handle
(``tasks.sync._log``): its ``event_id`` is ``s-<entry id>`` for a stream entry (known to the
publisher, from XADD's answer) and a name the bridge chose for a pub/sub message (unknown to
the publisher: pub/sub is counted per event id, not matched one to one).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PUBSUB, STREAM = "pubsub", "stream"
# A worker's outcome line (the bridge's own line has ``origem=`` instead of ``tentativas=``).
_LINHA = re.compile(
    r"evento event_id=(?P<event_id>\S+) canal=(?P<canal>\S+) acao=(?P<acao>\S+) crm_id=(?P<crm_id>\S+) "
    r"seq=(?P<seq>\S+) resultado=(?P<resultado>[^\s\"]+) tentativas="
)
# Outcomes that wrote nothing: superseded by a newer event (or a redelivery of an event
# already applied), or refused. Anything else wrote the event's change.
SEM_ESCRITA = {"obsoleto", "rejeitado"}


@dataclass(frozen=True)
class Publicado:
    """One event the drill's CRM sent."""

    crm_id: int
    estoque: int
    t: float  # monotonic, when Redis answered
    # pub/sub: PUBLISH reached at least one subscriber; stream: XADD accepted it.
    entregue: bool = True
    event_id: str | None = None  # stream: "s-<entry id>"
    t0: float | None = None  # monotonic, when it was sent (default: ``t``)

    @property
    def enviado(self) -> float:
        return self.t if self.t0 is None else self.t0


@dataclass(frozen=True)
class Processado:
    """One worker log line about one event."""

    event_id: str
    crm_id: int
    resultado: str
    acao: str = "atualizado"


@dataclass
class Linha:
    """One row of the drill's table (one scenario, one input)."""

    cenario: str
    entrada: str
    publicados: int = 0
    aplicados: int = 0
    perdidos: int = 0
    esperados: int = 0  # of the lost: pub/sub with no subscriber
    reenviados: int = 0  # stream entries the CRM sent again (a new epoch)
    duplicados: int = 0
    reentregues: int = 0  # handled again and found already applied: harmless
    rejeitados: int = 0
    ultimo_ok: int = 0  # products whose final state is their last event's
    produtos: int = 0
    erros_api: int = 0
    recuperacao_s: float | None = None
    notas: list[str] = field(default_factory=list)


def ler_processados(pastas: list[Path], crm_ids: set[int] | None = None, acao: str = "atualizado") -> list[Processado]:
    """Every worker outcome line about an ``acao`` event of ``crm_ids`` in the log files
    under ``pastas`` (``*.log*``): the drill's seed (``criado``) is not counted."""
    found = []
    for pasta in pastas:
        for path in sorted(pasta.glob("*.log*")):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    p = processado_de(line) if "tentativas=" in line else None
                    if p and p.acao == acao and (crm_ids is None or p.crm_id in crm_ids):
                        found.append(p)
    return found


def processado_de(line: str) -> Processado | None:
    """The outcome in one log line (JSON or text), or None."""
    text = line
    if line.lstrip().startswith("{"):
        with contextlib.suppress(ValueError):
            text = str(json.loads(line).get("message", ""))
    m = _LINHA.search(text)
    if not m:
        return None
    try:
        crm_id = int(m["crm_id"])
    except ValueError:
        return None
    return Processado(m["event_id"], crm_id, m["resultado"], m["acao"])


def contar(
    linha: Linha,
    entrada: str,
    publicados: list[Publicado],
    processados: list[Processado],
    finais: dict[int, int | None],
) -> Linha:
    """Fill ``linha`` from what was published and what the workers logged.

    - applied: events handled by a worker, written or found superseded by a newer event of
      the same product (last-write-wins: nothing to write).
    - lost: published, never applied. Expected among them: pub/sub messages PUBLISH reached
      no subscriber with (Redis drops them). A stream entry is never an expected loss: one
      Redis lost with its data is sent again by the CRM (``reenvio_de``) under its event id.
    - duplicated: an event written more than once; for pub/sub also more distinct events
      handled than messages delivered (a message turned into two events).
    - ``finais``: product -> stock read through the API at the end; last-write-wins holds
      for a product whose stock is the one of its last event.
    """
    linha.entrada = entrada
    linha.publicados = len(publicados)
    validos = [p for p in processados if p.resultado != "rejeitado"]
    linha.rejeitados = len({p.event_id for p in processados if p.resultado == "rejeitado"})
    vezes = Counter(p.event_id for p in validos)
    escritas = Counter(p.event_id for p in validos if p.resultado not in SEM_ESCRITA)
    linha.reentregues = sum(n - 1 for n in vezes.values() if n > 1)
    duplicados = sum(n - 1 for n in escritas.values() if n > 1)
    if entrada == STREAM:
        ids = {p.event_id for p in publicados}
        aplicados = ids & set(vezes)
        linha.aplicados = len(aplicados)
        perdidos = [p for p in publicados if p.event_id not in aplicados]
        linha.perdidos = len(perdidos)
        duplicados += len(set(vezes) - ids)  # applied, yet never published under that id
    else:
        entregues = sum(1 for p in publicados if p.entregue)
        distintos = len(vezes)
        linha.aplicados = min(distintos, linha.publicados)
        linha.perdidos = linha.publicados - linha.aplicados
        linha.esperados = min(linha.perdidos, linha.publicados - entregues)
        duplicados += max(0, distintos - entregues)
    linha.duplicados = duplicados
    ultimos: dict[int, int] = {}
    for p in publicados:
        ultimos[p.crm_id] = max(ultimos.get(p.crm_id, p.estoque), p.estoque)
    linha.produtos = len(finais)
    linha.ultimo_ok = sum(1 for crm_id, final in finais.items() if final is not None and final == ultimos.get(crm_id))
    return linha


def primeiro_depois(publicados: list[Publicado], t: float) -> dict[int, int]:
    """Per product, the stock of its first delivered event sent at or after ``t``."""
    primeiros: dict[int, int] = {}
    for p in sorted(publicados, key=lambda p: p.t):
        if p.t >= t and p.entregue and p.crm_id not in primeiros:
            primeiros[p.crm_id] = p.estoque
    return primeiros


def visivel(primeiros: dict[int, int], lidos: dict[int, int | None]) -> bool:
    """True once the API shows, for any product, an event sent after the fault."""
    return any((lidos.get(crm_id) or -1) >= estoque for crm_id, estoque in primeiros.items())


COLUNAS = (
    "Scenario",
    "Input",
    "Published",
    "Applied",
    "Lost",
    "of which expected",
    "Duplicated",
    "Redelivered",
    "Last wins",
    "API errors",
    "Recovery (s)",
)


def tabela(linhas: list[Linha]) -> str:
    """The Markdown table of ``linhas``."""
    out = ["| " + " | ".join(COLUNAS) + " |", "|" + "|".join("---" for _ in COLUNAS) + "|"]
    for li in linhas:
        rec = "n/a" if li.recuperacao_s is None else f"{li.recuperacao_s:.1f}"
        celulas = [
            li.cenario,
            li.entrada,
            str(li.publicados),
            str(li.aplicados),
            str(li.perdidos),
            str(li.esperados),
            str(li.duplicados),
            str(li.reentregues),
            f"{li.ultimo_ok}/{li.produtos}",
            str(li.erros_api),
            rec,
        ]
        out.append("| " + " | ".join(celulas) + " |")
    return "\n".join(out)
