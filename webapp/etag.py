"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in.

A resource's ETag is its ``versao``. ``If-Match`` turns into the version a write is
conditional on; the repository then performs an atomic compare-and-set, so two
clients editing the same produto cannot silently overwrite each other.
"""

from __future__ import annotations

from flask import request

# No stored version is negative: a tag we cannot parse can never match, so the
# write fails with 412 as RFC 9110 requires for a non-matching If-Match.
NUNCA = -1


def etag_de(versao: int) -> str:
    return f'"{versao}"'


def versao_esperada() -> int | None:
    """The version ``If-Match`` requires, or None when the client sent none (or ``*``)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    tags = sorted(if_match.as_set(include_weak=False))
    for tag in tags:
        if tag.isdigit():
            return int(tag)
    return NUNCA


def com_etag(entidade, status: int = 200):
    """View return value carrying the entity's ETag."""
    return entidade, status, {"ETag": etag_de(entidade.versao)}
