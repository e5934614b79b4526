"""The processes a benchmark run starts, and what /proc says about them.

Every server runs as a real process on 127.0.0.1: the simulators
(`gateway simulate`), the gateway (`gateway serve`), the naive gateway and
the hello-world baseline. Their output is drained by a thread each, so a
chatty server never blocks on a full pipe, and `wait_for` finds the line that
says a server is listening. `stop` terminates, then kills.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

GRAPHQL_LINE = re.compile(r"GraphQL: (http://\S+/graphql)")
SIMULATOR_KEYS = (
    "SEQUENCE_URL",
    "SEQUENCE_USERNAME",
    "SEQUENCE_PASSWORD",
    "GOFILEX_EMEA_URL",
    "GOFILEX_APAC_URL",
    "GOFILEX_MPS_URL",
    "GOFILEX_NORAM_URL",
    "GOFILEX_TOKEN",
)
# Variables a server under test must not inherit from the caller's shell: they
# would point it elsewhere (Redis, proxies, other upstreams) or change its settings.
_INHERITED_PREFIXES = ("GATEWAY_", "SEQUENCE_", "GOFILEX_", "SIM_", "REDIS_")
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
LOOPBACK = "127.0.0.1"
# Servers run from the repository root, so `python -m benchmarks.baselines...` resolves wherever the harness runs.
ROOT = Path(__file__).resolve().parent.parent


class ProcessError(RuntimeError):
    """A server did not start, or died; the message carries its last output."""


def unwind_on_sigterm() -> None:
    """Make a SIGTERM unwind like Ctrl-C, so the `finally` that stops every server started runs."""

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without upstream, gateway or proxy settings, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_INHERITED_PREFIXES) and key.lower() not in _PROXY_VARIABLES
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def require_loopback(url: str) -> str:
    """`url` itself, when it points at 127.0.0.1; anything else is refused."""
    host = urlsplit(url).hostname
    if host != LOOPBACK:
        raise ProcessError(f"refusing to benchmark {url!r}: only {LOOPBACK} is contacted")
    return url


class Server:
    """One subprocess with its stdout and stderr drained into bounded line buffers."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = list(argv)
        self._lines: dict[str, collections.deque[str]] = {
            "stdout": collections.deque(maxlen=400),
            "stderr": collections.deque(maxlen=400),
        }
        self._all: list[tuple[str, str]] = []
        self._condition = threading.Condition()
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env),
            cwd=ROOT,
            # Its own session: a Ctrl-C reaches the harness only, which then
            # stops every server in order.
            start_new_session=True,
        )
        self._threads = [
            threading.Thread(target=self._drain, args=(stream, getattr(self.process, stream)), daemon=True)
            for stream in ("stdout", "stderr")
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self, stream: str, pipe: IO[str]) -> None:
        for line in pipe:
            with self._condition:
                self._lines[stream].append(line.rstrip("\n"))
                # Keep the first lines for `wait_for`, which may look for them later.
                if len(self._all) < 200:
                    self._all.append((stream, line.rstrip("\n")))
                self._condition.notify_all()
        with self._condition:
            self._condition.notify_all()

    def wait_for(self, found: Callable[[list[tuple[str, str]]], object], timeout: float) -> object:
        """The first truthy `found(lines so far)`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                result = found(self._all)
                if result:
                    return result
                if self.process.poll() is not None and not any(thread.is_alive() for thread in self._threads):
                    raise ProcessError(f"{self.name} exited with {self.process.returncode}\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProcessError(f"{self.name} did not start within {timeout:.0f} s\n{self.tail()}")
                self._condition.wait(min(left, 0.2))

    def lines(self, stream: str) -> list[str]:
        """The last lines (up to 400) the process wrote on `stream` ("stdout" or "stderr")."""
        with self._condition:
            return list(self._lines[stream])

    def tail(self, lines: int = 30) -> str:
        out = [f"[{stream}] {line}" for stream in ("stdout", "stderr") for line in list(self._lines[stream])[-lines:]]
        return "\n".join(out) or "(no output)"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """Terminate, wait `grace` seconds, then kill; never raises."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(grace)
        for thread in self._threads:
            thread.join(1.0)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                with contextlib.suppress(Exception):
                    pipe.close()


