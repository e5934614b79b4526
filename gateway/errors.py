"""The gateway's one exception tree, and the stable codes clients see.

    GatewayError                       INTERNAL_SERVER_ERROR    (never raised itself)
    ├── BadUserInput                   BAD_USER_INPUT           a client's argument is invalid (id, cursor, `first`)
    ├── NotFound                       NOT_FOUND                the upstream answered 404: the thing does not exist
    ├── NotConfigured                  UPSTREAM_NOT_CONFIGURED  the deployment has no settings for that upstream
    ├── SubscriberTooSlow              SUBSCRIBER_TOO_SLOW      a subscription fell too far behind (gateway.events.hub)
    └── UpstreamError                                           an upstream call failed; `upstream` names it
        ├── UpstreamUnauthorized       UPSTREAM_UNAUTHORIZED    the upstream refused our credentials (401, 403)
        ├── UpstreamRejected           BAD_USER_INPUT           any other 4xx (422 with its validation messages)
        ├── UpstreamRateLimited        UPSTREAM_RATE_LIMITED    429, or our own budget for it is spent      transient
        ├── UpstreamUnavailable        UPSTREAM_UNAVAILABLE     5xx, refused or dropped connections         unwell
        │   └── CircuitOpen            UPSTREAM_UNAVAILABLE     not called: its breaker is open (upstreams.resilience)
        ├── UpstreamTimeout            UPSTREAM_TIMEOUT         no answer in time, or 408                   unwell
        │   └── DeadlineExceeded       UPSTREAM_TIMEOUT         the request's own time ran out (gateway.deadline)
        └── UpstreamBadResponse        UPSTREAM_BAD_RESPONSE    a body that does not parse or is misshapen  unwell

`unwell` errors show the upstream failing (the breaker counts them); they
and `transient` ones let a stale value stand in (see UpstreamError).

Where upstream errors are raised: the HTTP boundary (gateway.upstreams.http)
maps httpx's exceptions and non-2xx statuses; the guard
(gateway.upstreams.guard) maps a spent budget, the breaker refuses calls,
the deadline refuses waits, and the Redis layer's read-through
(gateway.upstreams.redis_layer) maps a body that does not parse.

Exceptions that never reach a client, each mapped where it is caught:
ConfigError and InvalidSetting (settings, at start-up: `gateway serve`
exits naming the variable), PayloadError (a parser's; UpstreamBadResponse),
BudgetExhausted (the budget's; UpstreamRateLimited), ForeignLinkError (a
path outside the configured origin; a bug, masked as "Unexpected error."),
httpx.HTTPError (mapped by `upstream_errors`). Anything else a resolver
raises is masked and logged with its traceback (gateway.schema).

Messages are written for clients: they name the upstream and what went
wrong, never a URL, a credential or a stack trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error the gateway reports to clients."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        # graphql-core copies an error's `extensions` into the response.
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(GatewayError):
    """Raised when a client's argument is out of range or malformed (a cursor, an id, `first`)."""

    code = "BAD_USER_INPUT"


class NotFound(GatewayError):
    """Raised when the upstream answers 404 or an id names nothing."""

    code = "NOT_FOUND"


class NotConfigured(GatewayError):
    """Raised when a query needs an upstream (a Gofilex portal) this deployment has no settings for."""

    code = "UPSTREAM_NOT_CONFIGURED"


class UpstreamError(GatewayError):
    """Raised when a call to an upstream fails; `upstream` names it ("sequence", "gofilex:EMEA").

    `retryable` is decided at the boundary, which knows the cause: a safe read
    may be tried again after a connection error, a timeout, 502, 503 or 504.

    Two class-level answers are the one definition of what an error says of
    its upstream:
    - `unwell`: the upstream itself is failing (cannot be reached, does not
      answer in time, answers 5xx or garbage). The circuit breaker counts
      these; any other answer shows the upstream working.
    - `transient`: the same read may well succeed soon (unwell, or refusing
      us for now with 429), so the last good value may stand in for it
      (stale-if-error). Never for a refusal of the request itself or a
      thing that is gone.
    """

    unwell: ClassVar[bool] = False
    transient: ClassVar[bool] = False

    def __init__(self, upstream: str, message: str, *, retryable: bool = False, **extensions: Any) -> None:
        super().__init__(message, upstream=upstream, **extensions)
        self.upstream = upstream
        self.retryable = retryable


class UpstreamUnauthorized(UpstreamError):
    """Raised when the upstream answers 401 or 403 to the gateway's credentials."""

    code = "UPSTREAM_UNAUTHORIZED"


class UpstreamRejected(UpstreamError):
    """Raised when the upstream refuses the request with a 4xx other than 401, 403, 404, 408
    and 429 (a 422 carries validation messages); `messages` are the upstream's own."""

    code = "BAD_USER_INPUT"

    def __init__(self, upstream: str, messages: Sequence[str]) -> None:
        text = "; ".join(messages) or "the upstream refused the input"
        super().__init__(upstream, f"{upstream} refused the input: {text}", messages=list(messages))
        self.messages = list(messages)


class UpstreamRateLimited(UpstreamError):
    """Raised when the upstream answers 429; `retry_after` is in seconds when known."""

    code = "UPSTREAM_RATE_LIMITED"
    transient = True

    def __init__(self, upstream: str, message: str, *, retry_after: float | None = None) -> None:
        extensions: dict[str, Any] = {"retryAfter": retry_after} if retry_after is not None else {}
        super().__init__(upstream, message, **extensions)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """Raised on 5xx answers and on refused, reset or dropped connections."""

    code = "UPSTREAM_UNAVAILABLE"
    unwell = transient = True


class UpstreamTimeout(UpstreamError):
    """Raised when the upstream does not answer within the timeout."""

    code = "UPSTREAM_TIMEOUT"
    unwell = transient = True


class UpstreamBadResponse(UpstreamError):
    """Raised when an upstream body does not parse or does not have the documented shape."""

    code = "UPSTREAM_BAD_RESPONSE"
    unwell = transient = True
