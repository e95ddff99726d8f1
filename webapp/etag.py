"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in.

A resource's ETag is its ``versao``. ``If-Match`` turns into the version(s) a write is
conditional on; the repository then performs an atomic compare-and-set, so two
clients editing the same produto cannot silently overwrite each other.

The ``doc_*`` decorators put the same contract in the OpenAPI document (flask-smorest's
own ``@blp.etag`` cannot be used: it hashes the body and makes If-Match mandatory).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import request

from domain.ports import VersaoEsperada

# No stored version is negative: a tag we cannot parse can never match, so the
# write fails with 412 as RFC 9110 requires for a non-matching If-Match.
NUNCA = -1

# A version as Ponte writes it: ASCII digits that fit MongoDB's 64-bit integers. Anything
# else ("abc", "²", 30 digits) is some other server's tag and matches nothing.
_VERSAO = re.compile(r"[0-9]{1,18}")


def etag_de(versao: int) -> str:
    return f'"{versao}"'


def versao_esperada() -> VersaoEsperada | None:
    """The version(s) ``If-Match`` allows, or None when the client sent none (or ``*``).

    RFC 9110: the precondition holds if *any* listed strong tag is the current one;
    weak tags (``W/"2"``) never match.
    """
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    versoes = {int(tag) for tag in if_match.as_set(include_weak=False) if tag and _VERSAO.fullmatch(tag)}
    if not versoes:
        return NUNCA
    if len(versoes) == 1:
        return versoes.pop()
    return frozenset(versoes)  # the repository's compare-and-set accepts any of them


def com_etag(entidade, status: int = 200):
    """View return value carrying the entity's ETag."""
    return entidade, status, {"ETag": etag_de(entidade.versao)}


# -- OpenAPI ------------------------------------------------------------------------------
ETAG_HEADER = {"description": 'A versão do recurso, entre aspas (`"3"`).', "schema": {"type": "string"}}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETag(s) que o cliente já tem: se um for o atual, a resposta é 304 sem corpo.",
    "schema": {"type": "string"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": (
        'Só altera se a versão atual for uma das listadas (`"2"`, `"1", "2"`; `*`: qualquer uma; '
        "tags fracas `W/` nunca coincidem). Sem o cabeçalho, a última escrita vale."
    ),
    "schema": {"type": "string"},
}


def _compor(*decorators: Callable) -> Callable:
    def decorator(func):
        for d in reversed(decorators):
            func = d(func)
        return func

    return decorator


def doc_etag(blp, status: int = 200) -> Callable:
    """Document the ``ETag`` header on the view's success response ``status``."""
    return blp.doc(responses={status: {"headers": {"ETag": ETAG_HEADER}}})


def doc_leitura(blp, status: int = 200) -> Callable:
    """A GET of one resource: ``ETag`` out, ``If-None-Match`` in, 304. Only for views with no
    query or header arguments (every ETag view): flask-smorest lets this ``doc(parameters)``
    replace the generated list instead of adding to it."""
    return _compor(
        doc_etag(blp, status),
        blp.doc(parameters=[IF_NONE_MATCH]),
        blp.alt_response(304, description="Não modificado: o ETag em If-None-Match é o atual (sem corpo)."),
    )


def doc_escrita(blp, status: int | None = 200) -> Callable:
    """A PUT, PATCH or DELETE: ``If-Match`` in, 412; the new ``ETag`` on ``status`` (None: no
    body). Same caveat as ``doc_leitura`` about other parameters."""
    return _compor(
        *([doc_etag(blp, status)] if status is not None else []),
        blp.doc(parameters=[IF_MATCH]),
        blp.alt_response(412, description="If-Match não coincide com a versão atual: releia e tente de novo."),
    )
