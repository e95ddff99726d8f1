"""Configuration: defaults, environment, overrides; production fails fast."""

import pytest

import settings


def test_defaults_match_the_seed():
    cfg = settings.load({})
    assert cfg["MONGO_DB"] == "ecommerce"
    assert cfg["API_PORT"] == 8000
    assert cfg["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_environment_then_overrides():
    cfg = settings.load({"API_PORT": "9000", "REDIS_HOST": "cache", "REDIS_PORT": "6380"}, {"MONGO_DB": "x"})
    assert cfg["API_PORT"] == 9000
    assert cfg["REDIS_URL"] == "redis://cache:6380/0"
    assert cfg["MONGO_DB"] == "x"
    assert settings.load({"REDIS_URL": "redis://r:1/2", "REDIS_HOST": "ignored"})["REDIS_URL"] == "redis://r:1/2"


def test_production_refuses_to_start_without_connection_settings():
    with pytest.raises(settings.ConfigError, match="MONGO_URI, REDIS_URL"):
        settings.load({"PONTE_ENV": "production"})
    strong = "x" * 48
    cfg = settings.load(
        {
            "PONTE_ENV": "production",
            "MONGO_URI": "mongodb://db",
            "REDIS_HOST": "cache",
            "SECRET_KEY": strong,
            "TRUSTED_NETWORK": "true",  # REDIS_HOST builds a URL without credentials
        }
    )
    assert cfg["REDIS_URL"] == "redis://cache:6379/0"


@pytest.mark.parametrize(
    "partial", [{"REDIS_PORT": "6380"}, {"REDIS_DB": "2"}, {"REDIS_PORT": "6380", "REDIS_DB": "2"}]
)
def test_production_refuses_a_redis_port_or_db_without_a_host(partial):
    # Without REDIS_HOST (or REDIS_URL) the URL would still be built for 127.0.0.1.
    env = {"PONTE_ENV": "production", "MONGO_URI": "mongodb://db", "SECRET_KEY": "x" * 48, "TRUSTED_NETWORK": "1"}
    env |= partial
    with pytest.raises(settings.ConfigError, match=r"REDIS_URL \(or REDIS_HOST\)"):
        settings.load(env)
    cfg = settings.load({**env, "REDIS_HOST": "cache"})
    assert cfg["REDIS_URL"].startswith("redis://cache:")


@pytest.mark.parametrize("secret", [None, "", "short", settings.DEV_SECRET_KEY])
def test_production_refuses_a_missing_weak_or_default_secret(secret):
    env = {"PONTE_ENV": "production", "MONGO_URI": "mongodb://db", "REDIS_URL": "redis://r"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(settings.ConfigError, match="SECRET_KEY"):
        settings.load(env)


def test_development_gets_the_dev_secret_and_parsed_security_settings():
    cfg = settings.load({"CORS_ORIGINS": "https://loja.example, https://admin.example", "RATELIMIT_ENABLED": "0"})
    assert cfg["SECRET_KEY"] == settings.DEV_SECRET_KEY
    assert cfg["CORS_ORIGINS"] == ["https://loja.example", "https://admin.example"]
    assert cfg["RATELIMIT_ENABLED"] is False
    with pytest.raises(settings.ConfigError):
        settings.load({"TLS_CERTFILE": "cert.pem"})


@pytest.mark.parametrize(
    "env",
    [
        {"API_PORT": "eighty"},
        {"PONTE_ENV": "staging"},
        {"MAX_JSON_DEPTH": "1"},
        {"BRIDGE_BATCH_MAX": "0"},
        {"BRIDGE_BATCH_ESPERA_MS": "-1"},
        {"BACKUP_INTERVAL_S": "0"},
        {"BACKUP_KEEP": "0"},
    ],
)
def test_invalid_values_refused(env):
    with pytest.raises(settings.ConfigError):
        settings.load(env)


def test_app_factory_fails_fast_in_production(monkeypatch):
    from webapp import create_app

    monkeypatch.setenv("PONTE_ENV", "production")
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(settings.ConfigError):
        create_app()


def _stack_file(tmp_path, monkeypatch, text: str):
    monkeypatch.setenv("PONTE_VAR_DIR", str(tmp_path))
    for key in ("PONTE_ENV", "MONGO_URI", "REDIS_URL", "REDIS_HOST", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    (tmp_path / settings.STACK_FILE).write_text(text)


def test_a_command_beside_make_run_finds_the_stores_it_chose(tmp_path, monkeypatch):
    # `flask --app wsgi dead-letters list` while `make run` picked other ports.
    _stack_file(
        tmp_path,
        monkeypatch,
        "# by make run\nMONGO_URI=mongodb://127.0.0.1:40001\nREDIS_URL=redis://127.0.0.1:40002/0\n",
    )
    cfg = settings.load()
    assert cfg["MONGO_URI"] == "mongodb://127.0.0.1:40001"
    assert cfg["REDIS_URL"] == "redis://127.0.0.1:40002/0"


def test_the_environment_wins_over_the_stack_file(tmp_path, monkeypatch):
    _stack_file(tmp_path, monkeypatch, "MONGO_URI=mongodb://127.0.0.1:40001\nNOT_A_SETTING=1\n")
    monkeypatch.setenv("MONGO_URI", "mongodb://elsewhere:27017")
    cfg = settings.load()
    assert cfg["MONGO_URI"] == "mongodb://elsewhere:27017"
    assert "NOT_A_SETTING" not in cfg


def test_production_and_explicit_mappings_never_read_the_stack_file(tmp_path, monkeypatch):
    _stack_file(tmp_path, monkeypatch, "MONGO_URI=mongodb://127.0.0.1:40001\nREDIS_URL=redis://127.0.0.1:40002/0\n")
    monkeypatch.setenv("PONTE_ENV", "production")
    with pytest.raises(settings.ConfigError, match="MONGO_URI, REDIS_URL"):
        settings.load()
    monkeypatch.delenv("PONTE_ENV")
    assert settings.load({"PONTE_VAR_DIR": str(tmp_path)})["MONGO_URI"] == settings.DEFAULTS["MONGO_URI"]
    assert settings.load(overrides={"PONTE_ENV": "test"})["MONGO_URI"] == settings.DEFAULTS["MONGO_URI"]


# -- production refuses stores without credentials ------------------------------------

PASSWORD = "Sup3r-s3cret-pa55word"
CREDENTIALED = {
    "PONTE_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "REDIS_URL": f"redis://ponte:{PASSWORD}@redis:6379/0",
    "MONGO_URI": f"mongodb://ponte:{PASSWORD}@mongo:27017/ecommerce?replicaSet=rs0&authSource=ecommerce",
}


def test_production_starts_with_credentialed_stores():
    cfg = settings.load(CREDENTIALED)
    assert cfg["TRUSTED_NETWORK"] is False
    for url in (
        f"rediss://ponte:{PASSWORD}@redis:6380/0",
        f"sentinel://:{PASSWORD}@s1:26379/0;sentinel://:{PASSWORD}@s2:26379/0",
        f"sentinel://s1:26379/0;sentinel://ponte:{PASSWORD}@s2:26379/0",
    ):
        assert settings.load({**CREDENTIALED, "REDIS_URL": url})["REDIS_URL"] == url
    for uri in (
        f"mongodb+srv://ponte:{PASSWORD}@cluster0.example.net/ecommerce",
        f"mongodb://ponte:{PASSWORD}@db1:27017,db2:27017/?replicaSet=rs0",
        "mongodb://db1:27017/?authMechanism=MONGODB-X509&tls=true",
    ):
        assert settings.load({**CREDENTIALED, "MONGO_URI": uri})["MONGO_URI"] == uri


@pytest.mark.parametrize(
    "url",
    [
        "redis://redis:6379/0",
        "rediss://redis:6380/0",
        f"redis://:{PASSWORD}@redis:6379/0",  # the default user, which the ACL file turns off
        f"redis://default:{PASSWORD}@redis:6379/0",
        "redis://ponte@redis:6379/0",  # a user without a password
        "sentinel://s1:26379/0;sentinel://s2:26379/0",
    ],
)
def test_production_refuses_a_redis_url_without_credentials(url):
    with pytest.raises(settings.ConfigError, match="REDIS_URL has no credentials") as caught:
        settings.load({**CREDENTIALED, "REDIS_URL": url})
    assert PASSWORD not in str(caught.value) and "TRUSTED_NETWORK" in str(caught.value)


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://mongo:27017/?replicaSet=rs0",
        "mongodb+srv://cluster0.example.net/ecommerce",
        "mongodb://ponte@mongo:27017/ecommerce",
        f"mongodb://:{PASSWORD}@mongo:27017/ecommerce",
    ],
)
def test_production_refuses_a_mongo_uri_without_credentials(uri):
    with pytest.raises(settings.ConfigError, match="MONGO_URI has no credentials") as caught:
        settings.load({**CREDENTIALED, "MONGO_URI": uri})
    assert PASSWORD not in str(caught.value) and "TRUSTED_NETWORK" in str(caught.value)


def test_trusted_network_lets_production_start_without_store_credentials():
    bare = {**CREDENTIALED, "REDIS_URL": "redis://redis:6379/0", "MONGO_URI": "mongodb://mongo:27017/"}
    for value in ("true", "1", "yes", True):
        assert settings.load({**bare, "TRUSTED_NETWORK": value})["TRUSTED_NETWORK"] is True
    for value in ("false", "0", "", False):
        with pytest.raises(settings.ConfigError, match="REDIS_URL has no credentials"):
            settings.load({**bare, "TRUSTED_NETWORK": value})
    with pytest.raises(settings.ConfigError, match="TRUSTED_NETWORK must be true or false"):
        settings.load({**bare, "TRUSTED_NETWORK": "maybe"})
    # Outside production nothing is asked: make run and the tests use stores without users.
    assert settings.load({"REDIS_URL": "redis://r:6379/0"})["TRUSTED_NETWORK"] is False


# -- Redis over TLS -----------------------------------------------------------------


def test_redis_tls_files_need_a_rediss_url_and_readable_files(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    rediss = {"REDIS_URL": "rediss://ponte:pw@redis:6380/0"}
    assert settings.load({**rediss, "REDIS_TLS_CA_FILE": str(ca)})["REDIS_TLS_CA_FILE"] == str(ca)
    with pytest.raises(settings.ConfigError, match="rediss:// REDIS_URL only"):
        settings.load({"REDIS_URL": "redis://redis:6379/0", "REDIS_TLS_CA_FILE": str(ca)})
    with pytest.raises(settings.ConfigError, match=r"REDIS_TLS_CA_FILE: .* is not a readable file"):
        settings.load({**rediss, "REDIS_TLS_CA_FILE": str(tmp_path / "missing.pem")})
    with pytest.raises(settings.ConfigError, match="go together"):
        settings.load({**rediss, "REDIS_TLS_CERTFILE": str(ca)})


def test_a_retry_wait_must_fit_twice_in_the_visibility_timeout():
    # A retry held longer than the broker's visibility timeout would be delivered twice.
    assert settings.load({})["BROKER_VISIBILITY_TIMEOUT_S"] == 120
    for key in ("SYNC_RETRY_MAX_S", "PAGAMENTO_RETRY_MAX_S"):
        with pytest.raises(settings.ConfigError, match=key):
            settings.load({key: "61", "BROKER_VISIBILITY_TIMEOUT_S": "120"})
