import pytest

from gateway.config import ConfigError, Settings
from gateway.upstreams.sequence.coherence import Lifetimes

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
    assert settings.protection.sequence_budget.concurrency == 64


def test_sequence_concurrency_is_settable() -> None:
    settings = Settings.from_env({**UPSTREAMS, "GATEWAY_SEQUENCE_CONCURRENCY": "16"})
    assert settings.protection.sequence_budget.concurrency == 16


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


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # each bound belongs to the value object that owns the field; the message names the variable
        ("GATEWAY_BUDGET_MARGIN", "0.95", "GATEWAY_BUDGET_MARGIN must be between 0 and 0.9"),
        ("SEQUENCE_RATE_LIMIT", "1.5", "SEQUENCE_RATE_LIMIT must be a whole number"),
        ("GATEWAY_RETRY_ATTEMPTS", "11", "GATEWAY_RETRY_ATTEMPTS must be between 1 and 10"),
        ("GATEWAY_BREAKER_FAILURE_RATIO", "0", "GATEWAY_BREAKER_FAILURE_RATIO must be between 0.01 and 1"),
        ("GATEWAY_CACHE_MAX_ENTRIES", "0", "GATEWAY_CACHE_MAX_ENTRIES must be >= 1"),
        ("GATEWAY_EVENTS_BUDGET_SHARE", "0.6", "GATEWAY_EVENTS_BUDGET_SHARE must be between 0.01 and 0.5"),
        ("GATEWAY_READ_AHEAD_PAGES", "9", "GATEWAY_READ_AHEAD_PAGES must be between 0 and 8"),
        ("GATEWAY_CACHE_LIFETIMES", "forever", "GATEWAY_CACHE_LIFETIMES must be one of events, time"),
        ("GATEWAY_BUDGET_HEADROOM", "0.95", "GATEWAY_BUDGET_HEADROOM must be between 0 and 0.9"),
    ],
)
def test_an_out_of_range_value_is_refused_by_its_owner_and_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**UPSTREAMS, name: value})


def test_settings_reach_the_value_objects_that_own_them() -> None:
    env = {
        **UPSTREAMS,
        "SEQUENCE_RATE_LIMIT": "100",
        "GATEWAY_GOFILEX_CONCURRENCY": "4",
        "GATEWAY_RETRY_ATTEMPTS": "5",
        "GATEWAY_BREAKER_OPEN_SECONDS": "2.5",
        "GATEWAY_CACHE_STALE_IF_ERROR": "60",
        "GATEWAY_CACHE_LIFETIMES": "TIME",
        "GATEWAY_CACHE_SAFETY_TTL": "900",
        "GATEWAY_BUDGET_HEADROOM": "0.5",
    }
    protection = Settings.from_env(env).protection
    assert (protection.sequence_budget.limit, protection.sequence_budget.concurrency) == (100, 64)
    assert (protection.gofilex_budget.limit, protection.gofilex_budget.concurrency) == (300, 4)
    assert protection.retry.attempts == 5
    assert protection.breaker.open_for == 2.5
    cache = Settings.from_env(env).cache
    assert (cache.stale_if_error, cache.sequence_lifetimes, cache.sequence_safety_ttl) == (60, Lifetimes.TIME, 900)
    assert protection.sequence_budget.headroom == 0.5
    # The defaults are the value objects' own.
    assert Settings() == Settings.from_env({}, require_upstreams=False)


def test_the_graph_and_the_settings_share_one_list_of_portals() -> None:
    from gateway.schema.enums import GofilexPortal
    from gateway.upstreams.gofilex.portals import PORTALS

    assert [portal.value for portal in GofilexPortal] == list(PORTALS) == ["EMEA", "APAC", "MPS", "NORAM"]
