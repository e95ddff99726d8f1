"""Routes of ``/auth``. Log-in has its own, stricter rate limit (see ``webapp.limits``)."""

from __future__ import annotations

from flask.views import MethodView

from domain.seguranca import PUBLICO, SO_CLIENTE
from services import auth
from webapp.auth.schemas import LoginSchema, TokenSchema
from webapp.blueprint import Blueprint
from webapp.deps import contexto, login_guard, tokens
from webapp.security import acesso, identidade

# Two blueprints so that log-in alone gets the stricter rate limit; each is a tag of the
# document, so each says what it holds.
blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sessão do cliente: renovar ou revogar o token")
login_blp = Blueprint(
    "auth_login",
    __name__,
    url_prefix="/auth",
    description="Login de clientes: e-mail e senha por um token (limite de tentativas próprio)",
)


def _token(token: str, ttl: int, cliente_id: str) -> dict:
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "cliente_id": cliente_id}


@login_blp.route("/login")
class Login(MethodView):
    @acesso(PUBLICO)
    @login_blp.arguments(LoginSchema)
    @login_blp.response(200, TokenSchema)
    @login_blp.alt_response(429, description="Muitas tentativas (Retry-After)")
    def post(self, dados):
        """Log a customer in with e-mail and senha; returns a short-lived bearer token"""
        return _token(*auth.login(contexto(), tokens(), login_guard(), dados["email"], dados["senha"]))


@blp.route("/refresh")
class Refresh(MethodView):
    @acesso(SO_CLIENTE)
    @blp.response(200, TokenSchema)
    def post(self):
        """Exchange a still-valid token for a fresh one (the old one is revoked)"""
        return _token(*auth.renovar(contexto(), tokens(), identidade()), identidade().id)


@blp.route("/logout")
class Logout(MethodView):
    @acesso(SO_CLIENTE)
    @blp.response(204)
    def post(self):
        """Revoke the token used for this request"""
        auth.logout(contexto(), tokens(), identidade())
