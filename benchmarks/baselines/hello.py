"""Strawberry's "hello world", served like the gateway: the machine's yardstick.

`{ hello }` answers "world". Strawberry's ASGI app at /graphql in a Starlette
app, on uvicorn with one worker and the gateway's server settings, and
nothing tuned: its throughput is the most a Strawberry server can do here.

    python -m benchmarks.baselines.hello

reads GATEWAY_HOST/GATEWAY_PORT (port 0 picks a free one), prints
`GraphQL: http://HOST:PORT/graphql` on stderr once it listens, and serves
until terminated.
"""

from __future__ import annotations

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from benchmarks.baselines import serve
from gateway.config import Settings


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


schema = strawberry.Schema(query=Query)


def create_app(settings: Settings | None = None) -> Starlette:
    return Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])])


def main() -> int:
    return serve(create_app, name="hello", require_upstreams=False)


if __name__ == "__main__":
    raise SystemExit(main())
