"""What spans one GraphQL operation: its deadline, and the stale answers it used.

Every upstream wait, attempt and retry of the operation fits inside its
deadline (gateway.deadline), set here from the context's `deadline_seconds`.

The response cache records a notice (gateway.notices) whenever it answers
past an entry's freshness (refreshing in the background, or standing in for
a failing upstream); this extension collects the request's notices and
reports them:

    "extensions": {"stale": [{"upstream": "sequence", "ageSeconds": 42.0, "reason": "UPSTREAM_UNAVAILABLE"}]}

It also says which lifetimes Sequence's cached reads had while the
operation ran (gateway.upstreams.sequence.coherence): "events" while they
stay valid until an event says otherwise, "time" while the short
time-based lifetime applies:

    "extensions": {"cacheLifetimes": {"sequence": "events"}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway import deadline, notices


class RequestScopeExtension(SchemaExtension):
    stale: list[notices.StaleNotice]

    def on_operation(self) -> Iterator[None]:
        with notices.collect() as stale:
            self.stale = stale
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
        results: dict[str, Any] = {}
        upstreams = getattr(self.execution_context.context, "upstreams", None)
        client = getattr(upstreams, "sequence_client", None)
        if client is not None:
            results["cacheLifetimes"] = {"sequence": client.coherence.in_force.value}
        stale = getattr(self, "stale", None)
        if stale:
            results["stale"] = [
                {"upstream": notice.upstream, "ageSeconds": notice.age, "reason": notice.reason} for notice in stale
            ]
        return results
