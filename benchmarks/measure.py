"""Measurements: latency samples, upstream call counts, CPU and memory, throughput.

Upstream calls are what the simulators counted (`/_sim/stats`), less the
events poller's `GET /api/events`; digest challenges (401s) are counted on
their own. CPU time and memory come from the server's /proc entries.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks import processes
from benchmarks.queries import Q5, public

EVENTS_ROUTE = "GET /api/events"


def percentile(values: list[float], share: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Calls:
    calls: int = 0  # upstream requests, less the events feed and digest challenges
    challenges: int = 0  # 401 digest challenges
    events: int = 0  # the events poller's reads
    limited: int = 0  # 429 answers (Sequence's rate limit)
    total: int = 0  # every request the simulators answered, whatever it was
    by_route: dict[str, int] = field(default_factory=dict)

    def since(self, earlier: Calls) -> Calls:
        """The requests counted after `earlier`, a reading of the same counters."""
        routes = {route: count - earlier.by_route.get(route, 0) for route, count in self.by_route.items()}
        return Calls(
            calls=self.calls - earlier.calls,
            challenges=self.challenges - earlier.challenges,
            events=self.events - earlier.events,
            limited=self.limited - earlier.limited,
            total=self.total - earlier.total,
            by_route={route: count for route, count in routes.items() if count},
        )


class UpstreamStats:
    """The simulators' request counters, read and reset through their control API."""

    def __init__(self, sequence_base: str, gofilex_base: str) -> None:
        self.bases = [processes.require_loopback(sequence_base), processes.require_loopback(gofilex_base)]
        self.sequence_base = self.bases[0]
        self.client = httpx.AsyncClient(timeout=10, trust_env=False)

    async def reset(self) -> None:
        for base in self.bases:
            (await self.client.delete(f"{base}/_sim/stats")).raise_for_status()

    async def read(self, *, sequence_only: bool = False) -> Calls:
        result = Calls()
        for base in self.bases[:1] if sequence_only else self.bases:
            response = await self.client.get(f"{base}/_sim/stats")
            response.raise_for_status()
            stats = response.json()
            for route, count in stats["by_route"].items():
                result.by_route[route] = result.by_route.get(route, 0) + count
                if route == EVENTS_ROUTE:
                    result.events += count
                else:
                    result.calls += count
            result.challenges += int(stats["by_status"].get("401", 0))
            result.limited += int(stats["by_status"].get("429", 0))
            result.total += int(stats["total"])
        # A challenge is the first half of a request that is then sent again.
        # Out of the measured windows the only one is the events poller's very
        # first read, so a challenge inside one belongs to a counted call.
        result.calls -= min(result.challenges, result.calls)
        return result

    async def set_faults(self, **settings: float) -> None:
        for base in self.bases:
            (await self.client.put(f"{base}/_sim/faults", json=settings)).raise_for_status()

    async def aclose(self) -> None:
        await self.client.aclose()


class GraphQLError(RuntimeError):
    pass


