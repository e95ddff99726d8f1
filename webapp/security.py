"""Authentication, authorization and protective HTTP headers.

Every request is authenticated before its view runs: ``Authorization: Bearer <key or
token>`` or ``X-API-Key: <key>``. A credential that is present but invalid is a 401,
even on public routes (a client with a broken key should learn it at once). Each view
declares its rule with ``@acesso(politica)``; a view without one refuses everybody,
so a forgotten rule fails closed (and the authorization matrix test fails).
"""

from __future__ import annotations

import functools
import logging

from flask import Flask, current_app, g, request

from domain.seguranca import ANONIMO, Identidade, NaoAutenticado, Politica, SemPermissao
from services import chaves
from webapp.docs import PUBLIC_ENDPOINTS

logger = logging.getLogger(__name__)

SECURITY_SCHEMES = {
    "chaveStaff": {
        "type": "http",
        "scheme": "bearer",
        "description": "Chave de API da equipe (ponte_...), em Authorization: Bearer.",
    },
    "chaveStaffHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "tokenCliente": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Token de cliente obtido em POST /auth/login.",
    },
}


# The OpenAPI security requirement each kind of policy documents.
_STAFF = [{"chaveStaff": []}, {"chaveStaffHeader": []}]
_CLIENTE = [{"tokenCliente": []}]


def _security_doc(politica: Politica) -> list[dict]:
    reqs: list[dict] = []
    if politica.anonimo:
        reqs.append({})
    if politica.staff:
        reqs += _STAFF
    if politica.cliente:
        reqs += _CLIENTE
    return reqs


def acesso(politica: Politica):
    """Declare and enforce a view's access rule (outermost decorator of the method)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            politica.verificar(identidade(), kwargs)
            return view(*args, **kwargs)

        wrapper._politica = politica
        apidoc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        if politica.anonimo and politica.cliente == "sim" and politica.staff:
            manual["security"] = []  # public: no credential needed
        else:
            manual["security"] = _security_doc(politica)
        apidoc["manual_doc"] = manual
        wrapper._apidoc = apidoc
        return wrapper

    return decorator


def identidade() -> Identidade:
    return g.get("identidade", ANONIMO)


def dono() -> str | None:
    """The customer whose data this request may see; None for staff (everything)."""
    ident = identidade()
    return ident.id if ident.tipo == "cliente" else None


def _credencial() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NaoAutenticado("Use Authorization: Bearer <credencial>.")
        return value.strip()
    key = request.headers.get("X-API-Key")
    return key.strip() if key is not None else None


def _authenticate():
    g.identidade = ANONIMO
    credencial = _credencial()
    if credencial is None:
        return
    res = current_app.extensions["ponte"]
    if credencial.startswith("ponte_"):
        ident = chaves.autenticar(res.chaves_repo(), credencial)
        if ident is None:
            raise NaoAutenticado("Chave de API inválida ou revogada.")
        g.identidade = ident
    else:
        g.identidade = res.tokens().verificar(credencial)


def politica_da_rota(endpoint: str | None, method: str) -> Politica | None:
    """The policy a view declared with ``@acesso`` for this endpoint and method."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    cls = getattr(view, "view_class", None)
    meth = getattr(cls, "get" if method == "HEAD" else method.lower(), None) if cls else None
    return getattr(meth, "_politica", None)


def _fail_closed():
    """Refuse any routed request whose view declared no access rule."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    cls = getattr(current_app.view_functions.get(endpoint), "view_class", None)
    method = "get" if request.method == "HEAD" else request.method.lower()
    if cls is not None and getattr(cls, method, None) is None:
        return  # routing answers 405 itself
    if politica_da_rota(endpoint, request.method) is None:
        logger.error("route %s %s has no access policy: refused", request.method, endpoint)
        raise SemPermissao("Rota sem regra de acesso declarada.")


# Swagger UI and ReDoc need their own scripts, inline styles (ReDoc injects them),
# data: images and blob: workers; everything else gets a deny-all policy.
CSP_API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
CSP_DOCS = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_PATHS = ("/docs", "/redoc", "/docs/eventos")


HSTS = "max-age=63072000; includeSubDomains"


def cabecalhos_fixos(*, anonimo: bool | None, csp: str = CSP_API) -> list[tuple[str, str]]:
    """Security headers of every answer (also used by ``webapp.leitura_rapida``);
    ``anonimo`` None for the docs, which set no Cache-Control."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
        ("Content-Security-Policy", csp),
    ]
    if anonimo is not None:
        # Personal data must not sit in shared caches; public reads may be revalidated (ETag).
        headers.append(("Cache-Control", "no-cache" if anonimo else "no-store"))
    return headers


_DOCS = cabecalhos_fixos(anonimo=None, csp=CSP_DOCS)
_DOCS_ASSETS = cabecalhos_fixos(anonimo=None)
_ANONIMO = cabecalhos_fixos(anonimo=True)
_PESSOAL = cabecalhos_fixos(anonimo=False)


def _security_headers(response):
    h = response.headers
    path = request.path
    if path in DOCS_PATHS:
        fixos = _DOCS
    elif path.startswith("/docs-assets"):
        fixos = _DOCS_ASSETS
    else:
        # Only an anonymous read is public: an anonymous POST answers with a token
        # (/auth/login) or the personal data just sent (/clientes), never to be stored.
        publico = identidade().tipo == "anonimo" and request.method in ("GET", "HEAD")
        fixos = _ANONIMO if publico else _PESSOAL
    for name, value in fixos:
        h.setdefault(name, value)
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", HSTS)
    h["X-Request-ID"] = g.get("request_id", "")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_authenticate)
    app.before_request(_fail_closed)
    app.after_request(_security_headers)
