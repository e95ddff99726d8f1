"""Helpers every service module shares."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import NaoEncontrado, VersaoDesatualizada


def agora() -> datetime:
    """Current UTC time at millisecond precision, the precision MongoDB keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def falha_de_escrita(existe: bool, recurso: str) -> Exception:
    """Why a conditional write matched nothing: gone (404) or changed meanwhile (412)."""
    if not existe:
        return NaoEncontrado(f"{recurso} não encontrado.")
    return VersaoDesatualizada(f"{recurso} foi alterado por outra requisição; releia e tente de novo.")
