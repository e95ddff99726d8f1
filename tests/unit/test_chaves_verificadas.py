"""The fast path's memory of verified staff keys (``webapp.leitura_autenticada``): good
for one key generation only, never without one, and never for a refused key."""

from __future__ import annotations

import pytest

from domain.seguranca import Identidade
from webapp.leitura_autenticada import ChavesVerificadas, Recusa

STAFF = Identidade("staff", id="abc", nome="t", escopos=frozenset({"admin"}))


class Verificador:
    def __init__(self, resposta=STAFF):
        self.resposta, self.vezes = resposta, 0

    def __call__(self):
        self.vezes += 1
        return self.resposta


def test_a_key_is_verified_once_per_generation():
    memoria, verificar = ChavesVerificadas(), Verificador()
    for _ in range(3):
        assert memoria.identidade("ponte_x", b"1", verificar) is STAFF
    assert verificar.vezes == 1
    assert memoria.identidade("ponte_x", b"2", verificar) is STAFF  # a key was revoked meanwhile
    assert verificar.vezes == 2


def test_without_a_generation_every_use_is_verified():
    memoria, verificar = ChavesVerificadas(), Verificador()
    for _ in range(3):
        memoria.identidade("ponte_x", None, verificar)
    assert verificar.vezes == 3


def test_a_refused_key_is_forgotten_and_refused():
    memoria = ChavesVerificadas()
    memoria.identidade("ponte_x", b"1", Verificador())
    with pytest.raises(Recusa):
        memoria.identidade("ponte_x", b"2", Verificador(None))
    verificar = Verificador(None)
    with pytest.raises(Recusa):
        memoria.identidade("ponte_x", b"1", verificar)  # not served from the old entry
    assert verificar.vezes == 1


def test_an_entry_ages_out(monkeypatch):
    memoria, verificar = ChavesVerificadas(), Verificador()
    memoria.identidade("ponte_x", b"1", verificar)
    monkeypatch.setattr(ChavesVerificadas, "IDADE_S", 0)
    memoria.identidade("ponte_x", b"1", verificar)
    assert verificar.vezes == 2
