"""Money: exact ``Decimal`` values in reais with centavo precision.

Prices never pass through ``float``: the API parses JSON numbers straight into
``Decimal`` and MongoDB stores ``Decimal128``, so 0.1 + 0.2 is 0.3 everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.errors import DadosInvalidos

CENTAVO = Decimal("0.01")
# A ceiling far above any real price; it keeps Decimal128 and totals well inside range
# and turns typos such as 1e30 into a validation error instead of a stored value.
PRECO_MAXIMO = Decimal("1000000000")


def parse_preco(valor: object, campo: str = "preco") -> Decimal:
    """Return ``valor`` as a price quantized to centavos, or raise ``DadosInvalidos``.

    Accepts ``Decimal`` or ``int`` (what strict JSON parsing yields for numbers). Refuses
    ``float`` (already lossy), strings, booleans, NaN/infinity, negatives, values above
    ``PRECO_MAXIMO`` and anything with more than two decimal places: rounding a price
    would be guessing.
    """

    def erro(msg: str) -> DadosInvalidos:
        return DadosInvalidos({campo: [msg]})

    if isinstance(valor, (bool, float)):
        raise erro("Preço deve ser um número exato (decimal), não ponto flutuante.")
    if isinstance(valor, Decimal):
        dec = valor
    elif isinstance(valor, int):
        dec = Decimal(valor)
    else:
        raise erro("Preço não é um número.")
    if not dec.is_finite():
        raise erro("Preço deve ser finito.")
    if dec < 0:
        raise erro("Preço não pode ser negativo.")
    if dec > PRECO_MAXIMO:
        raise erro(f"Preço acima do máximo ({PRECO_MAXIMO}).")
    quantizado = dec.quantize(CENTAVO)
    if quantizado != dec:
        raise erro("Preço com mais de duas casas decimais.")
    return quantizado


def somar(valores: Iterable[Decimal]) -> Decimal:
    """Exact sum of money values, quantized to centavos."""
    return sum(valores, Decimal("0")).quantize(CENTAVO)
