"""Customer log-in, tokens (expiry, signature, revocation), lock-out and rate limits."""

from __future__ import annotations

import time

import jwt
import pytest

from adapters.tokens import AUDIENCE, JwtTokens

SENHA = "senha-forte-123"


@pytest.fixture
def cliente(anon):
    resp = anon.post("/clientes", json={"nome": "Maria", "email": "maria@example.com", "senha": SENHA})
    assert resp.status_code == 201
    return resp.get_json()


def login(c, email="maria@example.com", senha=SENHA):
    return c.post("/auth/login", json={"email": email, "senha": senha})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_gives_a_token_for_own_record_only(anon, cliente):
    resp = login(anon, email="MARIA@example.com")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["cliente_id"] == cliente["id"]
    token = body["access_token"]
    me = anon.get("/clientes/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["id"] == cliente["id"]
    assert anon.get(f"/clientes/{cliente['id']}", headers=bearer(token)).status_code == 200
    assert anon.patch("/clientes/me", json={"telefone": "123"}, headers=bearer(token)).get_json()["telefone"] == "123"


def test_wrong_password_and_unknown_email_look_the_same(anon, cliente):
    a, b = login(anon, senha="errada-123"), login(anon, email="ninguem@example.com")
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()
    assert a.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_email_still_runs_a_password_verification(app, anon, cliente, monkeypatch):
    """Equal cost for unknown e-mails: no shortcut that would time-leak who is registered."""
    hasher = app.extensions["ponte"].hasher
    calls = []
    real = hasher.verify
    monkeypatch.setattr(hasher, "verify", lambda h, s: calls.append(h) or real(h, s))
    login(anon, email="ninguem@example.com")
    login(anon, senha="errada-123")
    assert len(calls) == 2
    assert all(h.startswith("$argon2id$") for h in calls)


def test_expired_forged_and_malformed_tokens_are_401(app, anon, cliente):
    res = app.extensions["ponte"]
    with app.app_context():
        expired, _ = JwtTokens(app.config["SECRET_KEY"], -10, res.redis.client, "x").emitir(cliente["id"])
    forged = jwt.encode(
        {"sub": cliente["id"], "aud": AUDIENCE, "iat": 1, "exp": 4102444800, "jti": "x"}, "not-the-secret" * 3
    )
    unsigned = jwt.encode(
        {"sub": cliente["id"], "aud": AUDIENCE, "iat": 1, "exp": 4102444800, "jti": "y"}, None, "none"
    )
    for token in (expired, forged, unsigned, "garbage", "a.b.c"):
        resp = anon.get("/clientes/me", headers=bearer(token))
        assert resp.status_code == 401, token
        assert resp.get_json()["code"] == 401
    # A bad credential is refused even on a public route.
    assert anon.get("/produtos", headers=bearer("garbage")).status_code == 401
    assert anon.get("/produtos", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_logout_revokes_and_refresh_rotates(anon, cliente):
    token = login(anon).get_json()["access_token"]
    novo = anon.post("/auth/refresh", headers=bearer(token))
    assert novo.status_code == 200
    token2 = novo.get_json()["access_token"]
    assert token2 != token
    assert anon.get("/clientes/me", headers=bearer(token)).status_code == 401  # rotated out
    assert anon.get("/clientes/me", headers=bearer(token2)).status_code == 200
    assert anon.post("/auth/logout", headers=bearer(token2)).status_code == 204
    assert anon.get("/clientes/me", headers=bearer(token2)).status_code == 401


def test_deleted_customer_cannot_refresh(client, anon, cliente):
    token = login(anon).get_json()["access_token"]
    assert client.delete(f"/clientes/{cliente['id']}").status_code == 204
    assert anon.post("/auth/refresh", headers=bearer(token)).status_code == 401


class TestLockout:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LOGIN_MAX_FAILURES": 3, "LOGIN_LOCKOUT_S": 120, "RATELIMIT_LOGIN": "1000 per minute"}

    def test_account_locked_after_failures_even_for_the_right_password(self, anon, cliente):
        for _ in range(3):
            assert login(anon, senha="errada-123").status_code == 401
        locked = login(anon)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= 120
        assert locked.get_json()["code"] == 429
        # Another account is not affected.
        anon.post("/clientes", json={"nome": "João", "email": "joao@example.com", "senha": SENHA})
        assert login(anon, email="joao@example.com").status_code == 200

    def test_parallel_guesses_get_no_more_tries_than_the_limit(self, app, cliente):
        """The attempt is counted before the (slow) password check: 12 simultaneous wrong
        guesses get 3 password checks (401), the rest 429, not 12 checks."""
        import threading

        barrier, statuses = threading.Barrier(12), []

        def guess():
            c = app.test_client()
            barrier.wait()
            statuses.append(login(c, senha="errada-123").status_code)

        threads = [threading.Thread(target=guess) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [401] * 3 + [429] * 9

    def test_success_resets_the_failure_count(self, anon, cliente):
        for _ in range(2):
            login(anon, senha="errada-123")
        assert login(anon).status_code == 200
        for _ in range(2):
            login(anon, senha="errada-123")
        assert login(anon).status_code == 200


class TestRateLimits:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_DEFAULT": "5 per minute", "RATELIMIT_LOGIN": "2 per minute"}

    def test_default_limit_per_client_is_429_with_retry_after(self, anon):
        statuses = [anon.get("/produtos").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        resp = anon.get("/produtos")
        assert resp.get_json()["code"] == 429
        assert 0 < int(resp.headers["Retry-After"]) <= 61  # ceil of the window's remaining time
        # Another client address has its own budget; health probes are never limited.
        other = anon.get("/produtos", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 200
        assert all(anon.get("/health").status_code == 200 for _ in range(10))

    def test_login_has_a_stricter_limit(self, anon, cliente):
        assert [login(anon, senha="errada-123").status_code for _ in range(3)] == [401, 401, 429]

    def test_guessing_keys_is_throttled_too(self, anon):
        statuses = [anon.get("/clientes", headers=bearer(f"ponte_{i:08d}_{'x' * 40}")).status_code for i in range(6)]
        assert statuses == [401] * 5 + [429]


@pytest.mark.parametrize("excesso_s", [60, 10 * 365 * 86400])
def test_a_token_living_longer_than_the_ttl_is_refused_even_when_signed(app, anon, cliente, excesso_s):
    # Signed with the real secret (a leaked signing path, an old build): TOKEN_TTL_S is a
    # maximum lifetime from iat, whatever exp says.
    agora = time.time()
    claims = {"sub": cliente["id"], "aud": AUDIENCE, "iat": agora, "jti": f"longo-{excesso_s}"}
    claims["exp"] = int(agora) + app.config["TOKEN_TTL_S"] + excesso_s
    longo = jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256")
    assert anon.get("/clientes/me", headers=bearer(longo)).status_code == 401
    claims["exp"], claims["jti"] = int(agora) + app.config["TOKEN_TTL_S"], f"normal-{excesso_s}"
    normal = jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256")
    assert anon.get("/clientes/me", headers=bearer(normal)).status_code == 200
