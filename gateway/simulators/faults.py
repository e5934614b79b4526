"""Injected latency and failures, so the gateway is built against an unreliable upstream.

Each request first waits `latency ± jitter`, then meets at most one fault:
a 5xx answer, a hang, a truncated body or a dropped connection. Faults come
from a script queued by tests or demos first, then at random by the rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ERROR_STATUSES = (500, 502, 503, 504)
FAULTS = ("500", "502", "503", "504", "timeout", "malformed", "drop", "ok")

_RATES = ("error_rate", "timeout_rate", "malformed_rate", "drop_rate")
_ENV_NAMES = {
    "latency_ms": "LATENCY_MS",
    "jitter_ms": "JITTER_MS",
    "error_rate": "ERROR_RATE",
    "timeout_rate": "TIMEOUT_RATE",
    "malformed_rate": "MALFORMED_RATE",
    "drop_rate": "DROP_RATE",
    "hang_seconds": "HANG_SECONDS",
    "seed": "FAULT_SEED",
}


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    drop_rate: float = 0.0
    hang_seconds: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        _validate({field.name: getattr(self, field.name) for field in fields(self)}, name=str)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], prefix: str = "SIM_") -> FaultSettings:
        """Settings from SIM_LATENCY_MS, SIM_ERROR_RATE, ... SIM_FAULT_SEED; unset or empty keeps the default."""
        values: dict[str, Any] = {}
        for field, suffix in _ENV_NAMES.items():
            raw = environ.get(prefix + suffix, "").strip()
            if not raw:
                continue
            cast = int if field == "seed" else float
            try:
                values[field] = cast(raw)
            except ValueError:
                kind = "an integer" if cast is int else "a number"
                raise ValueError(f"{prefix}{suffix} must be {kind}, got {raw!r}") from None
        _validate(values, name=lambda field: prefix + _ENV_NAMES[field])
        return cls(**values)


def _validate(values: Mapping[str, float | int | None], *, name: Callable[[str], str]) -> None:
    """Raise ValueError naming (through `name`) the first setting out of range."""
    for field, value in values.items():
        if field == "seed" or value is None:
            continue
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name(field)} must be a finite number >= 0, got {value!r}")
        if field in _RATES and value > 1:
            raise ValueError(f"{name(field)} must be within 0..1, got {value!r}")
    rates = [field for field in _RATES if field in values]
    if sum(values[field] or 0.0 for field in rates) > 1:
        raise ValueError(f"{' + '.join(name(field) for field in rates)} must not exceed 1")


class FaultInjectionMiddleware:
    """Delay and break http requests outside `exempt_prefixes` (the simulator's control API).

    `settings` may be replaced at run time; each replacement restarts the random
    sequence from their seed, so a seeded run repeats exactly.
    """

    def __init__(self, app: ASGIApp, *, settings: FaultSettings, exempt_prefixes: Sequence[str] = ("/_sim",)) -> None:
        self.app = app
        self.exempt_prefixes = tuple(exempt_prefixes)
        self._scripted: deque[str] = deque()
        self.settings = settings

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: FaultSettings) -> None:
        self._settings = settings
        self._random = random.Random(settings.seed)

    def script(self, faults: Sequence[str]) -> None:
        """Queue one fault per coming request, before random ones; names are those in FAULTS ("ok": no fault).

        The new script replaces whatever was still queued, so `script([])`
        clears it and one test's leftovers never reach the next.
        """
        if isinstance(faults, str):
            raise ValueError(f"expected a list of faults, got the string {faults!r}")
        unknown = [fault for fault in faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; expected some of {', '.join(FAULTS)}")
        self._scripted.clear()
        self._scripted.extend(faults)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        delay = self._delay()
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self._next_fault()
        if fault in ("500", "502", "503", "504"):
            await _send_error(send, int(fault))
        elif fault == "timeout":
            await self._hang(scope, receive, send)
        elif fault == "malformed":
            await self.app(scope, receive, _truncating(send))
        elif fault == "drop":
            await _drop(receive, send)
        else:
            await self.app(scope, receive, send)

    def _delay(self) -> float:
        settings = self.settings
        jitter = self._random.uniform(-settings.jitter_ms, settings.jitter_ms) if settings.jitter_ms else 0.0
        return max(0.0, settings.latency_ms + jitter) / 1000

    def _next_fault(self) -> str:
        if self._scripted:
            return self._scripted.popleft()
        settings = self.settings
        roll = self._random.random()
        for fault, rate in (
            ("error", settings.error_rate),
            ("timeout", settings.timeout_rate),
            ("malformed", settings.malformed_rate),
            ("drop", settings.drop_rate),
        ):
            if roll < rate:
                return str(self._random.choice(ERROR_STATUSES)) if fault == "error" else fault
            roll -= rate
        return "ok"

    async def _hang(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Read the request first: once the client gives up, uvicorn's receive
        # only reports the disconnect and the app could not read the body.
        messages = await _read_request(receive)
        if messages[-1]["type"] != "http.disconnect":
            # A client that gives up ends the hang early; the app still runs, as a
            # slow server would, but its answer goes nowhere.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.hang_seconds):
                    await _wait_for_disconnect(receive)
        await self.app(scope, _replay(messages, receive), send)


async def _send_error(send: Send, status: int) -> None:
    body = f"{HTTPStatus(status).phrase}\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _truncating(send: Send) -> Send:
    """A send that cuts a 2xx body in half and fixes Content-Length; other answers pass unchanged."""
    start: Message | None = None
    body = bytearray()

    async def truncating_send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        cut = bytes(body[: len(body) // 2])
        headers = [(key, value) for key, value in start.get("headers", []) if key.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut})

    return truncating_send


async def _drop(receive: Receive, send: Send) -> None:
    """Close the connection without answering."""
    transport = find_transport(send)
    if transport is None:
        # Not under uvicorn: promise a body and break off before it, so the
        # client still sees a broken response (the server will log the error).
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]})
        raise ConnectionAbortedError("fault injection dropped the connection")
    transport.close()
    # uvicorn marks the request disconnected in connection_lost, a loop turn
    # later; returning before that makes it log "returned without starting
    # response" and try to answer 500.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            await _wait_for_disconnect(receive)


def find_transport(send: Send) -> asyncio.BaseTransport | None:
    """The connection's transport behind uvicorn's `send`, or None.

    uvicorn's send is a bound method of its per-request cycle, which holds the
    transport. Middlewares in between (Starlette's ServerErrorMiddleware, our
    StatsMiddleware) wrap send in closures, so look through `__wrapped__` and
    closure cells too.
    """
    pending: list[object] = [send]
    seen: set[int] = set()
    while pending and len(seen) < 32:
        candidate = pending.pop()
        if id(candidate) in seen:
            continue
        seen.add(id(candidate))
        transport = getattr(getattr(candidate, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.BaseTransport):
            return transport
        pending.extend(_inner_callables(candidate))
    return None


def _inner_callables(function: object) -> Iterator[object]:
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None:
        yield wrapped
    for cell in getattr(function, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # an empty cell
            if callable(cell.cell_contents):
                yield cell.cell_contents


async def _read_request(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = deque(messages)

    async def replaying_receive() -> Message:
        return pending.popleft() if pending else await receive()

    return replaying_receive
