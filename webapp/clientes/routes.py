"""Routes of ``/clientes``: thin views over ``services.clientes``.

Staff see and change every customer; a customer sees and changes only their own
record (``/clientes/me`` or their id; anyone else's id is a 404); anybody without a
credential may register (self-registration creates a customer, never staff).
"""

from __future__ import annotations

from flask.views import MethodView

from domain.clientes import montar_filtro
from domain.seguranca import SO_CLIENTE, anonimo_ou_staff, staff, staff_ou_dono
from services import clientes
from webapp.blueprint import Blueprint
from webapp.clientes.schemas import ClientePatchSchema, ClienteQueryArgsSchema, ClienteSchema, NovoClienteSchema
from webapp.deps import contexto, paginar, tokens
from webapp.etag import com_etag, doc_escrita, doc_etag, doc_leitura, versao_esperada
from webapp.security import acesso, identidade

blp = Blueprint("clientes", __name__, url_prefix="/clientes", description="Clientes da loja")

LEITURA = staff_ou_dono("clientes:read", "cliente_id")
ESCRITA = staff_ou_dono("clientes:write", "cliente_id")


@blp.route("")
class Clientes(MethodView):
    @acesso(staff("clientes:read"))
    @blp.arguments(ClienteQueryArgsSchema, location="query")
    @blp.response(200, ClienteSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List customers, filtered by e-mail or name"""
        return paginar(pagination_parameters, clientes.listar, montar_filtro(**args))

    @acesso(anonimo_ou_staff("clientes:write"))
    @blp.arguments(NovoClienteSchema)
    @blp.response(201, ClienteSchema)
    @blp.alt_response(409, description="E-mail já cadastrado")
    @doc_etag(blp, 201)
    def post(self, dados):
        """Register a customer (self-registration without a credential)"""
        return com_etag(clientes.criar(contexto(), dados), 201)


@blp.route("/me")
class ClienteAtual(MethodView):
    @acesso(SO_CLIENTE)
    @blp.response(200, ClienteSchema)
    @doc_leitura(blp)
    def get(self):
        """The logged-in customer's own record"""
        return com_etag(clientes.obter(contexto(), identidade().id))

    @acesso(SO_CLIENTE)
    @blp.arguments(ClientePatchSchema(partial=True))
    @blp.response(200, ClienteSchema)
    @doc_escrita(blp)
    def patch(self, dados):
        """Change the logged-in customer's own record"""
        return com_etag(clientes.alterar(contexto(), identidade().id, dados, tokens=tokens(), versao=versao_esperada()))


@blp.route("/<id:cliente_id>")
class ClientePorId(MethodView):
    @acesso(LEITURA)
    @blp.response(200, ClienteSchema)
    @doc_leitura(blp)
    def get(self, cliente_id):
        """Get one customer (ETag = its version)"""
        return com_etag(clientes.obter(contexto(), cliente_id))

    @acesso(ESCRITA)
    @blp.arguments(ClienteSchema)
    @blp.response(200, ClienteSchema)
    @doc_escrita(blp)
    def put(self, dados, cliente_id):
        """Replace a customer (without senha the password is kept)"""
        cliente = clientes.alterar(
            contexto(), cliente_id, dados, tokens=tokens(), versao=versao_esperada(), substituir=True
        )
        return com_etag(cliente)

    @acesso(ESCRITA)
    @blp.arguments(ClientePatchSchema(partial=True))
    @blp.response(200, ClienteSchema)
    @doc_escrita(blp)
    def patch(self, dados, cliente_id):
        """Change some fields of a customer (endereco is replaced whole)"""
        return com_etag(clientes.alterar(contexto(), cliente_id, dados, tokens=tokens(), versao=versao_esperada()))

    @acesso(staff("clientes:write"))
    @blp.response(204)
    @doc_escrita(blp, status=None)
    def delete(self, cliente_id):
        """Delete a customer and their personal data (staff only)"""
        clientes.remover(contexto(), cliente_id, tokens=tokens(), versao=versao_esperada())
