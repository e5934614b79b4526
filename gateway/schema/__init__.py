"""The GraphQL schema: one graph over Sequence and Gofilex."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from gateway.errors import GatewayError
from gateway.schema.gofilex import GofilexJob, GofilexOrder
from gateway.schema.query import Query
from gateway.schema.request_scope import RequestScopeExtension
from gateway.schema.scalars import SCALARS
from gateway.schema.sequence import (
    SequenceAsset,
    SequenceHook,
    SequenceJob,
    SequenceNote,
    SequenceProblem,
    SequenceTask,
    WorkArea,
)
from gateway.schema.subscription import Subscription

logger = logging.getLogger("gateway.graphql")

# Every Node type, so `node(id:)` can return any of them.
NODE_TYPES = [
    WorkArea,
    SequenceJob,
    SequenceTask,
    SequenceAsset,
    SequenceNote,
    SequenceProblem,
    SequenceHook,
    GofilexOrder,
    GofilexJob,
]


def _should_mask(error: Exception) -> bool:
    original = getattr(error, "original_error", None)
    if original is None:
        # GraphQL's own errors (syntax, validation, coercion) are safe and useful.
        return False
    return not isinstance(original, GatewayError)


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log expected errors in one line and everything else with its traceback."""
        for error in errors:
            original = error.original_error
            if isinstance(original, GatewayError):
                logger.warning("%s at %s: %s", original.code, ".".join(map(str, error.path or ())), original.message)
            else:
                StrawberryLogger.error(error, execution_context)


def build_schema() -> strawberry.Schema:
    return GatewaySchema(
        query=Query,
        subscription=Subscription,
        types=NODE_TYPES,
        config=StrawberryConfig(scalar_map=SCALARS),
        # Factories: a fresh extension per request. The parser and validation
        # caches live at module level in Strawberry, shared across requests.
        extensions=[
            lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
            RequestScopeExtension,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


schema = build_schema()