class Fleet:
    """Every server started in a run; `stop_all` (in a finally) ends the ones still running."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Server:
        server = Server(name, argv, env)
        self.servers.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        with contextlib.suppress(ValueError):
            self.servers.remove(server)

    def stop_all(self) -> None:
        # Newest first: the gateways before the simulators they talk to.
        while self.servers:
            self.servers.pop().stop()


@dataclass
class Simulators:
    server: Server
    env: dict[str, str]

    @property
    def sequence_base(self) -> str:
        return self.env["SEQUENCE_URL"].removesuffix("/api")

    @property
    def gofilex_base(self) -> str:
        return self.env["GOFILEX_EMEA_URL"].removesuffix("/emea")


def start_simulators(
    fleet: Fleet,
    *,
    seed: int,
    now: str,
    latency_ms: float,
    jitter_ms: float,
    large: bool,
    jobs: int | None = None,
    rate_limit: bool = False,
    activity: float | None = None,
    timeout: float = 120.0,
) -> Simulators:
    """`gateway simulate` on free ports; its KEY=value settings once it prints them.

    The rate limit stays off unless `rate_limit` (the reference queries count
    calls, not budget); `activity` makes Sequence change its own data, that
    many changes per minute (the workday scenario).
    """
    argv = [
        sys.executable,
        "-m",
        "gateway",
        "simulate",
        "--host",
        LOOPBACK,
        "--sequence-port",
        "0",
        "--gofilex-port",
        "0",
        "--latency-ms",
        str(latency_ms),
        "--jitter-ms",
        str(jitter_ms),
        "--seed",
        str(seed),
        "--now",
        now,
    ]
    if not rate_limit:
        argv.append("--no-rate-limit")
    if activity is not None:
        argv += ["--activity", f"{activity:g}"]
    if large:
        argv.append("--large")
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    server = fleet.start("simulators", argv, clean_environment())

    def settings(lines: list[tuple[str, str]]) -> dict[str, str] | None:
        found = dict(line.partition("=")[::2] for stream, line in lines if stream == "stdout" and "=" in line)
        return found if all(key in found for key in SIMULATOR_KEYS) else None

    env = server.wait_for(settings, timeout)
    assert isinstance(env, dict)
    env = {key: env[key] for key in SIMULATOR_KEYS}
    for key in SIMULATOR_KEYS:
        if key.endswith("_URL"):
            require_loopback(env[key])
    return Simulators(server, env)


def start_graphql_server(
    fleet: Fleet, name: str, module: str, args: Sequence[str], env: Mapping[str, str], timeout: float = 60.0
) -> tuple[Server, str]:
    """`python -m module *args` with `env`; its GraphQL URL once it says it listens."""
    server = fleet.start(name, [sys.executable, "-m", module, *args], clean_environment(env))

    def url(lines: list[tuple[str, str]]) -> str | None:
        for stream, line in lines:
            match = GRAPHQL_LINE.search(line)
            if stream == "stderr" and match:
                return match.group(1)
        return None

    found = server.wait_for(url, timeout)
    assert isinstance(found, str)
    return server, require_loopback(found)


# /proc ---------------------------------------------------------------------
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` so far, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of `pid`, in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return {"rss_mb": values.get("VmRSS", 0.0), "peak_rss_mb": values.get("VmHWM", 0.0)}


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (proc(5), clear_refs "5"); False where not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def pinned(server_pid: int | None) -> Iterator[None]:
    """Run the server on one core and this process (the load) on the others, while inside.

    One worker each, as the throughput targets say; on a single-core machine nothing changes.
    """
    cores = sorted(os.sched_getaffinity(0))
    if server_pid is None or len(cores) < 2:
        yield
        return
    try:
        server_cores = sorted(os.sched_getaffinity(server_pid))
        os.sched_setaffinity(server_pid, {cores[0]})
        os.sched_setaffinity(0, set(cores[1:]))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, set(cores))
        with contextlib.suppress(OSError):
            os.sched_setaffinity(server_pid, set(server_cores))
