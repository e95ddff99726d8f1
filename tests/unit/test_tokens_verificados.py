"""``JwtTokens.decodificar`` remembers a verified token until it expires, and never longer;
only tokens it verified, under the same key."""

from __future__ import annotations

import time

import jwt
import pytest

from adapters.tokens import AUDIENCE, JwtTokens
from domain.seguranca import NaoAutenticado
from tests.helpers import wait_for


def _recusado(t: JwtTokens, token: str) -> bool:
    try:
        t.decodificar(token)
    except NaoAutenticado:
        return True
    return False


def test_a_remembered_token_still_expires():
    t = JwtTokens("s" * 32, 1, None, "p")  # a one-second token
    token, _ = t.emitir("cliente-1")
    assert t.decodificar(token)["sub"] == "cliente-1"  # verified, remembered
    wait_for(lambda: _recusado(t, token), timeout=5, what="the remembered token to expire")


def test_another_key_does_not_reuse_what_one_key_verified():
    token, _ = JwtTokens("a" * 32, 60, None, "p").emitir("cliente-1")
    JwtTokens("a" * 32, 60, None, "p").decodificar(token)
    with pytest.raises(NaoAutenticado):
        JwtTokens("b" * 32, 60, None, "p").decodificar(token)


def test_a_forged_token_is_refused_every_time():
    agora = int(time.time())
    claims = {"sub": "x", "aud": AUDIENCE, "iat": agora, "exp": agora + 60, "jti": "j"}
    forjado = jwt.encode(claims, "outra-chave-" * 3, algorithm="HS256")
    t = JwtTokens("s" * 32, 60, None, "p")
    for _ in range(2):
        with pytest.raises(NaoAutenticado):
            t.decodificar(forjado)
