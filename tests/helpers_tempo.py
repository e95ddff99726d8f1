"""What a timestamp in a response must look like: ISO 8601 with its offset."""

from __future__ import annotations

import re
from datetime import datetime

# Anything a client might take for a date: ISO-like, or HTTP dates (``Wed, 02 Dec 2026 ...``).
_PARECE_DATA = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d|^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4}")
# A date and time with seconds, microseconds and an explicit offset: 2026-12-02T00:43:10.123000+00:00
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}$")


def instantes_fora_do_padrao(valor, caminho: str = "$") -> list[str]:
    """Paths and values of timestamps in ``valor`` (a JSON document) that are not ISO 8601
    with an offset: any key ``em`` or ``*_em`` holding a string, and any string shaped like a date."""
    fora: list[str] = []
    if isinstance(valor, dict):
        for chave, item in valor.items():
            sub = f"{caminho}.{chave}"
            if isinstance(item, str) and (chave == "em" or chave.endswith("_em")) and not _iso(item):
                fora.append(f"{sub}={item!r}")
            else:
                fora += instantes_fora_do_padrao(item, sub)
    elif isinstance(valor, list):
        for n, item in enumerate(valor):
            fora += instantes_fora_do_padrao(item, f"{caminho}[{n}]")
    elif isinstance(valor, str) and _PARECE_DATA.match(valor) and not _iso(valor):
        fora.append(f"{caminho}={valor!r}")
    return fora


def _iso(texto: str) -> bool:
    if not _ISO.match(texto):
        return False
    return datetime.fromisoformat(texto).utcoffset() is not None
