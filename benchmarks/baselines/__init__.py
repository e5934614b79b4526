"""Reference implementations the benchmarks compare the gateway against.

- `naive`: the reference queries answered by plain Strawberry resolvers that
  call the upstreams per field (no loaders, no cache, no batching).
- `hello`: Strawberry's "hello world", the machine's throughput yardstick.

Each runs as its own process (`python -m benchmarks.baselines.naive`), reads
the same environment as `gateway serve` and prints `GraphQL: <url>` on stderr
once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Mapping

from starlette.types import ASGIApp

from gateway.config import ConfigError, Settings
from gateway.simulators.server import Served, base_url, bind, serve_all


def serve(build: Callable[[Settings], ASGIApp], *, name: str, require_upstreams: bool) -> int:
    """Read the environment as `gateway serve` does, bind GATEWAY_HOST:GATEWAY_PORT
    (0 picks a free port), announce `GraphQL: <url>/graphql` on stderr and serve
    with uvicorn (one worker, the gateway's server settings) until terminated."""
    environ: Mapping[str, str] = os.environ
    if not require_upstreams:
        # Only where to listen: upstream variables meant for the gateways are none of its business.
        environ = {key: value for key, value in environ.items() if key in ("GATEWAY_HOST", "GATEWAY_PORT")}
    try:
        settings = Settings.from_env(environ, require_upstreams=require_upstreams)
        sock = bind(settings.host, settings.port)
    except (ConfigError, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr, flush=True)
        return 2
    app = build(settings)
    print(f"GraphQL: {base_url(sock)}/graphql", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_all([Served(app, sock)]))
    return 0
