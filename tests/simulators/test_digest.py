from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from http import HTTPStatus

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.simulators.digest import DigestAuthMiddleware, parse_credentials
from gateway.simulators.server import serve_in_thread

REALM = "Production Sequence"
USERS = {"robot": "s3cret"}


async def whoami(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.scope["state"]["user"])


class StatusLog:
    """Outermost ASGI wrapper that keeps every answer's status and WWW-Authenticate header."""

    def __init__(self, app: DigestAuthMiddleware) -> None:
        self.app = app
        self.answers: list[tuple[int, str | None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message["headers"])
                challenge = headers.get(b"www-authenticate")
                self.answers.append((message["status"], challenge.decode() if challenge else None))
            await send(message)

        await self.app(scope, receive, logging_send)

    @property
    def statuses(self) -> list[int]:
        return [status for status, _ in self.answers]


def make_app(*, nonce_lifetime: float = 300.0) -> StatusLog:
    app = Starlette(routes=[Route("/whoami", whoami)])
    return StatusLog(
        DigestAuthMiddleware(app, realm=REALM, users=USERS, secret=b"test-secret", nonce_lifetime=nonce_lifetime)
    )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[StatusLog, str]]:
    log = make_app()
    with serve_in_thread(log) as url:
        yield log, url


@pytest.fixture
def served(server) -> tuple[StatusLog, str]:
    log, _ = server
    log.answers.clear()
    return server


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def challenge_params(url: str) -> dict[str, str]:
    response = httpx.get(url + "/whoami")
    params = parse_credentials(response.headers["www-authenticate"])
    assert params is not None
    return params


def authorization(
    challenge: dict[str, str], *, method: str, uri: str, user: str = "robot", password: str = "s3cret"
) -> str:
    ha1 = md5(f"{user}:{REALM}:{password}")
    ha2 = md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{challenge['nonce']}:00000001:abc:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{REALM}", nonce="{challenge["nonce"]}", uri="{uri}", qop=auth, '
        f'nc=00000001, cnonce="abc", response="{response}", opaque="{challenge["opaque"]}", algorithm=MD5'
    )


def test_request_without_credentials_gets_the_rails_challenge(served):
    _, url = served
    response = httpx.get(url + "/whoami")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.text == "HTTP Digest: Access denied.\n"
    assert response.headers["content-type"].startswith("text/plain")
    header = response.headers["www-authenticate"]
    assert header.startswith(f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="')
    params = parse_credentials(header)
    assert params is not None
    assert params["nonce"] and params["opaque"]
    assert "stale" not in params


def test_httpx_digest_auth_reaches_the_app_as_the_user(served):
    _, url = served
    response = httpx.get(url + "/whoami?x=1&y=2", auth=httpx.DigestAuth("robot", "s3cret"))

    assert response.status_code == HTTPStatus.OK
    assert response.text == "robot"


def test_wrong_password_is_denied(served):
    _, url = served
    response = httpx.get(url + "/whoami", auth=httpx.DigestAuth("robot", "wrong"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_unknown_user_is_denied(served):
    _, url = served
    response = httpx.get(url + "/whoami", auth=httpx.DigestAuth("nobody", "s3cret"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_credentials_for_another_uri_are_denied(served):
    _, url = served
    challenge = challenge_params(url)
    header = authorization(challenge, method="GET", uri="/elsewhere")

    response = httpx.get(url + "/whoami", headers={"Authorization": header})

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_hand_built_credentials_for_the_request_target_are_accepted(served):
    _, url = served
    challenge = challenge_params(url)
    header = authorization(challenge, method="GET", uri="/whoami?a=b")

    assert httpx.get(url + "/whoami?a=b", headers={"Authorization": header}).status_code == HTTPStatus.OK
    # The same answer for another method is wrong.
    assert httpx.post(url + "/whoami?a=b", headers={"Authorization": header}).status_code == HTTPStatus.UNAUTHORIZED


def test_rfc_2069_credentials_without_qop_are_accepted(served):
    _, url = served
    challenge = challenge_params(url)
    ha1 = md5(f"robot:{REALM}:s3cret")
    response = md5(f"{ha1}:{challenge['nonce']}:{md5('GET:/whoami')}")
    header = (
        f'Digest username="robot", realm="{REALM}", nonce="{challenge["nonce"]}", uri="/whoami", '
        f'response="{response}", opaque="{challenge["opaque"]}"'
    )

    assert httpx.get(url + "/whoami", headers={"Authorization": header}).status_code == HTTPStatus.OK


def test_forged_nonce_is_denied_without_stale(served):
    _, url = served
    challenge = challenge_params(url)
    challenge["nonce"] = base64.b64encode(f"{time.time():.6f}:forged".encode()).decode()
    header = authorization(challenge, method="GET", uri="/whoami")

    response = httpx.get(url + "/whoami", headers={"Authorization": header})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "stale" not in response.headers["www-authenticate"]


def test_expired_nonce_gets_a_stale_challenge_and_httpx_retries_silently():
    log = make_app(nonce_lifetime=0.2)
    with serve_in_thread(log) as url, httpx.Client(base_url=url, auth=httpx.DigestAuth("robot", "s3cret")) as client:
        assert client.get("/whoami").status_code == HTTPStatus.OK
        time.sleep(0.3)
        assert client.get("/whoami").status_code == HTTPStatus.OK

    assert log.statuses == [401, 200, 401, 200]
    stale_challenge = log.answers[2][1]
    assert stale_challenge is not None
    assert stale_challenge.endswith(", stale=true")


def test_one_client_pays_a_single_401_for_many_requests(served):
    log, url = served
    with httpx.Client(base_url=url, auth=httpx.DigestAuth("robot", "s3cret")) as client:
        for _ in range(10):
            assert client.get("/whoami").status_code == HTTPStatus.OK

    assert log.statuses.count(401) == 1
    assert len(log.statuses) == 11
