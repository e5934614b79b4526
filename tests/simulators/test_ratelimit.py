from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.simulators.ratelimit import RateLimitMiddleware, RateLimitSettings
from gateway.simulators.server import serve_in_thread


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class UserFromHeader:
    """Stands in for the digest middleware: the user is whoever X-User names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = dict(scope["headers"]).get(b"x-user") if scope["type"] == "http" else None
        if user is not None:
            scope.setdefault("state", {})["user"] = user.decode()
        await self.app(scope, receive, send)


async def ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@dataclass
class Limited:
    client: httpx.Client
    clock: FakeClock
    limiter: RateLimitMiddleware

    def get(self, user: str | None = "robot", *, at: float | None = None) -> httpx.Response:
        if at is not None:
            self.clock.now = 1000.0 + at
        return self.client.get("/", headers={"X-User": user} if user else {})

    def statuses(self, count: int, user: str = "robot", *, at: float | None = None) -> list[int]:
        return [self.get(user, at=at).status_code for _ in range(count)]


SETTINGS = RateLimitSettings(limit=3, window=30, ban=300)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, RateLimitMiddleware, FakeClock]]:
    clock = FakeClock()
    limiter = RateLimitMiddleware(Starlette(routes=[Route("/", ok)]), settings=SETTINGS, clock=clock)
    with serve_in_thread(UserFromHeader(limiter)) as url:
        yield url, limiter, clock


@pytest.fixture
def limited(server) -> Iterator[Limited]:
    url, limiter, clock = server
    limiter.reset()
    limiter.settings = SETTINGS
    with httpx.Client(base_url=url) as client:
        yield Limited(client, clock, limiter)


def test_limit_requests_pass_then_the_next_is_refused_with_a_ban(limited):
    assert limited.statuses(3, at=0) == [200, 200, 200]

    refused = limited.get(at=1)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.headers["ratelimit-reset"] == "300"
    assert refused.headers["content-type"].startswith("application/xml")
    assert refused.text == "<error><message>Rate limit exceeded</message></error>"


def test_the_ban_refuses_every_request_until_it_ends_without_being_extended(limited):
    limited.statuses(3, at=0)
    assert limited.get(at=10).status_code == HTTPStatus.TOO_MANY_REQUESTS  # banned until 310

    during = limited.get(at=100)
    near_the_end = limited.get(at=309.5)

    assert during.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert during.headers["ratelimit-reset"] == "210"
    # Rounded up, and not pushed back by the requests made during the ban.
    assert near_the_end.headers["ratelimit-reset"] == "1"
    assert limited.get(at=310).status_code == HTTPStatus.OK


def test_the_window_slides_so_a_burst_across_a_fixed_boundary_is_refused(limited):
    # A fixed 30 s window [0, 30) would allow three more requests at 31; every
    # 30 s span must hold at most three, so the sliding log refuses.
    assert limited.statuses(3, at=29) == [200, 200, 200]

    assert limited.get(at=31).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_requests_leave_the_window_once_it_has_passed_them(limited):
    limited.get(at=0)
    limited.statuses(2, at=20)

    assert limited.get(at=30.01).status_code == HTTPStatus.OK
    assert limited.get(at=30.02).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_request_exactly_one_window_old_still_counts(limited):
    # [0, 30] is a 30 s span too: the strictest reading counts both ends.
    limited.get(at=0)
    limited.statuses(2, at=20)

    assert limited.get(at=30).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_users_are_limited_separately(limited):
    assert limited.statuses(4, "alice", at=0) == [200, 200, 200, 429]

    assert limited.statuses(3, "bob", at=1) == [200, 200, 200]


def test_requests_without_a_user_pass_uncounted(limited):
    assert [limited.get(None, at=0).status_code for _ in range(5)] == [200] * 5

    assert limited.statuses(3, at=0) == [200, 200, 200]


def test_a_disabled_limit_lets_everything_through(limited):
    limited.limiter.settings = RateLimitSettings(limit=3, enabled=False)

    assert limited.statuses(6, at=0) == [200] * 6


def test_settings_replaced_at_run_time_apply_to_the_next_request(limited):
    limited.limiter.settings = RateLimitSettings(limit=1, window=30, ban=5)

    assert limited.statuses(2, at=0) == [200, 429]
    assert limited.get(at=1).headers["ratelimit-reset"] == "4"


def test_reset_forgets_bans(limited):
    limited.statuses(4, at=0)

    limited.limiter.reset()

    assert limited.get(at=1).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "values",
    [
        {"limit": -1},  # a negative budget
        {"limit": 1.5},  # requests come whole
        {"window": 0},  # an empty window
        {"ban": float("inf")},  # bans end
    ],
)
def test_settings_reject_values_out_of_range(values):
    with pytest.raises(ValueError, match=next(iter(values))):
        RateLimitSettings(**values)
