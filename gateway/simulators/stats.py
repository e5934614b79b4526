"""Counts of the requests a simulator answered, so tests and benchmarks can see
how many upstream calls the gateway made, and which ones."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Gofilex ids are 17-character Meteor ids such as 6qHGWHR9XqqeHqLKr. An
# all-lowercase segment of that length is a word of the path, not an id.
_METEOR_ID = re.compile(r"[A-Za-z0-9]{17}")


def route_of(path: str) -> str:
    """`path` with its id segments (digits only, or 17-character ids) replaced by `{id}`."""
    return "/".join("{id}" if _is_id(segment) else segment for segment in path.split("/"))


def _is_id(segment: str) -> bool:
    if segment.isdigit():
        return True
    return _METEOR_ID.fullmatch(segment) is not None and not (segment.isalpha() and segment.islower())


class RequestStats:
    """Request counters: in total, by status and by route ("GET /api/work_areas/{id}/jobs").

    The lock lets a test thread read while the server's loop thread records.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_status: Counter[int] = Counter()
        self._by_route: Counter[str] = Counter()

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._total += 1
            self._by_status[status] += 1
            self._by_route[f"{method} {route_of(path)}"] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "total": self._total,
                "by_status": {str(status): count for status, count in sorted(self._by_status.items())},
                "by_route": dict(sorted(self._by_route.items())),
            }

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._by_status.clear()
            self._by_route.clear()


class StatsMiddleware:
    """Record the final status of every http request outside `exempt_prefixes`.

    Put it outermost, so that 401s, 429s and injected faults are counted. A
    request that got no complete response (a dropped connection, a body broken
    off) counts as status 0.
    """

    def __init__(self, app: ASGIApp, *, stats: RequestStats, exempt_prefixes: Sequence[str] = ("/_sim",)) -> None:
        self.app = app
        self.stats = stats
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        status = 0
        complete = False

        async def recording_send(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except BaseException:
            if status == 0:
                # The server answers 500 for an app that fails before answering.
                status, complete = 500, True
            raise
        finally:
            self.stats.record(scope["method"], scope["path"], status if complete else 0)
