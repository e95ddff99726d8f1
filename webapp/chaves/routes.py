"""Routes of ``/chaves`` (scope ``admin``)."""

from __future__ import annotations

from flask.views import MethodView

from domain.seguranca import staff
from services import chaves
from webapp.blueprint import Blueprint
from webapp.chaves.schemas import ChaveCriadaSchema, ChaveSchema
from webapp.deps import contexto
from webapp.security import acesso

blp = Blueprint("chaves", __name__, url_prefix="/chaves", description="Chaves de API da equipe")

ADMIN = staff("admin")


@blp.route("")
class Chaves(MethodView):
    @acesso(ADMIN)
    @blp.response(200, ChaveSchema(many=True))
    def get(self):
        """List staff keys by prefix (never the keys themselves)"""
        return chaves.listar(contexto())

    @acesso(ADMIN)
    @blp.arguments(ChaveSchema)
    @blp.response(201, ChaveCriadaSchema)
    def post(self, dados):
        """Create a staff key; the key is shown in this response only"""
        chave, texto = chaves.criar(contexto(), dados["nome"], dados["escopos"])
        return {**vars(chave), "chave": texto}


@blp.route("/<prefixo>")
class ChavePorPrefixo(MethodView):
    @acesso(ADMIN)
    @blp.response(204)
    @blp.alt_response(409, description="É a última chave admin ativa: crie outra antes de revogá-la.")
    def delete(self, prefixo):
        """Revoke a staff key (never the last active admin one)"""
        chaves.revogar(contexto(), prefixo)
