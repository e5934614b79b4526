"""Settings from the environment, read once at start-up, failing fast.

The contract's variables (design.md, "Environment") name the upstreams;
`GATEWAY_*` ones tune the gateway. Each tuning lands in the value object
that owns it (BudgetSettings, CacheSettings, RetryPolicy, BreakerSettings,
and here ProtectionSettings and Settings), with its default and its
bounds, checked once when the object is built (gateway.checks).
`from_env` only reads strings into them: a missing, malformed or
out-of-range variable raises ConfigError naming it, so `gateway serve`
stops before serving anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway import checks
from gateway.checks import InvalidSetting
from gateway.deadline import DEFAULT_REQUEST_TIMEOUT
from gateway.upstreams.budget.settings import BudgetSettings
from gateway.upstreams.cache import DEFAULT_CACHE, CacheSettings
from gateway.upstreams.gofilex.portals import DEFAULT_PORTAL, PORTALS
from gateway.upstreams.resilience import DEFAULT_BREAKER, DEFAULT_RETRY, BreakerSettings, RetryPolicy

T = TypeVar("T")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Seconds for one upstream request (connect, read, write, pool).
DEFAULT_UPSTREAM_TIMEOUT = 10.0
# Order ids per orders/status call; larger batches are split (inferred:
# Gofilex documents no maximum, the simulator refuses more than 500).
DEFAULT_GOFILEX_BATCH_SIZE = 100
MAX_GOFILEX_BATCH_SIZE = 500
# Job pages fetched ahead of a client paging forward with `after` (a BI
# export reading a work area page by page); 0 turns read-ahead off. A
# client that stops early leaves at most this many pages read for nothing.
DEFAULT_READ_AHEAD_PAGES = 2
MAX_READ_AHEAD_PAGES = 8

# The events poller's share of Sequence's budget, and its shortest interval (s).
DEFAULT_EVENTS_BUDGET_SHARE = 0.1
DEFAULT_EVENTS_MIN_INTERVAL = 2.0

# Sequence: its documented limit (BudgetSettings' defaults), and requests in
# flight at once, which is also the size of its connection pool. Waiters
# queue in the budget's gate (earliest deadline first), never in httpcore's
# pool, whose every state change walks every queued request against every
# connection (encode/httpcore#1035): a cold 50-job page with 200 requests
# queued there spent half its CPU on that walk.
SEQUENCE_BUDGET = BudgetSettings(concurrency=64)
# Gofilex documents no limit; these are the gateway's own manners per portal.
GOFILEX_BUDGET = BudgetSettings(limit=300, window=30.0, margin=0.0, concurrency=8)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class SequenceSettings:
    url: str
    username: str
    password: str


@dataclass(frozen=True)
class PortalSettings:
    portal: str
    url: str
    token: str


@dataclass(frozen=True)
class ProtectionSettings:
    """How the gateway spares its upstreams (issue: protect the upstreams)."""

    # Seconds one GraphQL request may take in all; upstream waits and retries fit inside.
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    sequence_budget: BudgetSettings = SEQUENCE_BUDGET
    # Per portal.
    gofilex_budget: BudgetSettings = GOFILEX_BUDGET
    retry: RetryPolicy = DEFAULT_RETRY
    breaker: BreakerSettings = DEFAULT_BREAKER
    # The events poller may take at most this share of Sequence's budget,
    # and polls no more often than every `events_min_interval` seconds.
    events_budget_share: float = DEFAULT_EVENTS_BUDGET_SHARE
    events_min_interval: float = DEFAULT_EVENTS_MIN_INTERVAL

    def __post_init__(self) -> None:
        checks.number(self, "request_timeout", low=0.1)
        checks.share(self, "events_budget_share", low=0.01, high=0.5)
        checks.number(self, "events_min_interval", low=0.05)


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    sequence: SequenceSettings | None = None
    portals: Mapping[str, PortalSettings] = field(default_factory=dict)
    redis_url: str | None = None
    cache: CacheSettings = DEFAULT_CACHE
    protection: ProtectionSettings = ProtectionSettings()
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    gofilex_batch_size: int = DEFAULT_GOFILEX_BATCH_SIZE
    read_ahead_pages: int = DEFAULT_READ_AHEAD_PAGES

    def __post_init__(self) -> None:
        checks.whole(self, "port", low=0, high=65535)
        checks.number(self, "upstream_timeout", low=0.001)
        checks.whole(self, "gofilex_batch_size", low=1, high=MAX_GOFILEX_BATCH_SIZE)
        checks.whole(self, "read_ahead_pages", low=0, high=MAX_READ_AHEAD_PAGES)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, require_upstreams: bool = True) -> Settings:
        """Read every variable; with `require_upstreams`, Sequence and at least one
        Gofilex portal must be configured (what `gateway serve` needs)."""
        env = _Env(environ)
        sequence = None
        if require_upstreams or env.get("SEQUENCE_URL"):
            sequence = SequenceSettings(
                url=env.url("SEQUENCE_URL"),
                username=env.require("SEQUENCE_USERNAME"),
                password=env.require("SEQUENCE_PASSWORD"),
            )
        portals = {}
        for portal in PORTALS:
            if env.get(f"GOFILEX_{portal}_URL"):
                token = env.get(f"GOFILEX_{portal}_TOKEN") or env.get("GOFILEX_TOKEN")
                if not token:
                    raise ConfigError(f"GOFILEX_{portal}_TOKEN (or GOFILEX_TOKEN) is missing for GOFILEX_{portal}_URL")
                portals[portal] = PortalSettings(portal, env.url(f"GOFILEX_{portal}_URL"), token)
        if require_upstreams and not portals:
            raise ConfigError(
                f"GOFILEX_{DEFAULT_PORTAL.value}_URL is missing: configure at least one Gofilex portal"
                " (GOFILEX_<PORTAL>_URL)"
            )
        cache = env.build(
            DEFAULT_CACHE,
            sequence_ttl="GATEWAY_CACHE_SEQUENCE_TTL",
            gofilex_finished_ttl="GATEWAY_CACHE_GOFILEX_FINISHED_TTL",
            gofilex_running_ttl="GATEWAY_CACHE_GOFILEX_RUNNING_TTL",
            max_entries="GATEWAY_CACHE_MAX_ENTRIES",
            revalidate_within="GATEWAY_CACHE_REVALIDATE_WITHIN",
            stale_if_error="GATEWAY_CACHE_STALE_IF_ERROR",
        )
        defaults = ProtectionSettings()
        protection = env.build(
            dataclasses.replace(
                defaults,
                sequence_budget=env.build(
                    defaults.sequence_budget,
                    limit="SEQUENCE_RATE_LIMIT",
                    window="SEQUENCE_RATE_WINDOW",
                    margin="GATEWAY_BUDGET_MARGIN",
                    headroom="GATEWAY_BUDGET_HEADROOM",
                    concurrency="GATEWAY_SEQUENCE_CONCURRENCY",
                ),
                gofilex_budget=env.build(
                    defaults.gofilex_budget,
                    limit="GATEWAY_GOFILEX_RATE_LIMIT",
                    window="GATEWAY_GOFILEX_RATE_WINDOW",
                    concurrency="GATEWAY_GOFILEX_CONCURRENCY",
                ),
                retry=env.build(defaults.retry, attempts="GATEWAY_RETRY_ATTEMPTS"),
                breaker=env.build(
                    defaults.breaker,
                    failure_ratio="GATEWAY_BREAKER_FAILURE_RATIO",
                    open_for="GATEWAY_BREAKER_OPEN_SECONDS",
                ),
            ),
            request_timeout="GATEWAY_REQUEST_TIMEOUT",
            events_budget_share="GATEWAY_EVENTS_BUDGET_SHARE",
            events_min_interval="GATEWAY_EVENTS_MIN_INTERVAL",
        )
        base = cls(
            host=env.get("GATEWAY_HOST") or DEFAULT_HOST,
            sequence=sequence,
            portals=portals,
            redis_url=env.get("REDIS_URL"),
            cache=cache,
            protection=protection,
        )
        return env.build(
            base,
            port="GATEWAY_PORT",
            upstream_timeout="GATEWAY_UPSTREAM_TIMEOUT",
            gofilex_batch_size="GATEWAY_GOFILEX_BATCH_SIZE",
            read_ahead_pages="GATEWAY_READ_AHEAD_PAGES",
        )


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def get(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise ConfigError(f"{name} is missing")
        return value

    def url(self, name: str) -> str:
        value = self.require(name)
        if not value.startswith(("http://", "https://")) or "://" not in value or not value.split("://", 1)[1]:
            raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    def build(self, base: T, **variables: str) -> T:
        """`base` (a frozen dataclass) with each field named here read from its variable.

        A value is read as the type of the field's default (whole number or
        number); the value object checks its bounds itself, and a field it
        refuses is reported under its variable's name.
        """
        values: dict[str, Any] = {}
        for name, variable in variables.items():
            raw = self.get(variable)
            if raw is not None:
                values[name] = self._cast(variable, raw, getattr(base, name))
        try:
            return dataclasses.replace(base, **values)  # type: ignore[type-var]  # T is a dataclass
        except InvalidSetting as exc:
            variable = variables.get(exc.field, exc.field)
            raise ConfigError(f"{variable} {exc.problem}, got {self.get(variable)!r}") from None

    @staticmethod
    def _cast(variable: str, raw: str, default: object) -> int | float:
        whole = isinstance(default, int) and not isinstance(default, bool)
        try:
            return int(raw) if whole else float(raw)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"{variable} must be {kind}, got {raw!r}") from None


__all__ = [
    "DEFAULT_GOFILEX_BATCH_SIZE",
    "DEFAULT_READ_AHEAD_PAGES",
    "DEFAULT_UPSTREAM_TIMEOUT",
    "GOFILEX_BUDGET",
    "SEQUENCE_BUDGET",
    "ConfigError",
    "PortalSettings",
    "ProtectionSettings",
    "SequenceSettings",
    "Settings",
]
