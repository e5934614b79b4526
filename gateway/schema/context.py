"""What every resolver can reach: the per-request loaders and the app's upstreams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.types import Info as StrawberryInfo

from gateway.loaders import Loaders
from gateway.upstreams.registry import Upstreams


@dataclass
class Context:
    upstreams: Upstreams
    loaders: Loaders
    request: Any = None
    response: Any = None
    # The whole operation's time budget (GATEWAY_REQUEST_TIMEOUT).
    deadline_seconds: float | None = None
    # Sequence's events for subscriptions (an EventHub).
    events: Any = None


Info = StrawberryInfo[Context, None]
