"""Customer invariants: e-mail, address like the CRM's, password bounds."""

import json

import pytest

from domain.clientes import Endereco, normalizar_campos, normalizar_email, normalizar_endereco
from domain.errors import DadosInvalidos
from tests.helpers import JAVA_EVENTS


def test_email_key_is_case_insensitive():
    assert normalizar_email("  Maria@Example.COM ") == "maria@example.com"


def test_crm_address_accepted_without_complemento():
    evento = json.loads((JAVA_EVENTS / "canal-clientes.json").read_text(encoding="utf-8"))
    endereco = normalizar_endereco(evento["endereco"])
    assert endereco == Endereco(
        rua="Rua 10", numero="100", bairro="Setor Oeste", cidade="Goiânia", estado="GO", cep="74000-000"
    )


@pytest.mark.parametrize(
    ("campo", "valor"), [("estado", "Goias"), ("cep", "7400"), ("cep", "٧٤٠٠٠-٠٠٠"), ("rua", "  "), ("cidade", None)]
)
def test_bad_address_reported_under_endereco(campo, valor):
    base = {"rua": "R", "numero": "1", "bairro": "B", "cidade": "C", "estado": "GO", "cep": "74000000"}
    base[campo] = valor
    with pytest.raises(DadosInvalidos) as exc:
        normalizar_endereco(base)
    assert campo in exc.value.errors["endereco"]


def test_password_rules_and_required_fields():
    with pytest.raises(DadosInvalidos) as exc:
        normalizar_campos({"senha": "curta"}, completo=True)
    assert set(exc.value.errors) == {"nome", "email", "senha"}
    with pytest.raises(DadosInvalidos):
        normalizar_campos({"senha": None}, completo=False)
    assert normalizar_campos({"senha": " com espaço "}, completo=False) == {"senha": " com espaço "}


def test_invalid_email_refused():
    with pytest.raises(DadosInvalidos):
        normalizar_campos({"email": "sem-arroba"}, completo=False)
