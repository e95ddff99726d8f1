"""The event contract served by the app (/asyncapi.json, /asyncapi.yaml) and its page
(/docs/eventos), every asset of which the app serves itself."""

import json
import re

from adapters import contrato


def test_the_contract_is_served_as_json_and_as_the_yaml_file_itself(anon):
    resp = anon.get("/asyncapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert json.loads(resp.data) == contrato.documento()
    yaml_resp = anon.get("/asyncapi.yaml")
    assert yaml_resp.status_code == 200 and yaml_resp.mimetype == "application/yaml"
    assert yaml_resp.data == contrato.CAMINHO.read_bytes()


def test_the_events_page_and_every_asset_it_references_are_served_locally(anon):
    resp = anon.get("/docs/eventos")
    assert resp.status_code == 200
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    html = resp.get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/asyncapi.yaml" in refs and len(refs) >= 3
    for ref in refs:
        assert ref.startswith("/"), f"/docs/eventos loads {ref} from outside the app"
        asset = anon.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.data) > 1000, ref
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP forbids it
