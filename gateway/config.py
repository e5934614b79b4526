"""Settings from the environment, read once at start-up, failing fast.

The contract's variables (design.md, "Environment") name the upstreams;
`GATEWAY_*` ones tune the gateway. A missing or malformed variable raises
ConfigError naming it, so `gateway serve` stops before serving anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

PORTALS = ("EMEA", "APAC", "MPS", "NORAM")

T = TypeVar("T")


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
class CacheSettings:
    """Lifetimes of cached upstream reads, in seconds (issue: the read graph)."""

    sequence_ttl: float = 30.0
    gofilex_finished_ttl: float = 300.0
    gofilex_running_ttl: float = 5.0
    max_entries: int = 10_000
    # An entry expired less than this is answered while refreshed in the background.
    revalidate_within: float = 10.0
    # An entry expired less than this stands in when its upstream fails.
    stale_if_error: float = 600.0


@dataclass(frozen=True)
class ProtectionSettings:
    """How the gateway spares its upstreams (issue: protect the upstreams)."""

    # Seconds one GraphQL request may take in all; upstream waits and retries fit inside.
    request_timeout: float = 20.0
    # Sequence's documented limit per user, and the share kept in reserve.
    sequence_limit: int = 150
    sequence_window: float = 30.0
    budget_margin: float = 0.1
    # Sequence requests in flight at once, and the size of its connection pool.
    # Waiters queue in the budget's gate (earliest deadline first), never in
    # httpcore's pool, whose every state change walks every queued request
    # against every connection (encode/httpcore#1035): a cold 50-job page with
    # 200 requests queued there spent half its CPU on that walk.
    sequence_concurrency: int = 64
    # Gofilex documents no limit; these are the gateway's own manners per portal.
    gofilex_limit: int = 300
    gofilex_window: float = 30.0
    gofilex_concurrency: int = 8
    # Tries per safe read, the first included.
    retry_attempts: int = 3
    breaker_failure_ratio: float = 0.5
    breaker_open_seconds: float = 15.0
    # The events poller may take at most this share of Sequence's budget,
    # and polls no more often than every `events_min_interval` seconds.
    events_budget_share: float = 0.1
    events_min_interval: float = 2.0


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    sequence: SequenceSettings | None = None
    portals: Mapping[str, PortalSettings] = field(default_factory=dict)
    redis_url: str | None = None
    cache: CacheSettings = field(default_factory=CacheSettings)
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)
    # Seconds for one upstream request (connect, read, write, pool).
    upstream_timeout: float = 10.0
    # Order ids per orders/status call; larger batches are split (inferred:
    # Gofilex documents no maximum, the simulator refuses more than 500).
    gofilex_batch_size: int = 100
    # Job pages fetched ahead of a client paging forward with `after` (a BI
    # export reading a work area page by page); 0 turns read-ahead off. A
    # client that stops early leaves at most this many pages read for nothing.
    read_ahead_pages: int = 2

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
                "GOFILEX_EMEA_URL is missing: configure at least one Gofilex portal (GOFILEX_<PORTAL>_URL)"
            )
        cache = CacheSettings(
            sequence_ttl=env.number("GATEWAY_CACHE_SEQUENCE_TTL", float, CacheSettings.sequence_ttl),
            gofilex_finished_ttl=env.number(
                "GATEWAY_CACHE_GOFILEX_FINISHED_TTL", float, CacheSettings.gofilex_finished_ttl
            ),
            gofilex_running_ttl=env.number(
                "GATEWAY_CACHE_GOFILEX_RUNNING_TTL", float, CacheSettings.gofilex_running_ttl
            ),
            max_entries=env.number("GATEWAY_CACHE_MAX_ENTRIES", int, CacheSettings.max_entries, low=1),
            revalidate_within=env.number("GATEWAY_CACHE_REVALIDATE_WITHIN", float, CacheSettings.revalidate_within),
            stale_if_error=env.number("GATEWAY_CACHE_STALE_IF_ERROR", float, CacheSettings.stale_if_error),
        )
        defaults = ProtectionSettings()
        protection = ProtectionSettings(
            request_timeout=env.number("GATEWAY_REQUEST_TIMEOUT", float, defaults.request_timeout, low=0.1),
            sequence_limit=env.number("SEQUENCE_RATE_LIMIT", int, defaults.sequence_limit, low=1),
            sequence_window=env.number("SEQUENCE_RATE_WINDOW", float, defaults.sequence_window, low=0.1),
            budget_margin=env.number("GATEWAY_BUDGET_MARGIN", float, defaults.budget_margin, high=0.9),
            sequence_concurrency=env.number(
                "GATEWAY_SEQUENCE_CONCURRENCY", int, defaults.sequence_concurrency, low=1, high=1024
            ),
            gofilex_limit=env.number("GATEWAY_GOFILEX_RATE_LIMIT", int, defaults.gofilex_limit, low=1),
            gofilex_window=env.number("GATEWAY_GOFILEX_RATE_WINDOW", float, defaults.gofilex_window, low=0.1),
            gofilex_concurrency=env.number("GATEWAY_GOFILEX_CONCURRENCY", int, defaults.gofilex_concurrency, low=1),
            retry_attempts=env.number("GATEWAY_RETRY_ATTEMPTS", int, defaults.retry_attempts, low=1, high=10),
            breaker_failure_ratio=env.number(
                "GATEWAY_BREAKER_FAILURE_RATIO", float, defaults.breaker_failure_ratio, low=0.01, high=1
            ),
            breaker_open_seconds=env.number(
                "GATEWAY_BREAKER_OPEN_SECONDS", float, defaults.breaker_open_seconds, low=0.1
            ),
            events_budget_share=env.number(
                "GATEWAY_EVENTS_BUDGET_SHARE", float, defaults.events_budget_share, low=0.01, high=0.5
            ),
            events_min_interval=env.number(
                "GATEWAY_EVENTS_MIN_INTERVAL", float, defaults.events_min_interval, low=0.05
            ),
        )
        return cls(
            protection=protection,
            host=env.get("GATEWAY_HOST") or cls.host,
            port=env.number("GATEWAY_PORT", int, cls.port, low=0, high=65535),
            sequence=sequence,
            portals=portals,
            redis_url=env.get("REDIS_URL"),
            cache=cache,
            upstream_timeout=env.number("GATEWAY_UPSTREAM_TIMEOUT", float, cls.upstream_timeout, low=0.001),
            gofilex_batch_size=env.number("GATEWAY_GOFILEX_BATCH_SIZE", int, cls.gofilex_batch_size, low=1, high=500),
            read_ahead_pages=env.number("GATEWAY_READ_AHEAD_PAGES", int, cls.read_ahead_pages, low=0, high=8),
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

    def number(
        self, name: str, cast: Callable[[str], T], default: T, *, low: float = 0, high: float | None = None
    ) -> T:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = cast(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if value < low or (high is not None and value > high):  # type: ignore[operator]
            bounds = f">= {low}" if high is None else f"between {low} and {high}"
            raise ConfigError(f"{name} must be {bounds}, got {raw!r}")
        return value
