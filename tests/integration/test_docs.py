"""OpenAPI document, Swagger UI and ReDoc, served entirely by the app (no CDN)."""

import json
import re

import pytest


def test_openapi_document_lists_every_operation(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert set(paths["/produtos/{produto_id}"]) >= {"get", "put", "patch", "delete"}
    assert set(paths["/clientes"]) >= {"get", "post"}
    assert "/health" in paths and "/ready" in paths
    cliente = spec["components"]["schemas"]["Cliente"]["properties"]
    assert cliente["senha"].get("writeOnly") is True
    assert spec["components"]["schemas"]["Produto"]["properties"]["preco"]["type"] == "number"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_and_every_referenced_asset_are_served_locally(client, page):
    resp = client.get(page)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    refs += re.findall(r'spec-url="([^"]+)"', html)
    assert refs, "the page references no asset"
    for ref in refs:
        assert ref.startswith("/"), f"{page} loads {ref} from outside the app"
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.data) > 100, ref
    assert "/openapi.json" in html


def test_x_pagination_is_documented_as_the_json_text_it_is(client):
    """The header carries JSON text: documented as ``content: application/json`` (OpenAPI 3.0
    header serialization), not as an object in ``simple`` style (``total,3,page,1``)."""
    import jsonschema

    client.post("/produtos", json={"nome": "Café", "preco": 10, "estoque": 1})
    spec = client.get("/openapi.json").get_json()
    header = spec["components"]["headers"]["X_PAGINATION"]
    assert "schema" not in header
    schema = header["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PaginationMetadata"}
    pagination = spec["components"]["schemas"]["PaginationMetadata"]
    valor = json.loads(client.get("/produtos").headers["X-Pagination"])
    jsonschema.validate(valor, pagination)
    assert valor["total"] == 1
    listagens = [op for item in spec["paths"].values() for op in item.values() if "X-Pagination" in str(op)]
    assert listagens and all(
        op["responses"]["200"]["headers"]["X-Pagination"] == {"$ref": "#/components/headers/X_PAGINATION"}
        for op in listagens
    )


def test_each_tag_says_something_of_its_own(client):
    tags = client.get("/openapi.json").get_json()["tags"]
    descricoes = [t["description"] for t in tags]
    assert len(set(descricoes)) == len(descricoes), descricoes
