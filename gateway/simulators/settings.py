"""What a simulator run looks like, from the command line and the environment."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.simulators.faults import FaultSettings
from gateway.simulators.ratelimit import RateLimitSettings
from gateway.simulators.sequence.activity import checked_rate

DEFAULT_SEQUENCE_PORT = 8101
DEFAULT_GOFILEX_PORT = 8102
# Changes a minute the Sequence simulator makes by itself in `gateway demo`:
# each of its two work areas changes every 12 s on average, so a subscription
# to one shows events within a minute (99 % of the time). `gateway simulate`
# makes none unless asked, so tools pointed at it see only their own changes.
DEMO_ACTIVITY = 10.0


@dataclass(frozen=True)
class SimulatorSettings:
    host: str = "127.0.0.1"
    sequence_port: int = DEFAULT_SEQUENCE_PORT
    gofilex_port: int = DEFAULT_GOFILEX_PORT
    seed: int = 42
    # ISO-8601 moment the simulators' clock is pinned to; None follows the wall clock.
    now: str | None = None
    jobs: int = 3000
    large: bool = False
    orders_per_portal: int = 120
    sequence_username: str = "robot_user"
    sequence_password: str = "password"
    gofilex_token: str | None = None
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    stray_closing_tag: bool = False
    # Changes a minute the Sequence simulator makes by itself (sequence/activity.py); 0 makes none.
    activity: float = 0.0

    def __post_init__(self) -> None:
        checked_rate(self.activity)

    @property
    def token(self) -> str:
        """The Gofilex bearer token: given, or derived from the seed.

        Derived tokens have the documented example's form, 43 URL-safe characters.
        """
        if self.gofilex_token:
            return self.gofilex_token
        digest = hashlib.sha256(f"gofilex:{self.seed}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SimulatorSettings:
        """Settings from `SIM_*` variables; a bad value raises ValueError naming it."""
        values: dict[str, object] = {}
        for name, key, cast in (
            ("seed", "SIM_SEED", int),
            ("now", "SIM_NOW", str),
            ("jobs", "SIM_JOBS", int),
            ("large", "SIM_LARGE", _flag),
            ("orders_per_portal", "SIM_ORDERS_PER_PORTAL", int),
            ("activity", "SIM_ACTIVITY", lambda raw: checked_rate(float(raw))),
        ):
            if environ.get(key):
                try:
                    values[name] = cast(environ[key])
                except ValueError as exc:
                    raise ValueError(f"{key}: {exc}") from exc
        limit = RateLimitSettings()
        if environ.get("SIM_RATE_LIMIT"):
            raw = environ["SIM_RATE_LIMIT"]
            if raw.lower() == "off":
                limit = RateLimitSettings(enabled=False)
            elif raw.isdigit() and int(raw) > 0:
                limit = RateLimitSettings(limit=int(raw))
            else:
                raise ValueError(f"SIM_RATE_LIMIT: expected a positive integer or 'off', got {raw!r}")
        return cls(rate_limit=limit, faults=FaultSettings.from_env(environ), **values)  # type: ignore[arg-type]


def _flag(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")
