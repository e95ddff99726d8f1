"""Security headers, CSP per page, HSTS behind TLS proxies, CORS, OpenAPI security."""

from __future__ import annotations

import pytest


def test_security_headers_on_every_kind_of_response(anon, client):
    for resp in (anon.get("/produtos"), anon.get("/nada"), anon.post("/produtos", json={}), client.get("/clientes")):
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert "default-src 'none'" in h["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in h  # plain HTTP here
    assert client.get("/clientes").headers["Cache-Control"] == "no-store"


def test_anonymous_answers_with_tokens_or_personal_data_are_never_stored(anon):
    """Public reads may be revalidated (no-cache); an anonymous POST answers with a token
    or with the personal data just sent: no-store (RFC 6749 5.1 for tokens)."""
    assert anon.get("/produtos").headers["Cache-Control"] == "no-cache"
    novo = {"nome": "Ana", "email": "ana.cache@example.com", "senha": "senha-de-teste-1"}
    assert anon.post("/clientes", json=novo).headers["Cache-Control"] == "no-store"
    login = anon.post("/auth/login", json={"email": novo["email"], "senha": novo["senha"]})
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_get_a_csp_that_lets_them_render(anon, page):
    csp = anon.get(page).headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    html = anon.get(page).get_data(as_text=True)
    assert "<script>" not in html  # no inline script: the CSP forbids them


class TestBehindProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PROXY_COUNT": 1}

    def test_hsts_when_the_proxy_says_https(self, anon):
        resp = anon.get("/health", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Strict-Transport-Security" not in anon.get("/health").headers


def test_forwarded_headers_are_ignored_without_configured_proxies(anon):
    resp = anon.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in resp.headers


class TestCors:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "CORS_ORIGINS": "https://loja.example"}

    def test_only_configured_origins(self, anon):
        ok = anon.get("/produtos", headers={"Origin": "https://loja.example"})
        assert ok.headers["Access-Control-Allow-Origin"] == "https://loja.example"
        assert "ETag" in ok.headers["Access-Control-Expose-Headers"]
        other = anon.get("/produtos", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        pre = anon.options(
            "/produtos",
            headers={
                "Origin": "https://loja.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )
        assert pre.status_code == 200 and "POST" in pre.headers["Access-Control-Allow-Methods"]


def test_no_cors_by_default(anon):
    assert "Access-Control-Allow-Origin" not in anon.get("/produtos", headers={"Origin": "https://x.example"}).headers


def test_openapi_declares_security_schemes_and_per_operation_requirements(anon):
    spec = anon.get("/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["chaveStaff"]["scheme"] == "bearer"
    assert schemes["chaveStaffHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["tokenCliente"]["bearerFormat"] == "JWT"
    paths = spec["paths"]
    assert paths["/produtos"]["get"]["security"] == []
    assert {"chaveStaff": []} in paths["/produtos"]["post"]["security"]
    assert {"tokenCliente": []} not in paths["/produtos"]["post"]["security"]
    assert {"tokenCliente": []} in paths["/clientes/{cliente_id}"]["get"]["security"]
    assert {} in paths["/clientes"]["post"]["security"]  # anonymous self-registration
    for path, ops in paths.items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert "security" in op, f"{method.upper()} {path} documents no security"


def test_regex_bomb_text_is_matched_literally(client, anon):
    client.post("/produtos", json={"nome": "a" * 30, "preco": 1, "estoque": 1})
    client.post("/produtos", json={"nome": "x (a+)+$ y", "preco": 1, "estoque": 1})
    # As a pattern, (a+)+$ would match the first name (and backtrack on long inputs);
    # escaped, it only matches the literal text.
    resp = anon.get("/produtos?q=" + "(a%2B)%2B$")
    assert resp.status_code == 200
    assert [p["nome"] for p in resp.get_json()] == ["x (a+)+$ y"]


def test_ten_megabyte_body_is_413(client):
    resp = client.post("/produtos", data=b"{" + b" " * (10 * 1024 * 1024) + b"}", content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["code"] == 413
