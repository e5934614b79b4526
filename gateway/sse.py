"""GraphQL subscriptions over Server-Sent Events, in the GraphQL over SSE
protocol's "distinct connections" mode: one HTTP request per subscription.

    POST /graphql/stream   {"query": "subscription { sequenceEvents { eventType jobId } }"}
    Accept: text/event-stream

    event: next
    data: {"data":{"sequenceEvents":{"eventType":"job_updated","jobId":"7"}}}

    : keep-alive

The request is checked before the stream opens, so a query that does not
parse or validate, is not a subscription, or has bad variables is answered
400 with JSON errors. Each result is then a `next` event, and `complete`
ends the stream. A comment every 15 s keeps proxies from closing an idle
stream; a client that goes away ends the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Any

import anyio
import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast, parse, validate
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

KEEP_ALIVE_INTERVAL = 15.0
EVENT_STREAM = "text/event-stream"
HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    # Nginx buffers responses unless told not to, which would hold events back.
    "X-Accel-Buffering": "no",
}


class _BadRequest(Exception):
    pass


def create_sse_endpoint(
    schema: strawberry.Schema,
    get_context: Callable[[Request], Awaitable[Any]],
    *,
    keep_alive: float = KEEP_ALIVE_INTERVAL,
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint (GET and POST) that streams `schema`'s subscriptions as SSE."""

    async def endpoint(request: Request) -> Response:
        if not _accepts_event_stream(request.headers.get("accept")):
            return PlainTextResponse(f"this endpoint answers {EVENT_STREAM} only", HTTPStatus.NOT_ACCEPTABLE)
        try:
            query, variables, operation_name = await _graphql_params(request)
        except _BadRequest as exc:
            return _errors([GraphQLError(str(exc))])
        errors = _request_errors(schema, query, variables, operation_name)
        if errors:
            return _errors(errors)
        results = await schema.subscribe(
            query,
            variable_values=variables,
            context_value=await get_context(request),
            operation_name=operation_name,
        )
        return EventStreamResponse(_events(results, keep_alive))

    return endpoint


class EventStreamResponse(StreamingResponse):
    """A stream that ends as soon as the client disconnects, whatever ASGI
    spec version the server speaks (Starlette stops listening from 2.4 on)."""

    def __init__(self, content: AsyncIterator[str]) -> None:
        super().__init__(content, media_type=EVENT_STREAM, headers=HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with contextlib.suppress(OSError):  # the connection is gone mid-send
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()


async def _events(results: AsyncGenerator[Any, None], keep_alive: float) -> AsyncGenerator[str, None]:
    async def next_result() -> Any:
        return await anext(results)

    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(next_result())
            done, _ = await asyncio.wait({pending}, timeout=keep_alive)
            if not done:
                yield ": keep-alive\n\n"
                continue
            task, pending = pending, None
            try:
                result = task.result()
            except StopAsyncIteration:
                break
            yield f"event: next\ndata: {json.dumps(_payload(result))}\n\n"
            if isinstance(result, PreExecutionError):
                break
        yield "event: complete\ndata:\n\n"
    finally:
        # Shielded: this runs when the client left and the stream was cancelled.
        with anyio.CancelScope(shield=True):
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await results.aclose()


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def _errors(errors: list[GraphQLError]) -> Response:
    return JSONResponse({"errors": [error.formatted for error in errors]}, HTTPStatus.BAD_REQUEST)


def _accepts_event_stream(accept: str | None) -> bool:
    if not accept:
        return True
    types = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    return bool(types & {EVENT_STREAM, "text/*", "*/*"})


async def _graphql_params(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    """query, variables and operationName, from the query string (GET) or a JSON body (POST)."""
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        if "variables" in params:
            params["variables"] = _json(params["variables"], "variables")
    else:
        params = _json(await request.body(), "request body")
        if not isinstance(params, dict):
            raise _BadRequest("the request body must be a JSON object")
    query, variables, operation_name = params.get("query"), params.get("variables"), params.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise _BadRequest("no GraphQL query found in the request")
    if variables is not None and not isinstance(variables, dict):
        raise _BadRequest("variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _BadRequest("operationName must be a string")
    return query, variables, operation_name


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _BadRequest(f"the {what} is not valid JSON") from None


def _request_errors(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> list[GraphQLError]:
    """What makes the request fail before any resolver runs; empty when it may be streamed."""
    graphql_schema = schema._schema
    try:
        document = parse(query)
    except GraphQLError as error:
        return [error]
    errors = validate(graphql_schema, document)
    if errors:
        return errors
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return [GraphQLError("the document has no operation of that name, or several and no operationName")]
    if operation.operation != OperationType.SUBSCRIPTION:
        return [GraphQLError("only subscriptions are served here; send queries and mutations to /graphql")]
    coerced = get_variable_values(graphql_schema, operation.variable_definitions or (), variables or {})
    return coerced if isinstance(coerced, list) else []


__all__ = ["KEEP_ALIVE_INTERVAL", "EventStreamResponse", "create_sse_endpoint"]
