"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Bounded here (a few examples per operation, as staff and as a customer): no 5xx, and
every response conforms to the documented status codes, content types and schemas. A
longer run against a live server is a documented command (README, "Fuzzing").
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_key

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# A longer run: FUZZ_EXAMPLES=300 scripts/test.sh tests/integration/test_fuzz_openapi.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


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


def _spec() -> dict:
    """The OpenAPI document, built without any server (create_app connects to nothing)."""
    from webapp import create_app

    app = create_app({"PONTE_ENV": "test"})
    with app.test_request_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        # Exactly what GET /openapi.json serves (Decimal bounds become JSON numbers).
        return json.loads(app.json.dumps(spec))


# Loaded from the document itself; each test sends its cases to the fixture's app
# (schemathesis' lazy fixture loader does not support pytest 9 yet).
schema = schemathesis.openapi.from_dict(_spec())

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_staff(case, app):
    key = make_key(app, ("admin",), "fuzz") if not hasattr(app, "_fuzz_key") else app._fuzz_key
    app._fuzz_key = key
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_customer(case, app, customer_token):
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {customer_token}"}, checks=CHECKS)
