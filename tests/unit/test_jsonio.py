"""JSON codec: exact decimals both ways, hostile input refused."""

from decimal import Decimal

import pytest

from webapp.jsonio import JSONDepthError, PonteJSONProvider, check_depth, loads


def test_loads_keeps_decimal_digits():
    assert loads('{"preco": 0.1, "n": 3}') == {"preco": Decimal("0.1"), "n": 3}
    assert loads("1.25E7") == Decimal("1.25E7")


@pytest.mark.parametrize("doc", ["NaN", '{"a": Infinity}', "-Infinity", "1" * 5000])
def test_loads_refuses_non_finite_and_absurd_numbers(doc):
    with pytest.raises(ValueError):
        loads(doc)


def test_depth_bounded():
    check_depth({"a": [{"b": 1}]}, 3)
    with pytest.raises(JSONDepthError):
        check_depth({"a": [{"b": [1]}]}, 3)


def test_dumps_decimal_as_number():
    from flask import Flask

    provider = PonteJSONProvider(Flask(__name__))
    assert provider.dumps({"preco": Decimal("0.30")}) == '{"preco":0.30}'
    assert provider.loads(provider.dumps([Decimal("0.1") + Decimal("0.2")])) == [Decimal("0.3")]
