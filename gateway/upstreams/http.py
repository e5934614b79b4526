"""The HTTP boundary shared by the upstream clients.

Everything that turns the wire into gateway errors lives here:

- `Origin` builds request URLs from paths under the configured upstream, and
  refuses anything else: an absolute or scheme-relative link (even one of its
  own origin), a fragment, a backslash, dot segments. (The base URL itself may
  not carry credentials.) Links in payloads are data, never requested, so
  nothing read from a payload can send the gateway elsewhere.
- `upstream_errors()` wraps each upstream call and maps httpx exceptions to
  the gateway's error tree, most specific first, like `map_httpcore_exceptions`
  in httpx.
- `raise_for_status()` maps non-2xx answers.

Messages name the upstream and what went wrong, never a URL: httpx puts the
URL into many of its messages, so those are kept only as `__cause__` for logs.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, unquote, urlsplit

import cachetools
import httpx

from gateway.errors import (
    NotFound,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


class ForeignLinkError(ValueError):
    """Raised when a path or link would send a request outside the configured origin."""


class Origin:
    """One configured upstream origin; requests only ever go here.

    Example:
        >>> origin = Origin("http://127.0.0.1:8101/api")
        >>> origin.url("work_areas/10/jobs/3/tasks?deleted")
        'http://127.0.0.1:8101/api/work_areas/10/jobs/3/tasks?deleted'
    """

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"upstream URL must be http or https, not {parts.scheme or 'schemeless'}")
        # Checked before anything is echoed back: a password in the URL must not reach a log.
        if "@" in parts.netloc:
            raise ValueError("upstream URL must not contain credentials")
        if not parts.hostname:
            raise ValueError(f"upstream URL has no host: {base_url}")
        if parts.query or parts.fragment:
            raise ValueError(f"upstream URL must not have a query or fragment: {base_url}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = _port(parts)
        self.prefix = parts.path.rstrip("/")
        if _has_dot_segments(self.prefix):
            raise ValueError(f"upstream URL path must not contain '.' or '..' segments: {base_url}")
        self._root = f"{self.scheme}://{parts.netloc.lower()}"
        # Checked URLs by what was asked: the same paths recur in every request,
        # and checking one (an httpx parse) cost a fifth of a warm query.
        self._checked: cachetools.LRUCache[str, str] = cachetools.LRUCache(maxsize=16_384)

    def __repr__(self) -> str:
        return f"Origin({self.base_url!r})"

    @property
    def base_url(self) -> str:
        return self._root + self.prefix

    def url(self, path: str) -> str:
        """The absolute URL for a path under the base: "work_areas/10" and "/work_areas/10" alike.

        Raises:
            ForeignLinkError: `path` is an absolute or scheme-relative link, or
                has a fragment, a backslash or dot segments.
        """
        url = self._checked.get(path)
        if url is None:
            url = self._checked[path] = self._build(path)
        return url

    def _build(self, relative: str) -> str:
        if "#" in relative or "\\" in relative:
            raise ForeignLinkError("link has a fragment or a backslash")
        parts = urlsplit(relative)
        if parts.scheme or parts.netloc or relative.startswith("//"):
            # Requests are built from ids under the configured origin; a link is data.
            raise ForeignLinkError("an absolute link is never requested; requests are built from paths")
        path = self.prefix + "/" + parts.path.lstrip("/")
        if _has_dot_segments(path):
            raise ForeignLinkError("link path has '.' or '..' segments")
        # Keep the query verbatim: Sequence's "?deleted" is a bare flag that "deleted=" would not match.
        query = "?" + parts.query if parts.query else ""
        url = self._root + path + query
        self._check_parsed(url)
        return url

    def _check_parsed(self, url: str) -> None:
        # Defence in depth against parser differentials: httpx, which sends the
        # request, must read the same origin out of the URL we built.
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise ForeignLinkError("link is not a valid URL") from None
        port = parsed.port or DEFAULT_PORTS[parsed.scheme]
        if (parsed.scheme, parsed.host, port) != (self.scheme, self.host, self.port):
            raise ForeignLinkError("link points to another origin")


def _port(parts: SplitResult) -> int:
    return parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def _has_dot_segments(path: str) -> bool:
    # Decoded, because some servers resolve "%2e%2e" as "..".
    return any(unquote(segment) in {".", ".."} for segment in path.split("/"))


@contextlib.contextmanager
def upstream_errors(upstream: str) -> Iterator[None]:
    """Map httpx exceptions raised inside the block to gateway errors for `upstream`."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(upstream, f"{upstream} did not answer in time", retryable=True) from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(upstream, f"{upstream} could not be reached", retryable=True) from exc
    except (httpx.DecodingError, httpx.TooManyRedirects) as exc:
        # The answer arrived but cannot be used: a body with a broken encoding, or a redirect loop.
        raise UpstreamBadResponse(upstream, f"{upstream} sent an answer that could not be read") from exc
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(upstream, f"{upstream} could not be reached") from exc


