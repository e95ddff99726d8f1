"""Routes of ``/auditoria``."""

from __future__ import annotations

from flask.views import MethodView

from domain.auditoria import AuditoriaFiltro
from domain.seguranca import staff
from services import auditoria
from webapp.auditoria.schemas import AuditoriaQueryArgsSchema, RegistroAuditoriaSchema
from webapp.blueprint import Blueprint
from webapp.deps import paginar
from webapp.security import acesso

blp = Blueprint("auditoria", __name__, url_prefix="/auditoria", description="Trilha de auditoria")


@blp.route("")
class Auditoria(MethodView):
    @acesso(staff("audit:read"))
    @blp.arguments(AuditoriaQueryArgsSchema, location="query")
    @blp.response(200, RegistroAuditoriaSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Who changed what and when, newest first, filterable"""
        return paginar(pagination_parameters, auditoria.listar, AuditoriaFiltro(**args))
