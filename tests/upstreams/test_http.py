from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from gateway.errors import (
    GatewayError,
    NotFound,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from gateway.upstreams.http import ForeignLinkError, Origin, raise_for_status, retry_after_seconds, upstream_errors

SECRET_HOST = "sequence-secret.internal"
BASE_URL = f"http://{SECRET_HOST}:8101/api"
PASSWORD = "hunter2"


def no_messages(body: bytes, content_type: str | None) -> list[str]:
    return []


ErrorMessages = Callable[[bytes, str | None], list[str]]


def call(handler: Callable[[httpx.Request], httpx.Response], *, error_messages: ErrorMessages = no_messages) -> None:
    """One GET through the boundary, as an upstream client makes it."""
    transport = httpx.MockTransport(handler)
    with (
        httpx.Client(transport=transport, auth=httpx.BasicAuth("gateway", PASSWORD)) as client,
        upstream_errors("sequence"),
    ):
        response = client.get(f"{BASE_URL}/work_areas/10/jobs")
    raise_for_status("sequence", response, error_messages=error_messages)


def answer(status: int, **kwargs: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, **kwargs)


def assert_leaks_nothing(error: GatewayError) -> None:
    text = f"{error} {error.extensions}"
    for secret in (SECRET_HOST, "8101", "/api", "work_areas", PASSWORD, "http"):
        assert secret not in text


# raise_for_status


@pytest.mark.parametrize("status", [HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.NO_CONTENT])
def test_a_2xx_answer_raises_nothing(status: HTTPStatus) -> None:
    call(answer(status))


def test_404_is_not_found_naming_the_upstream() -> None:
    with pytest.raises(NotFound) as caught:
        call(answer(HTTPStatus.NOT_FOUND))
    assert caught.value.message == "sequence: not found"
    assert caught.value.extensions["code"] == "NOT_FOUND"


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
def test_401_and_403_are_upstream_unauthorized(status: HTTPStatus) -> None:
    with pytest.raises(UpstreamUnauthorized) as caught:
        call(answer(status, text=f"bad password {PASSWORD}"))
    assert caught.value.upstream == "sequence"
    assert_leaks_nothing(caught.value)


def test_422_is_rejected_with_the_upstreams_messages_passed_through() -> None:
    seen: list[tuple[bytes, str | None]] = []

    def messages(body: bytes, content_type: str | None) -> list[str]:
        seen.append((body, content_type))
        return ["Name can't be blank", "Due date is invalid"]

    body = {"errors": ["Name can't be blank", "Due date is invalid"]}
    with pytest.raises(UpstreamRejected) as caught:
        call(answer(HTTPStatus.UNPROCESSABLE_ENTITY, json=body), error_messages=messages)
    assert caught.value.messages == ["Name can't be blank", "Due date is invalid"]
    assert caught.value.extensions["code"] == "BAD_USER_INPUT"
    assert seen == [(b'{"errors":["Name can\'t be blank","Due date is invalid"]}', "application/json")]


def test_422_with_an_unreadable_error_body_is_still_rejected() -> None:
    def broken(body: bytes, content_type: str | None) -> list[str]:
        raise ValueError("not xml")

    with pytest.raises(UpstreamRejected) as caught:
        call(answer(HTTPStatus.UNPROCESSABLE_ENTITY, text="<oops"), error_messages=broken)
    assert caught.value.messages == []


def test_429_is_rate_limited_with_retry_after_from_ratelimit_reset() -> None:
    headers = {"Ratelimit-Limit": "150", "Ratelimit-Remaining": "0", "Ratelimit-Reset": "251"}
    with pytest.raises(UpstreamRateLimited) as caught:
        call(answer(HTTPStatus.TOO_MANY_REQUESTS, headers=headers))
    assert caught.value.retry_after == 251
    assert caught.value.extensions == {
        "code": "UPSTREAM_RATE_LIMITED",
        "upstream": "sequence",
        "retryAfter": 251,
    }


def test_429_is_rate_limited_with_retry_after_from_retry_after_seconds() -> None:
    with pytest.raises(UpstreamRateLimited) as caught:
        call(answer(HTTPStatus.TOO_MANY_REQUESTS, headers={"Retry-After": "120"}))
    assert caught.value.retry_after == 120


def test_429_without_a_usable_header_has_no_retry_after() -> None:
    with pytest.raises(UpstreamRateLimited) as caught:
        call(answer(HTTPStatus.TOO_MANY_REQUESTS, headers={"Retry-After": "soon"}))
    assert caught.value.retry_after is None
    assert "retryAfter" not in caught.value.extensions


def test_retry_after_as_an_http_date_counts_seconds_from_now() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    headers = httpx.Headers({"Retry-After": format_datetime(now + timedelta(seconds=90), usegmt=True)})
    assert retry_after_seconds(headers, now=now) == 90
    assert retry_after_seconds(headers, now=now + timedelta(hours=1)) == 0


@pytest.mark.parametrize(
    "value",
    [
        "-5",  # negative
        "nan",  # parses as a float, means nothing
        "inf",
    ],
)
def test_nonsense_ratelimit_reset_falls_back_to_retry_after(value: str) -> None:
    assert retry_after_seconds(httpx.Headers({"Ratelimit-Reset": value, "Retry-After": "7"})) == 7


@pytest.mark.parametrize(
    "status",
    [
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.BAD_GATEWAY,
        HTTPStatus.SERVICE_UNAVAILABLE,
        HTTPStatus.GATEWAY_TIMEOUT,
    ],
)
def test_5xx_is_unavailable_naming_the_status(status: HTTPStatus) -> None:
    with pytest.raises(UpstreamUnavailable) as caught:
        call(answer(status, text=f"Traceback ... {BASE_URL}"))
    assert caught.value.message == f"sequence answered {status.value}"
    assert_leaks_nothing(caught.value)


@pytest.mark.parametrize(
    "status",
    [
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.METHOD_NOT_ALLOWED,
        HTTPStatus.CONFLICT,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    ],
)
def test_other_4xx_are_rejected_naming_the_status_when_the_body_has_no_messages(status: HTTPStatus) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        call(answer(status))
    assert caught.value.messages == [f"sequence answered {status.value}"]
    assert caught.value.extensions["code"] == "BAD_USER_INPUT"


def test_other_4xx_pass_the_upstreams_messages_through() -> None:
    with pytest.raises(UpstreamRejected) as caught:
        call(answer(HTTPStatus.BAD_REQUEST), error_messages=lambda body, content_type: ["per_page is too large"])
    assert caught.value.messages == ["per_page is too large"]


def test_408_is_a_timeout_not_bad_input() -> None:
    with pytest.raises(UpstreamTimeout):
        call(answer(HTTPStatus.REQUEST_TIMEOUT))


@pytest.mark.parametrize("status", [HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.FOUND, HTTPStatus.NOT_MODIFIED])
def test_3xx_is_a_bad_response_because_redirects_are_not_followed(status: HTTPStatus) -> None:
    with pytest.raises(UpstreamBadResponse):
        call(answer(status, headers={"Location": "http://evil.example/"}))


# upstream_errors


def raising(exc_type: type[httpx.RequestError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        # httpx messages often carry the URL; the mapped error must not.
        raise exc_type(f"failed talking to {request.url} as gateway:{PASSWORD}", request=request)

    return handler


@pytest.mark.parametrize(
    ("exc_type", "mapped", "message"),
    [
        (httpx.ConnectError, UpstreamUnavailable, "sequence could not be reached"),
        (httpx.ReadError, UpstreamUnavailable, "sequence could not be reached"),
        (httpx.RemoteProtocolError, UpstreamUnavailable, "sequence could not be reached"),
        (httpx.ReadTimeout, UpstreamTimeout, "sequence did not answer in time"),
        (httpx.ConnectTimeout, UpstreamTimeout, "sequence did not answer in time"),
        (httpx.PoolTimeout, UpstreamTimeout, "sequence did not answer in time"),
        (httpx.DecodingError, UpstreamBadResponse, "sequence sent an answer that could not be read"),
    ],
)
def test_transport_errors_map_to_gateway_errors_without_the_url(
    exc_type: type[httpx.RequestError], mapped: type[GatewayError], message: str
) -> None:
    with pytest.raises(mapped) as caught:
        call(raising(exc_type))
    assert type(caught.value) is mapped
    assert caught.value.message == message
    assert_leaks_nothing(caught.value)
    assert isinstance(caught.value.__cause__, exc_type)  # kept for the logs


def test_errors_that_are_not_httpx_errors_pass_through_the_boundary() -> None:
    with pytest.raises(KeyError), upstream_errors("sequence"):
        raise KeyError("jobs")


# Origin


def test_origin_joins_relative_paths_under_the_base_path() -> None:
    origin = Origin("http://127.0.0.1:8101/api/")
    assert origin.url("work_areas/10/jobs") == "http://127.0.0.1:8101/api/work_areas/10/jobs"
    assert origin.url("/work_areas/10") == "http://127.0.0.1:8101/api/work_areas/10"
    assert origin.url("work_areas/10/jobs?page=2") == "http://127.0.0.1:8101/api/work_areas/10/jobs?page=2"


def test_origin_without_a_path_prefix_joins_at_the_root() -> None:
    origin = Origin("https://genie.portal.gofilex.com")
    assert (
        origin.url("api/publication/v1/orders/status")
        == "https://genie.portal.gofilex.com/api/publication/v1/orders/status"
    )


def test_origin_keeps_a_bare_query_flag_verbatim() -> None:
    origin = Origin("http://127.0.0.1:8101/api")
    url = origin.url("work_areas/10/jobs/3/tasks?deleted")
    assert url == "http://127.0.0.1:8101/api/work_areas/10/jobs/3/tasks?deleted"
    assert httpx.URL(url).query == b"deleted"


def test_origin_writes_scheme_and_host_in_lower_case() -> None:
    origin = Origin("http://Sequence.Example:8101/api")
    assert origin.url("jobs") == "http://sequence.example:8101/api/jobs"


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:8101/api/work_areas/10/jobs/3/tasks?deleted",  # its own origin, as a payload links
        "HTTP://127.0.0.1:8101/api/jobs",
        "https://genie.portal.gofilex.com:443/x",
    ],
)
def test_origin_never_builds_a_request_from_an_absolute_link_even_its_own(link: str) -> None:
    # Links in payloads are data: requests are built from ids, as paths.
    origin = Origin("http://127.0.0.1:8101/api")
    with pytest.raises(ForeignLinkError, match="absolute link"):
        origin.url(link)


@pytest.mark.parametrize(
    "link",
    [
        "http://evil.com/api/work_areas/10",  # another host
        "http://127.0.0.1:8102/api/work_areas/10",  # another port
        "http://127.0.0.1/api/work_areas/10",  # the default port is another port
        "https://127.0.0.1:8101/api/work_areas/10",  # another scheme
        "ftp://127.0.0.1:8101/api/work_areas/10",
        "http://127.0.0.1:8101/admin",  # outside the prefix
        "http://127.0.0.1:8101/apix/work_areas",  # a sibling of the prefix
        "http://127.0.0.1:8101/api/../admin",  # a dot segment escaping the prefix
        "http://127.0.0.1:8101/api/%2e%2e/admin",  # the same, percent-encoded
        "/api/../admin",
        "../admin",
        "work_areas/./10",
        "//evil.com/x",  # scheme-relative
        "//127.0.0.1:8101/api/x",
        "http://user@127.0.0.1:8101/api/x",  # userinfo
        "http://user:pw@127.0.0.1:8101/api/x",
        "http://127.0.0.1:8101@evil.com/api/x",
        "http://127.0.0.1:notaport/api/x",
        "http://127.0.0.1:8101/api/x#frag",
        "http:\\\\evil.com\\api",  # backslashes some parsers read as slashes
    ],
)
def test_origin_refuses_links_outside_the_configured_origin(link: str) -> None:
    origin = Origin("http://127.0.0.1:8101/api")
    with pytest.raises(ForeignLinkError):
        origin.url(link)


def test_a_foreign_link_error_is_a_value_error() -> None:
    assert issubclass(ForeignLinkError, ValueError)


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://127.0.0.1/api",  # not http(s)
        "127.0.0.1:8101/api",  # no scheme
        "http:///api",  # no host
        "http://127.0.0.1:8101/api?x=1",  # a query would be silently dropped
    ],
)
def test_origin_refuses_a_base_url_that_is_not_an_http_origin(base_url: str) -> None:
    with pytest.raises(ValueError):
        Origin(base_url)


def test_origin_refuses_credentials_in_the_base_url_without_echoing_them() -> None:
    with pytest.raises(ValueError) as caught:
        Origin(f"http://gateway:{PASSWORD}@127.0.0.1:8101/api")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, False), (502, True), (503, True), (504, True), (408, True), (404, False)]
)
def test_the_boundary_marks_which_failures_a_safe_read_may_retry(status: int, retryable: bool) -> None:
    response = httpx.Response(status, request=httpx.Request("GET", "http://sequence.test/api"))
    with pytest.raises(GatewayError) as caught:
        raise_for_status("sequence", response, error_messages=lambda body, media_type: [])
    assert getattr(caught.value, "retryable", False) is retryable


@pytest.mark.parametrize("error", [httpx.ConnectError("x"), httpx.ReadTimeout("x"), httpx.RemoteProtocolError("x")])
def test_transport_failures_are_retryable(error: Exception) -> None:
    with pytest.raises(UpstreamError) as caught, upstream_errors("sequence"):
        raise error
    assert caught.value.retryable is True