def raise_for_status(
    upstream: str,
    response: httpx.Response,
    *,
    error_messages: Callable[[bytes, str | None], list[str]],
) -> None:
    """Return on 2xx; otherwise raise the gateway error for the status.

    `error_messages(body, content_type)` extracts the upstream's own validation
    messages from a 4xx body; they reach the client in `UpstreamRejected`.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    raise _status_error(upstream, response, error_messages)


def _status_error(
    upstream: str,
    response: httpx.Response,
    error_messages: Callable[[bytes, str | None], list[str]],
) -> Exception:
    status = response.status_code
    if status == 404:
        return NotFound(f"{upstream}: not found")
    if status in (401, 403):
        return UpstreamUnauthorized(upstream, f"{upstream} refused the gateway's credentials ({status})")
    if status == 429:
        return UpstreamRateLimited(
            upstream, f"{upstream} rate limit reached", retry_after=retry_after_seconds(response.headers)
        )
    if status == 408:
        return UpstreamTimeout(upstream, f"{upstream} did not answer in time", retryable=True)
    if status == 422:
        return UpstreamRejected(upstream, _messages(upstream, response, error_messages))
    if 400 <= status < 500:
        # The gateway sent something the upstream would not take; most often a client's argument.
        messages = _messages(upstream, response, error_messages)
        return UpstreamRejected(upstream, messages or [f"{upstream} answered {status}"])
    if 500 <= status < 600:
        # 502/503/504 say a proxy or the service is briefly unable; a 500 is a
        # fault that the same request would most likely meet again.
        return UpstreamUnavailable(upstream, f"{upstream} answered {status}", retryable=status in (502, 503, 504))
    return UpstreamBadResponse(upstream, f"{upstream} answered {status} unexpectedly")


def _messages(
    upstream: str,
    response: httpx.Response,
    error_messages: Callable[[bytes, str | None], list[str]],
) -> list[str]:
    try:
        return list(error_messages(response.content, response.headers.get("content-type")))
    except Exception:
        # An unreadable error body must not turn a rejection into an internal error.
        logger.warning(
            "could not read the error messages of a %s answer from %s", response.status_code, upstream, exc_info=True
        )
        return []


def retry_after_seconds(headers: httpx.Headers, *, now: datetime | None = None) -> float | None:
    """Seconds until the upstream accepts requests again, from `Ratelimit-Reset` or `Retry-After`.

    `Ratelimit-Reset` (Sequence) is delta seconds; `Retry-After` is delta
    seconds or an HTTP-date. None when neither header is usable.
    """
    reset = _delta_seconds(headers.get("ratelimit-reset"))
    if reset is not None:
        return reset
    value = headers.get("retry-after")
    if value is None:
        return None
    delta = _delta_seconds(value)
    if delta is not None:
        return delta
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _delta_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


__all__ = [
    "ForeignLinkError",
    "Origin",
    "raise_for_status",
    "retry_after_seconds",
    "upstream_errors",
]
