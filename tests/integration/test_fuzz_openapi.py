"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every check schemathesis has (``schemathesis.checks.CHECKS``: no 5xx, status codes,
content types, headers and bodies as documented, schema-valid data accepted and invalid
data refused, undeclared methods, required headers, authentication really enforced, ...)
runs for each operation as staff, as a customer and without a credential, plus a check
that every timestamp in a JSON body is ISO 8601 with its offset. Bounded here (3 examples
and 30 s per operation; about 80 s for the file on two busy cores); a longer run:
``FUZZ_EXAMPLES=300 FUZZ_TIMEOUT_S=600``, or the live-server command in the README ("Fuzzing").
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import make_key
from tests.helpers_tempo import instantes_fora_do_padrao

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
# Each operation's run is bounded in time too (its coverage phase is not bounded by EXAMPLES).
pytestmark = pytest.mark.timeout(int(os.environ.get("FUZZ_TIMEOUT_S", "30")))

load_all_checks()
TODAS = [c for c in CHECKS.get_all() if not isinstance(c, type)]


def _spec() -> dict:
    """The OpenAPI document, built without any server (create_app connects to nothing)."""
    from webapp import create_app

    app = create_app({"PONTE_ENV": "test"})
    with app.test_request_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        # Exactly what GET /openapi.json serves (Decimal bounds become JSON numbers).
        return json.loads(app.json.dumps(spec))


SPEC = _spec()


def _com_if_match(spec: dict) -> set[str]:
    return {
        f"{metodo.upper()} {path}"
        for path, item in spec["paths"].items()
        for metodo, op in item.items()
        if metodo != "parameters" and any(p.get("name") == "If-Match" for p in op.get("parameters", []))
    }


IF_MATCH_412 = (
    "If-Match is a valid header whatever its value, and a tag that is not the current version "
    "rightly gets 412 (RFC 9110 §13.1.1): a refusal this check counts as wrong."
)
# Schema-valid requests the server rightly refuses for what no schema can say: the state of
# the data, or a relation between two parameters. Each is a 422 with the rule in its message.
ESTADO_OU_RELACAO = {
    "GET /produtos": "preco_min > preco_max is refused (422): JSON Schema cannot relate two parameters; "
    "the description of preco_min says so.",
    "POST /carrinhos/me/itens": "a well-formed produto_id naming no visible product is a 422: the check "
    "cannot know which products exist.",
    "POST /pedidos": "checking out an empty cart is a 422: the check cannot fill the cart first.",
}

# Checks that misread the document for one operation, each with its reason.
EXCLUSOES: dict[str, list[tuple[object, str]]] = {}
for _op in _com_if_match(SPEC):
    EXCLUSOES.setdefault(_op, []).append((positive_data_acceptance, IF_MATCH_412))
for _op, _motivo in ESTADO_OU_RELACAO.items():
    EXCLUSOES.setdefault(_op, []).append((positive_data_acceptance, _motivo))


@schemathesis.check
def timestamps_iso8601(ctx, response, case):
    """Every timestamp in every JSON body is ISO 8601 with its offset (section 4 of issue 15)."""
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        return None
    fora = instantes_fora_do_padrao(json.loads(response.content or b"null"))
    assert not fora, f"timestamps not in ISO 8601 with offset: {fora}"
    return None


schema = schemathesis.openapi.from_dict(SPEC)
# Ponte refuses a NUL character in any JSON string (400, like a lone surrogate: docs/api.md),
# a rule of the transport that OpenAPI 3.0 cannot state without a pattern on every string.
schema.config.generation.update(allow_x00=False)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": False}


@pytest.fixture
def customer_token(app):
    c = app.test_client()
    c.post("/clientes", json={"nome": "Fuzz", "email": "fuzz@example.com", "senha": "senha-fuzz-123"})
    return c.post("/auth/login", json={"email": "fuzz@example.com", "senha": "senha-fuzz-123"}).get_json()[
        "access_token"
    ]


def _chamar(case, app, headers: dict) -> None:
    # Checks that send requests of their own (ignored_auth, unsupported_method, ...) reach
    # the operation's app, so the app of this test is the schema's for this case.
    case.operation.app = case.operation.schema.app = app
    excluidas = [check for check, _motivo in EXCLUSOES.get(case.operation.label, [])]
    checks = [c for c in TODAS if c not in excluidas] + [timestamps_iso8601]
    case.call_and_validate(headers=headers, checks=checks)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_staff(case, app):
    if not hasattr(app, "_fuzz_key"):
        app._fuzz_key = make_key(app, ("admin",), "fuzz")
    _chamar(case, app, {"Authorization": f"Bearer {app._fuzz_key}"})


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_customer(case, app, customer_token):
    _chamar(case, app, {"Authorization": f"Bearer {customer_token}"})


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_anonymous(case, app):
    _chamar(case, app, {})
