"""The ports of ``domain.ports`` against what fills them: each method of a port exists on
its MongoDB/Redis adapter and on its in-memory fake, with the same parameters (the first,
an id, may be named for a shared base class: it is always passed by position), so a
rename reaches all three."""

from __future__ import annotations

import inspect

import pytest

from adapters import (
    carrinhos_repository,
    envios_repository,
    estoque_repository,
    gateway_simulado,
    idempotencia_repository,
    lockout,
    pagamentos_repository,
    passwords,
    pedidos_repository,
    publicador,
    rejeitados_repository,
    repositories,
    sync_repositories,
    tokens,
)
from adapters.despachante import CeleryDespachante
from domain import ports
from tests import fakes, fakes_pedidos

IMPLEMENTACOES = [
    (ports.ProdutoRepository, repositories.MongoProdutoRepository, fakes.FakeProdutoRepository),
    (ports.ClienteRepository, repositories.MongoClienteRepository, fakes.FakeClienteRepository),
    (ports.ChaveRepository, repositories.MongoChaveRepository, fakes.FakeChaveRepository),
    (ports.AuditoriaRepository, repositories.MongoAuditoriaRepository, fakes.FakeAuditoriaRepository),
    (ports.RejeitadoRepository, rejeitados_repository.MongoRejeitadoRepository, fakes.FakeRejeitadoRepository),
    (ports.ProdutoSync, sync_repositories.MongoProdutoSync, None),
    (ports.ClienteSync, sync_repositories.MongoClienteSync, None),
    (ports.Despachante, CeleryDespachante, fakes.FakeDespachante),
    (ports.Publicador, publicador.RedisPublicador, fakes.FakePublicador),
    (ports.TokenService, tokens.JwtTokens, None),
    (ports.LoginGuard, lockout.RedisLoginGuard, None),
    (ports.PasswordHasher, passwords.Argon2Hasher, fakes.FakeHasher),
    (ports.CarrinhoRepository, carrinhos_repository.MongoCarrinhoRepository, fakes_pedidos.FakeCarrinhoRepository),
    (ports.PedidoRepository, pedidos_repository.MongoPedidoRepository, fakes_pedidos.FakePedidoRepository),
    (
        ports.IdempotenciaRepository,
        idempotencia_repository.MongoIdempotenciaRepository,
        fakes_pedidos.FakeIdempotenciaRepository,
    ),
    (ports.Estoque, estoque_repository.MongoEstoque, fakes_pedidos.FakeEstoque),
    (ports.PagamentoRepository, pagamentos_repository.MongoPagamentoRepository, fakes_pedidos.FakePagamentoRepository),
    (ports.Gateway, gateway_simulado.GatewaySimulado, fakes_pedidos.FakeGateway),
    (ports.EnvioRepository, envios_repository.MongoEnvioRepository, fakes_pedidos.FakeEnvioRepository),
]


def _parametros(metodo) -> list[str]:
    nomes = list(inspect.signature(metodo).parameters)[1:]  # without self
    return ["<id>" if i == 0 and nome.endswith("_id") else nome for i, nome in enumerate(nomes)]


def _metodos(port) -> dict[str, list[str]]:
    return {
        nome: _parametros(f) for nome, f in vars(port).items() if inspect.isfunction(f) and not nome.startswith("_")
    }


@pytest.mark.parametrize(("port", "adapter", "fake"), IMPLEMENTACOES, ids=lambda c: getattr(c, "__name__", "-"))
def test_adapters_and_fakes_implement_every_method_of_their_port(port, adapter, fake):
    for impl in filter(None, (adapter, fake)):
        for nome, parametros in _metodos(port).items():
            assert hasattr(impl, nome), f"{impl.__name__} lacks {port.__name__}.{nome}"
            assert _parametros(getattr(impl, nome)) == parametros, f"{impl.__name__}.{nome}"


def test_every_field_of_the_contexto_is_typed_with_a_port():
    from services.contexto import Contexto

    soltos = [nome for nome, tipo in Contexto.__annotations__.items() if "Any" in str(tipo)]
    assert soltos == []
