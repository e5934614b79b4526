"""Serving ASGI apps on loopback sockets: in the foreground for the CLI, in a
thread for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a response written in two
    # parts (head, then body) waits for the client's delayed ACK, 40 ms a request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@dataclass
class Served:
    app: ASGIApp
    sock: socket.socket

    @property
    def url(self) -> str:
        return base_url(self.sock)


def _server(served: Served) -> uvicorn.Server:
    config = uvicorn.Config(
        served.app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        # Simulators and tests talk to each other over keep-alive connections;
        # a short timeout would make clients meet closed sockets mid-test.
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


async def serve_all(apps: Sequence[Served]) -> None:
    """Serve every app on its socket until cancelled or interrupted."""
    servers = [_server(served) for served in apps]
    await asyncio.gather(*(server.serve(sockets=[served.sock]) for server, served in zip(servers, apps, strict=True)))


class ServerThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread.

    Tests use it to reach the simulators over real HTTP.
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.url = base_url(self.sock)
        self._server = _server(Served(app, self.sock))
        self._thread = threading.Thread(target=self._run, name=f"uvicorn {self.url}", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self.sock]))

    def start(self) -> ServerThread:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                self.sock.close()
                raise RuntimeError(f"server on {self.url} failed to start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sock.close()


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on a free loopback port for the duration of the block; yields its base URL."""
    server = ServerThread(app).start()
    try:
        yield server.url
    finally:
        server.stop()
