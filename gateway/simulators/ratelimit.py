"""Sequence's rate limit: 150 requests per 30 s per user, then a 300 s ban.

Nobody outside Sequence knows whether its window is fixed or sliding, so the
simulator enforces the strictest reading: at most `limit` requests in every
`window`-second span, kept as a sliding log of each user's allowed requests.
A gateway that never trips this limiter never trips the real one.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

LIMITED_BODY = b"<error><message>Rate limit exceeded</message></error>"


@dataclass(frozen=True)
class RateLimitSettings:
    limit: int = 150
    window: float = 30.0
    ban: float = 300.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0:
            raise ValueError(f"limit must be a whole number >= 0, got {self.limit!r}")
        if not math.isfinite(self.window) or self.window <= 0:
            raise ValueError(f"window must be a number of seconds > 0, got {self.window!r}")
        if not math.isfinite(self.ban) or self.ban < 0:
            raise ValueError(f"ban must be a number of seconds >= 0, got {self.ban!r}")


class RateLimitMiddleware:
    """Answer 429 to a user who exceeds `limit` requests in any `window` seconds, for `ban` seconds.

    The user comes from `scope["state"]["user"]` (set by the digest middleware);
    requests without one pass uncounted. `settings` may be replaced at run time.
    """

    def __init__(
        self, app: ASGIApp, *, settings: RateLimitSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        # Times of each user's allowed requests, oldest first; never longer than `limit`.
        self._logs: dict[str, deque[float]] = {}
        self._banned_until: dict[str, float] = {}

    def reset(self) -> None:
        """Forget all logs and bans."""
        self._logs.clear()
        self._banned_until.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("state", {}).get("user") if scope["type"] == "http" else None
        if user is None or not self.settings.enabled:
            await self.app(scope, receive, send)
            return
        remaining = self._admit(user, self.clock())
        if remaining is not None:
            await _send_limited(send, remaining)
            return
        await self.app(scope, receive, send)

    def _admit(self, user: str, now: float) -> float | None:
        """Log the request and return None when allowed, else the seconds left of the user's ban."""
        settings = self.settings
        banned_until = self._banned_until.get(user)
        if banned_until is not None:
            if now < banned_until:
                # Requests during a ban are refused but neither logged nor extend it.
                return banned_until - now
            del self._banned_until[user]

        log = self._logs.setdefault(user, deque())
        # Keep a request that is exactly `window` old: a span [t - window, t]
        # still holds it, and the strictest reading counts both ends.
        while log and log[0] < now - settings.window:
            log.popleft()
        if len(log) >= settings.limit:
            self._banned_until[user] = now + settings.ban
            return settings.ban
        log.append(now)
        return None


async def _send_limited(send: Send, remaining: float) -> None:
    # BeBanjo's client (almodovar) reads Ratelimit-Reset as whole seconds until the ban ends.
    headers = [
        (b"ratelimit-reset", str(math.ceil(remaining)).encode()),
        (b"content-type", b"application/xml; charset=utf-8"),
        (b"content-length", str(len(LIMITED_BODY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": LIMITED_BODY})
