"""JSON in and out with exact decimals.

Incoming numbers with a fraction become ``Decimal`` (never ``float``); outgoing
``Decimal`` values are written as JSON numbers with their digits intact (simplejson),
so a price of 0.1 goes in and comes out as 0.1 and 0.1 + 0.2 totals 0.3.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson
from flask import current_app
from flask.json.provider import DefaultJSONProvider, _default
from flask_smorest import abort
from webargs.flaskparser import FlaskParser, is_json_request


class JSONDepthError(ValueError):
    pass


class JSONTextError(ValueError):
    """A string that is not Unicode text: a lone surrogate (``"\\ud800"``, or its raw
    bytes, which the decoder lets through). Valid JSON, but it cannot be encoded as UTF-8,
    so MongoDB, Redis and the logs could not take it: malformed, like invalid UTF-8. Or a
    NUL character, which no text field of Ponte's may hold."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(data: str | bytes) -> Any:
    """Strict JSON: decimals as ``Decimal``, NaN/Infinity refused."""
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


def check_depth(obj: Any, max_depth: int) -> None:
    """Raise ``JSONDepthError`` if containers nest deeper than ``max_depth``, and
    ``JSONTextError`` if a string (value or key) holds a lone surrogate or a NUL."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                raise JSONDepthError(f"JSON nested deeper than {max_depth} levels")
            if isinstance(node, dict):
                for key in node:
                    _check_text(key)
                children = node.values()
            else:
                children = node
            stack.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    # NUL: C programs, logs and terminals cut text at it; no field of Ponte's holds one
    # (the CRM's events are refused for it too: domain.eventos, rule "nul").
    if "\x00" in text:
        raise JSONTextError("JSON string with a NUL character (\\u0000)")
    # ASCII (almost every string) needs no encoding to prove it is text.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JSONTextError("JSON string with a lone surrogate") from exc


class PonteJSONProvider(DefaultJSONProvider):
    """Flask JSON provider writing ``Decimal`` as numbers."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return simplejson.dumps(
            obj,
            use_decimal=True,
            default=_default,
            ensure_ascii=False,
            indent=kwargs.get("indent"),
            separators=kwargs.get("separators", (",", ":")),
        )

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class PonteParser(FlaskParser):
    """webargs parser with exact decimals, bounded nesting and mandatory request bodies."""

    def _raw_load_json(self, req):
        # Every body Ponte reads is documented as required: without one, a PATCH would be
        # a silent no-op and a POST would list every field as missing.
        raw = req.get_data(cache=True) if is_json_request(req) else b""
        if not raw.strip():
            abort(422, message="Dados inválidos.", errors={"json": ["Envie o corpo em JSON."]})
        try:
            data = loads(raw)
            check_depth(data, current_app.config["MAX_JSON_DEPTH"])
        except JSONDepthError as exc:
            abort(400, message="Corpo JSON aninhado demais.", errors={"json": [str(exc)]})
        except (ValueError, UnicodeDecodeError, RecursionError):
            # ValueError covers malformed JSON, NaN, integers past Python's digit limit
            # and lone surrogates; RecursionError a pathological nesting the decoder hit first.
            abort(400, message="Corpo JSON malformado.", errors={"json": ["Invalid JSON body."]})
        return data
