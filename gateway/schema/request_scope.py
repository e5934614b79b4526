"""What spans one GraphQL operation: its deadline, and the stale answers it used.

Every upstream wait, attempt and retry of the operation fits inside its
deadline (gateway.deadline), set here from the context's `deadline_seconds`.

The response cache records a notice whenever it answers past an entry's
freshness (refreshing in the background, or standing in for a failing
upstream); this extension collects the request's notices and reports them:

    "extensions": {"stale": [{"upstream": "sequence", "ageSeconds": 42.0, "reason": "UPSTREAM_UNAVAILABLE"}]}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway import deadline
from gateway.upstreams.cache import StaleNotice, collect_stale_notices


class RequestScopeExtension(SchemaExtension):
    notices: list[StaleNotice]

    def on_operation(self) -> Iterator[None]:
        with collect_stale_notices() as notices:
            self.notices = notices
            yield

    def on_execute(self) -> Iterator[None]:
        # Here the document is parsed, so the operation's type is known.
        seconds = getattr(self.execution_context.context, "deadline_seconds", None)
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            # A subscription lives as long as its client; its reads are not one request.
            seconds = None
        with deadline.scope(seconds):
            yield

    def get_results(self) -> dict[str, Any]:
        notices = getattr(self, "notices", None)
        if not notices:
            return {}
        return {
            "stale": [
                {"upstream": notice.upstream, "ageSeconds": notice.age, "reason": notice.reason} for notice in notices
            ]
        }
