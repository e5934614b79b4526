import pytest

from gateway.config import ConfigError, Settings

UPSTREAMS = {
    "SEQUENCE_URL": "https://sequence.example.com/api/",
    "SEQUENCE_USERNAME": "robot_user",
    "SEQUENCE_PASSWORD": "secret",
    "GOFILEX_EMEA_URL": "https://genie.example.com/proxy",
    "GOFILEX_TOKEN": "shared-token",
}


def test_defaults_follow_the_contract() -> None:
    settings = Settings.from_env(UPSTREAMS)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.sequence is not None
    assert settings.sequence.url == "https://sequence.example.com/api"
    assert settings.cache.sequence_ttl == 30
    assert (settings.cache.gofilex_finished_ttl, settings.cache.gofilex_running_ttl) == (300, 5)
    assert settings.redis_url is None
    assert settings.protection.sequence_concurrency == 64


def test_sequence_concurrency_is_settable() -> None:
    settings = Settings.from_env({**UPSTREAMS, "GATEWAY_SEQUENCE_CONCURRENCY": "16"})
    assert settings.protection.sequence_concurrency == 16


@pytest.mark.parametrize("missing", ["SEQUENCE_URL", "SEQUENCE_USERNAME", "SEQUENCE_PASSWORD"])
def test_serve_fails_fast_naming_a_missing_sequence_variable(missing: str) -> None:
    env = {key: value for key, value in UPSTREAMS.items() if key != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


def test_at_least_one_gofilex_portal_is_required() -> None:
    env = {key: value for key, value in UPSTREAMS.items() if not key.startswith("GOFILEX")}
    with pytest.raises(ConfigError, match="GOFILEX_EMEA_URL"):
        Settings.from_env(env)


def test_a_portal_without_any_token_is_named() -> None:
    env = {**UPSTREAMS, "GOFILEX_APAC_URL": "https://apac.example.com"}
    del env["GOFILEX_TOKEN"]
    with pytest.raises(ConfigError, match="GOFILEX_EMEA_TOKEN"):
        Settings.from_env(env)


def test_a_portal_token_overrides_the_shared_one() -> None:
    env = {**UPSTREAMS, "GOFILEX_NORAM_URL": "https://noram.example.com", "GOFILEX_NORAM_TOKEN": "noram-token"}
    settings = Settings.from_env(env)
    assert settings.portals["NORAM"].token == "noram-token"
    assert settings.portals["EMEA"].token == "shared-token"
    assert set(settings.portals) == {"EMEA", "NORAM"}
    assert settings.portals["EMEA"].url == "https://genie.example.com/proxy"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_PORT", "eighty"),
        ("GATEWAY_PORT", "70000"),
        ("GATEWAY_CACHE_SEQUENCE_TTL", "-1"),
        ("GATEWAY_GOFILEX_BATCH_SIZE", "0"),
        ("GATEWAY_SEQUENCE_CONCURRENCY", "0"),
        ("GATEWAY_SEQUENCE_CONCURRENCY", "many"),
        ("SEQUENCE_URL", "ftp://sequence.example.com"),
    ],
)
def test_malformed_values_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**UPSTREAMS, name: value})


def test_upstreams_are_optional_when_not_required() -> None:
    settings = Settings.from_env({}, require_upstreams=False)
    assert settings.sequence is None
    assert settings.portals == {}
