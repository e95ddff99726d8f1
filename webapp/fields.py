"""Strict marshmallow fields for request bodies.

JSON already has types; these fields refuse the coercions marshmallow would otherwise
allow (``"12"`` for a number, ``true`` for an integer), so that a value of the wrong
type is a 422, never a silently converted value.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields


class Money(fields.Decimal):
    """A price: a JSON number, exact, at most two decimal places, documented as such."""

    def __init__(self, **kwargs):
        kwargs.setdefault("places", None)
        super().__init__(as_string=False, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    """An integer that must be a JSON integer (not a boolean, string or 1.0)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