class GraphQL:
    """GraphQL requests to one server, timed; `connections` of them at once at most."""

    def __init__(self, url: str, connections: int = 8) -> None:
        self.url = processes.require_loopback(url)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0), trust_env=False, limits=httpx.Limits(max_connections=connections)
        )

    async def run(self, text: str, variables: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        """(seconds, response body) of one request."""
        payload: dict[str, Any] = {"query": text}
        if variables:
            payload["variables"] = public(variables)
        started = time.perf_counter()
        response = await self.client.post(self.url, json=payload, headers={"Accept": "application/json"})
        elapsed = time.perf_counter() - started
        try:
            body = response.json()
        except ValueError:
            body = {"errors": [{"message": f"HTTP {response.status_code}: {response.text[:200]}"}]}
        if response.status_code != 200 and "errors" not in body:
            body["errors"] = [{"message": f"HTTP {response.status_code}"}]
        return elapsed, body

    async def aclose(self) -> None:
        await self.client.aclose()


def first_error(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    if not errors:
        return None
    error = errors[0]
    code = (error.get("extensions") or {}).get("code", "")
    return f"{code} {error.get('message', '')}".strip()


@dataclass
class SampleSet:
    """Samples of one query in one phase (cold or warm) on one server."""

    server: str
    query: str
    phase: str
    latencies_ms: list[float] = field(default_factory=list)
    calls: list[float] = field(default_factory=list)  # per sample (cold) or the average (warm)
    challenges: int = 0
    events_calls: int = 0
    min_calls: int = 0
    round_trips: int = 0
    critical_path_ms: float = 0.0
    cpu_ms_per_request: float = math.nan
    peak_rss_mb: float = math.nan
    rss_mb: float = math.nan
    errors: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies_ms, 0.95)

    @property
    def calls_per_request(self) -> float:
        return max(self.calls) if self.calls else math.nan

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(p50_ms=self.p50_ms, p95_ms=self.p95_ms, calls_per_request=self.calls_per_request)
        data["added_ms"] = self.p50_ms - self.critical_path_ms
        return data


class Probe:
    """CPU and memory of one server process around a batch of requests."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.cpu = 0.0

    def start(self) -> None:
        if self.pid is not None:
            processes.reset_peak_rss(self.pid)
            self.cpu = processes.cpu_seconds(self.pid)

    def finish(self, samples: SampleSet, requests: int) -> None:
        if self.pid is None or requests == 0:
            return
        samples.cpu_ms_per_request = (processes.cpu_seconds(self.pid) - self.cpu) * 1000 / requests
        memory = processes.memory_mb(self.pid)
        samples.peak_rss_mb = memory["peak_rss_mb"]
        samples.rss_mb = memory["rss_mb"]


async def sample_cold(
    server: str,
    client: GraphQL,
    stats: UpstreamStats,
    pid: int | None,
    name: str,
    text: str,
    variables_list: list[dict[str, Any]],
) -> SampleSet:
    """One request per set of variables, each never asked before: calls counted per sample."""
    samples = SampleSet(server, name, "cold")
    probe = Probe(pid)
    probe.start()
    for variables in variables_list:
        await stats.reset()
        elapsed, body = await client.run(text, variables)
        calls = await stats.read()
        samples.latencies_ms.append(elapsed * 1000)
        samples.calls.append(calls.calls)
        samples.challenges += calls.challenges
        samples.events_calls += calls.events
        if error := first_error(body):
            samples.errors.append(error)
    probe.finish(samples, len(variables_list))
    return samples


async def sample_warm(
    server: str,
    client: GraphQL,
    stats: UpstreamStats,
    pid: int | None,
    name: str,
    text: str,
    variables: dict[str, Any],
    count: int,
    *,
    prime: bool = False,
) -> SampleSet:
    """`count` identical requests inside the cache lifetime; `prime` asks once first, unmeasured."""
    samples = SampleSet(server, name, "warm")
    if prime:
        await client.run(text, variables)
    probe = Probe(pid)
    await stats.reset()
    probe.start()
    for _ in range(count):
        elapsed, body = await client.run(text, variables)
        samples.latencies_ms.append(elapsed * 1000)
        if error := first_error(body):
            samples.errors.append(error)
    probe.finish(samples, count)
    calls = await stats.read()
    samples.calls = [round(calls.calls / max(count, 1), 3)]
    samples.challenges = calls.challenges
    samples.events_calls = calls.events
    return samples


@dataclass
class Paging:
    """One pass over the Q5 pages, as a BI tool pages: one after the other."""

    server: str
    phase: str
    pages: int = 0
    jobs: int = 0
    total_count: int = 0
    seconds: float = 0.0
    calls: int = 0
    challenges: int = 0
    page_latencies_ms: list[float] = field(default_factory=list)
    rss_before_mb: float = math.nan
    rss_after_mb: float = math.nan
    peak_rss_mb: float = math.nan
    cpu_seconds: float = math.nan
    errors: list[str] = field(default_factory=list)
    extrapolated_from: int | None = None  # pages actually asked, when the totals are scaled up

    @property
    def rss_growth_mb(self) -> float:
        return max(self.peak_rss_mb, self.rss_after_mb) - self.rss_before_mb

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["rss_growth_mb"] = self.rss_growth_mb
        data["p50_page_ms"] = percentile(self.page_latencies_ms, 0.5)
        data["p95_page_ms"] = percentile(self.page_latencies_ms, 0.95)
        return data


async def page_through(
    server: str,
    client: GraphQL,
    stats: UpstreamStats,
    pid: int | None,
    phase: str,
    work_area: str,
    max_pages: int,
) -> Paging:
    paging = Paging(server, phase)
    if pid is not None:
        paging.rss_before_mb = processes.memory_mb(pid)["rss_mb"]
        processes.reset_peak_rss(pid)
        cpu = processes.cpu_seconds(pid)
    await stats.reset()
    after: str | None = None
    started = time.perf_counter()
    while paging.pages < max_pages:
        elapsed, body = await client.run(Q5, {"wa": work_area, "after": after})
        paging.page_latencies_ms.append(elapsed * 1000)
        paging.pages += 1
        if error := first_error(body):
            paging.errors.append(error)
        jobs = ((body.get("data") or {}).get("workArea") or {}).get("jobs")
        if not jobs:
            break
        paging.jobs += len(jobs["nodes"])
        paging.total_count = jobs["totalCount"]
        if not jobs["pageInfo"]["hasNextPage"]:
            break
        after = jobs["pageInfo"]["endCursor"]
    paging.seconds = time.perf_counter() - started
    calls = await stats.read()
    paging.calls, paging.challenges = calls.calls, calls.challenges
    if pid is not None:
        paging.cpu_seconds = processes.cpu_seconds(pid) - cpu
        memory = processes.memory_mb(pid)
        paging.rss_after_mb, paging.peak_rss_mb = memory["rss_mb"], memory["peak_rss_mb"]
    return paging


# Throughput -----------------------------------------------------------------


class _Connection:
    """A bare HTTP/1.1 keep-alive connection: the load generator stays far cheaper than the servers it loads."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    return status, body
                body += chunk[:-2]
        raise GraphQLError("a response without Content-Length or chunked encoding")

    def close(self) -> None:
        self.writer.close()


def _raw_request(url: str, payload: bytes) -> bytes:
    parts = urlsplit(url)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def throughput(url: str, payload: bytes, concurrency: int, seconds: float, warm_round: bool = True) -> dict:
    """Requests per second answered 200 without GraphQL errors, `concurrency` connections kept busy.

    Each connection first sends one request that does not count (`warm_round`:
    connections open, code paths warm). Then every connection sends request
    after request until `seconds` have passed; those still in flight then are
    awaited and counted, and the rate is requests over the time from the first
    send to the last answer. A server that interleaves many slow requests
    answers them in bunches, so counting only answers inside a fixed window
    would undercount it; here it is busy from the first send to the last answer.
    """
    parts = urlsplit(processes.require_loopback(url))
    raw = _raw_request(url, payload)
    connections = [_Connection(*await asyncio.open_connection(parts.hostname, parts.port)) for _ in range(concurrency)]
    counts = {"ok": 0, "failed": 0}
    latencies: list[float] = []

    async def worker(connection: _Connection, until: float | None) -> None:
        while True:
            started = time.perf_counter()
            status, body = await connection.request(raw)
            if until is None:
                return
            latencies.append(time.perf_counter() - started)
            if status == 200 and b'"errors"' not in body:
                counts["ok"] += 1
            else:
                counts["failed"] += 1
            if time.perf_counter() >= until:
                return

    try:
        async with asyncio.timeout(seconds + 600):
            if warm_round:
                await asyncio.gather(*(worker(connection, None) for connection in connections))
            started = time.perf_counter()
            await asyncio.gather(*(worker(connection, started + seconds) for connection in connections))
            elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            connection.close()
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "requests": counts["ok"],
        "failed": counts["failed"],
        "rps": counts["ok"] / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def direct_pages(env: dict[str, str], work_area: str, pages: int) -> dict[str, Any]:
    """The same Q5 pages read straight from Sequence, one after the other: the upstream's own time per page.

    The simulator's time to render a 200-job page comes on top of the injected
    latency; this is the floor any gateway meets, beside the formula's.
    """
    auth = httpx.DigestAuth(env["SEQUENCE_USERNAME"], env["SEQUENCE_PASSWORD"])
    latencies = []
    with httpx.Client(
        base_url=processes.require_loopback(env["SEQUENCE_URL"]) + "/",
        auth=auth,
        headers={"Accept": "application/json"},
        timeout=30,
        trust_env=False,
    ) as client:
        client.get("work_areas").raise_for_status()  # the digest challenge, unmeasured
        for page in range(1, pages + 1):
            started = time.perf_counter()
            response = client.get(
                f"work_areas/{work_area}/jobs", params={"pagination": "true", "per_page": 200, "page": page}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return {"pages": pages, "p50_page_ms": percentile(latencies, 0.5), "p95_page_ms": percentile(latencies, 0.95)}
