"""Schemas of ``/eventos-rejeitados``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.eventos import para_exibir
from domain.rejeitados import ACOES, ESTADOS


class HistoricoRejeitadoSchema(ma.Schema):
    """One thing that happened to a dead letter: rejected (again), replayed or discarded."""

    em = ma.fields.DateTime()
    acao = ma.fields.String(metadata={"enum": list(ACOES)})
    motivo = ma.fields.String(metadata={"description": "Por que foi rejeitado (só em `rejeitado`)."})
    por = ma.fields.String(metadata={"description": "Quem reenviou ou descartou."})
    trace_id = ma.fields.String(metadata={"description": "O trace desta rejeição (só com tracing ligado)."})


class EventoRejeitadoSchema(ma.Schema):
    id = ma.fields.String()
    event_id = ma.fields.String()
    canal = ma.fields.String()
    envelope = ma.fields.Function(
        lambda r: para_exibir(r.envelope),
        metadata={"type": "object", "description": "O envelope da ponte (payload sem senha nem hash de senha)."},
    )
    motivo = ma.fields.String()
    tentativas = ma.fields.Integer()
    vezes = ma.fields.Integer(metadata={"description": "Quantas vezes este evento foi rejeitado."})
    estado = ma.fields.String(metadata={"enum": list(ESTADOS)})
    em = ma.fields.DateTime()
    atualizado_em = ma.fields.DateTime(allow_none=True)
    historico = ma.fields.List(ma.fields.Nested(HistoricoRejeitadoSchema))
    trace_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "O trace (OpenTelemetry) da última rejeição; null com tracing desligado."},
    )


class RejeitadoQueryArgsSchema(ma.Schema):
    estado = ma.fields.String(validate=validate.OneOf(ESTADOS))
    canal = ma.fields.String(validate=validate.Length(max=200))
