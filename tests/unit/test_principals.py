"""docs/security.md's table of principals against what production is configured with: the
Redis ACL rules, the compose file's URLs, the MongoDB user script, Prometheus's scrape jobs."""

from __future__ import annotations

import re

import yaml

from deploy import redis_acl
from tests.helpers import ROOT

SERVICES = {"web": "web", "worker": "worker", "bridge": "bridge", "beat": "beat", "Flower": "flower"}


def principals() -> dict[str, dict[str, str]]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    block = text.split("<!-- principals:start -->")[1].split("<!-- principals:end -->")[0].strip().splitlines()
    header = [c.strip() for c in block[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block[2:]]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def codes(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def test_every_redis_user_of_the_table_is_in_the_acl_and_the_other_way_round():
    users = {codes(p["Redis user"]).pop() for p in principals().values() if p["Redis user"] != "none"}
    assert users == set(redis_acl.PASSWORD_VARIABLES)


def test_the_crm_rows_say_exactly_what_the_acl_grants():
    table = principals()
    publisher = codes(table["CRM (publisher)"]["Redis rights"])
    assert publisher == {"PUBLISH", "XADD", "GET", *redis_acl.CRM_CHANNELS, redis_acl.STREAM, redis_acl.STREAM_EPOCH}
    assert f"&{redis_acl.CRM_CHANNELS[0]}" in redis_acl._RULES[redis_acl.CRM]
    assert "-@all +publish +xadd +get +ping" in redis_acl._RULES[redis_acl.CRM]
    assert f"%R~{redis_acl.STREAM_EPOCH}" in redis_acl._RULES[redis_acl.CRM]  # read only
    assert codes(table["CRM (order feed)"]["Redis rights"]) == {"SUBSCRIBE", redis_acl.ORDER_CHANNEL}
    assert "-@all +subscribe" in redis_acl._RULES[redis_acl.CRM_PEDIDOS]
    assert "-@admin -@dangerous" in redis_acl._RULES[redis_acl.PONTE]


def test_each_service_connects_as_the_table_says():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for principal, service in SERVICES.items():
        row, env = principals()[principal], compose[service]["environment"]
        assert re.match(r"rediss?://([^:]+):", env["REDIS_URL"]).group(1) == codes(row["Redis user"]).pop()
        if row["MongoDB"] != "none":
            assert re.match(r"mongodb://([^:]+):", env["MONGO_URI"]).group(1) == "ponte"


def test_the_mongodb_user_has_read_write_on_its_database_only():
    script = (ROOT / "deploy" / "mongo" / "init-ponte-user.js").read_text()
    assert re.findall(r"role: \"(\w+)\"", script) == ["readWrite"]
    assert 'user: "ponte"' in script and "readWrite" in principals()["web"]["MongoDB"]


def test_prometheus_reaches_only_what_its_row_says():
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    auth = {job["job_name"]: job.get("authorization") or job.get("basic_auth") for job in scrape}
    assert principals()["Prometheus"]["Redis user"] == "none" and principals()["Prometheus"]["MongoDB"] == "none"
    assert any(a and a.get("type") == "Bearer" for a in auth.values())
    assert any(a and a.get("username") == "admin" for a in auth.values())
