"""Strict marshmallow fields for request bodies.

JSON already has types; these fields refuse the coercions marshmallow would otherwise
allow (``"12"`` for a number, ``true`` for an integer), so that a value of the wrong
type is a 422, never a silently converted value.
"""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal

from marshmallow import ValidationError, fields

from domain.errors import DadosInvalidos
from domain.money import CENTAVO, parse_preco
from domain.texto import EXPRESSAO_PREENCHIDO

_OID = re.compile(r"^[0-9a-fA-F]{24}$")


def id_canonico(valor):
    """The one spelling of an id: ObjectId parsing ignores case, but the cart, the product
    cache and the audit trail key on the string, so ``ABC…`` and ``abc…`` must not both
    reach them. An ObjectId's text is its 24 hex digits in lower case; anything else is
    returned as is (the lookup 404s)."""
    return valor.lower() if isinstance(valor, str) and _OID.match(valor) else valor


def _em_centavos(kwargs: dict) -> dict:
    """Document a price's two decimal places (``multipleOf: 0.01``) on its field."""
    return {**kwargs, "metadata": {"multipleOf": CENTAVO, **kwargs.get("metadata", {})}}


class Money(fields.Decimal):
    """A price: a JSON number, exact, at most two decimal places, documented as such."""

    def __init__(self, **kwargs):
        kwargs = _em_centavos(kwargs)
        kwargs.setdefault("places", None)
        super().__init__(as_string=False, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class TextoPreenchido(fields.String):
    """A required text, which the domain strips and refuses blank
    (``domain.texto.texto_obrigatorio``): documented with that rule as its pattern."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "metadata": {"pattern": EXPRESSAO_PREENCHIDO, **kwargs.get("metadata", {})}})


class StrictInteger(fields.Integer):
    """An integer that must be a JSON integer (not a boolean, string or 1.0)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class PrecoFiltro(fields.Decimal):
    """A price in a query string (``preco_min``): held to the rules of a stored price
    (``domain.money.parse_preco``), so a filter never carries a value that no price can
    have, nor one MongoDB's Decimal128 cannot hold (``1E-9999``, 37 digits)."""

    def __init__(self, **kwargs):
        kwargs = _em_centavos(kwargs)
        kwargs.setdefault("places", None)
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        numero = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_preco(numero)
        except DadosInvalidos as exc:
            raise ValidationError([m for msgs in exc.errors.values() for m in msgs]) from exc


class InstanteUTC(fields.AwareDateTime):
    """An instant for a filter, in UTC (naive means UTC). Offsets that push the first or
    last representable day past UTC (``0001-01-01T00:00+05:00``) are a 422 here rather
    than an ``OverflowError`` when the driver converts the value."""

    default_error_messages = {"range": "Data fora do intervalo representável em UTC."}

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        instante = super()._deserialize(value, attr, data, **kwargs)
        try:
            return instante.astimezone(UTC)
        except OverflowError as exc:
            raise self.make_error("range") from exc


class IdObjeto(fields.String):
    """An id in a body or query string, in its canonical spelling (see ``id_canonico``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return id_canonico(super()._deserialize(value, attr, data, **kwargs))
