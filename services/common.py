"""Helpers every service module shares."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import Conflito, NaoEncontrado, VersaoDesatualizada
from domain.ports import VersaoEsperada


def agora() -> datetime:
    """Current UTC time at millisecond precision, the precision MongoDB keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def falha_de_escrita(existe: bool, recurso: str, versao: VersaoEsperada | None = None) -> Exception:
    """Why a conditional write matched nothing.

    Gone: 404. The client's ``If-Match`` version is stale: 412. Otherwise a newer change
    (a CRM event received after this request began) won the race: 409.
    """
    if not existe:
        return NaoEncontrado(f"{recurso} não encontrado.")
    if versao is not None:
        return VersaoDesatualizada(f"{recurso} foi alterado por outra requisição; releia e tente de novo.")
    return Conflito(f"{recurso} foi alterado ao mesmo tempo por uma mudança mais recente; releia e tente de novo.")
