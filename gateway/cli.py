"""`gateway`: the command line of the contract (design.md, "Commands")."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from gateway.simulators.faults import FaultSettings
from gateway.simulators.ratelimit import RateLimitSettings
from gateway.simulators.server import Served, base_url, bind, serve_all
from gateway.simulators.settings import DEMO_ACTIVITY, SimulatorSettings

S = TypeVar("S", RateLimitSettings, FaultSettings)


def _simulator_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("simulators (options override SIM_* variables)")
    group.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    group.add_argument("--sequence-port", type=int, help="Sequence simulator port (default 8101; 0 picks a free one)")
    group.add_argument("--gofilex-port", type=int, help="Gofilex simulator port (default 8102; 0 picks a free one)")
    group.add_argument("--seed", type=int, help="data seed (SIM_SEED, default 42)")
    group.add_argument("--now", help="pin the simulators' clock to this ISO-8601 moment (SIM_NOW)")
    group.add_argument("--jobs", type=int, help="jobs in the main work area (SIM_JOBS, default 3000)")
    group.add_argument(
        "--large", action="store_true", default=None, help="add work area 20 with 30,595 jobs (SIM_LARGE)"
    )
    group.add_argument("--sequence-user", help="Sequence digest username (default robot_user)")
    group.add_argument("--sequence-password", help="Sequence digest password (default password)")
    group.add_argument("--gofilex-token", help="Gofilex bearer token (default: derived from the seed)")
    group.add_argument("--rate-limit", type=int, help="Sequence requests allowed per window per user (default 150)")
    group.add_argument("--rate-window", type=float, help="rate limit window in seconds (default 30)")
    group.add_argument("--ban", type=float, help="ban in seconds after the limit is exceeded (default 300)")
    group.add_argument("--no-rate-limit", action="store_true", default=None, help="turn Sequence's rate limit off")
    group.add_argument("--latency-ms", type=float, help="added latency per request (SIM_LATENCY_MS)")
    group.add_argument("--jitter-ms", type=float, help="uniform jitter around the latency (SIM_JITTER_MS)")
    group.add_argument("--error-rate", type=float, help="share of requests answered 5xx (SIM_ERROR_RATE)")
    group.add_argument("--timeout-rate", type=float, help="share of requests that hang (SIM_TIMEOUT_RATE)")
    group.add_argument("--malformed-rate", type=float, help="share of 2xx bodies corrupted (SIM_MALFORMED_RATE)")
    group.add_argument("--drop-rate", type=float, help="share of connections dropped (SIM_DROP_RATE)")
    group.add_argument("--hang-seconds", type=float, help="how long a hanging request waits (SIM_HANG_SECONDS)")
    group.add_argument(
        "--activity",
        type=float,
        metavar="N",
        help=f"changes a minute Sequence makes by itself (SIM_ACTIVITY; 0 none; simulate: 0, demo: {DEMO_ACTIVITY:g})",
    )
    group.add_argument(
        "--stray-closing-tag",
        action="store_true",
        default=None,
        help="reproduce the seed's XML list quirk (a stray </job>); the lists are then not well-formed",
    )


def simulator_settings(
    args: argparse.Namespace, environ: dict[str, str], *, activity: float = 0.0
) -> SimulatorSettings:
    """The simulators' settings: options over `SIM_*` variables over defaults.

    `activity` is the rate of Sequence's own changes when neither
    `--activity` nor SIM_ACTIVITY gives one.
    """
    settings = SimulatorSettings.from_env(environ)
    if not environ.get("SIM_ACTIVITY"):
        settings = dataclasses.replace(settings, activity=activity)
    plain = {
        "host": args.host,
        "sequence_port": args.sequence_port,
        "gofilex_port": args.gofilex_port,
        "seed": args.seed,
        "now": args.now,
        "jobs": args.jobs,
        "large": args.large,
        "sequence_username": args.sequence_user,
        "sequence_password": args.sequence_password,
        "gofilex_token": args.gofilex_token,
        "stray_closing_tag": args.stray_closing_tag,
        "activity": args.activity,
    }
    limit = {"limit": args.rate_limit, "window": args.rate_window, "ban": args.ban}
    if args.no_rate_limit:
        limit["enabled"] = False
    faults = {
        "latency_ms": args.latency_ms,
        "jitter_ms": args.jitter_ms,
        "error_rate": args.error_rate,
        "timeout_rate": args.timeout_rate,
        "malformed_rate": args.malformed_rate,
        "drop_rate": args.drop_rate,
        "hang_seconds": args.hang_seconds,
    }
    return dataclasses.replace(
        settings,
        rate_limit=_given(settings.rate_limit, limit),
        faults=_given(settings.faults, faults),
        **{name: value for name, value in plain.items() if value is not None},
    )


def _given(current: S, options: dict[str, Any]) -> S:
    # replace() runs the settings' own range checks (__post_init__).
    return dataclasses.replace(current, **{name: value for name, value in options.items() if value is not None})


async def _run_simulators(settings: SimulatorSettings) -> None:
    from gateway.simulators.apps import build_simulators, environment

    sequence_sock = bind(settings.host, settings.sequence_port)
    gofilex_sock = bind(settings.host, settings.gofilex_port)
    print("generating simulator data ...", file=sys.stderr, flush=True)
    simulators = build_simulators(settings)
    freeze_heap()
    if settings.activity:
        print(f"Sequence changes by itself, {settings.activity:g} times a minute.", file=sys.stderr, flush=True)
    for key, value in environment(settings, base_url(sequence_sock), base_url(gofilex_sock)).items():
        print(f"{key}={value}")
    sys.stdout.flush()
    await serve_all([Served(simulators.sequence_app, sequence_sock), Served(simulators.gofilex_app, gofilex_sock)])


def freeze_heap() -> None:
    """Move everything alive now out of the collector's reach (gc.freeze).

    What a server builds before it serves (imported modules, the schema, the
    simulators' data: 690,000 objects with the large work area) lives until
    it stops, yet every full collection walks it again: in the simulator
    that was 100-200 ms pauses answering nobody, 0.64 s over one Q5 export.
    """
    gc.collect()
    gc.freeze()


def _simulate(args: argparse.Namespace) -> int:
    settings = simulator_settings(args, dict(os.environ))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_simulators(settings))
    return 0


async def _run_demo(simulator: SimulatorSettings, environ: dict[str, str]) -> None:
    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.simulators.apps import build_simulators, environment

    sequence_sock = bind(simulator.host, simulator.sequence_port)
    gofilex_sock = bind(simulator.host, simulator.gofilex_port)
    upstream_env = environment(simulator, base_url(sequence_sock), base_url(gofilex_sock))
    # The simulators' settings win over any upstream variables already set:
    # the demo never talks to a real upstream.
    settings = Settings.from_env({**environ, **upstream_env})
    gateway_sock = bind(settings.host, settings.port)
    print("generating simulator data ...", file=sys.stderr, flush=True)
    simulators = build_simulators(simulator)
    app = create_app(settings)
    freeze_heap()
    url = base_url(gateway_sock)
    print(f"GraphQL explorer (GraphiQL): {url}/graphql")
    print(f"Sequence simulator: {upstream_env['SEQUENCE_URL']}  Gofilex simulator: {base_url(gofilex_sock)}")
    if simulator.activity:
        print(f"Sequence changes by itself, {simulator.activity:g} times a minute (--activity 0 turns it off).")
    print("Ctrl-C stops.")
    sys.stdout.flush()
    await serve_all(
        [
            Served(simulators.sequence_app, sequence_sock),
            Served(simulators.gofilex_app, gofilex_sock),
            Served(app, gateway_sock),
        ]
    )


def _demo(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    if args.port is not None:
        environ["GATEWAY_PORT"] = str(args.port)
    # The demo lives: a subscription in the explorer shows Sequence's events within a minute.
    simulator = simulator_settings(args, environ, activity=DEMO_ACTIVITY)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_demo(simulator, environ))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import create_app
    from gateway.config import Settings

    settings = Settings.from_env(os.environ)
    sock = bind(settings.host, settings.port)
    print(f"GraphQL: {base_url(sock)}/graphql", file=sys.stderr, flush=True)
    app = create_app(settings)
    freeze_heap()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_all([Served(app, sock)]))
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from gateway.schema import schema

    printed = schema.as_str() + "\n"
    if not args.check:
        sys.stdout.write(printed)
        return 0
    try:
        saved = Path(args.path).read_text()
    except FileNotFoundError:
        saved = ""
    if saved == printed:
        return 0
    print(f"{args.path} differs from the schema; run `gateway export-schema > {args.path}`", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="One GraphQL graph over Sequence and Gofilex.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    simulate = commands.add_parser(
        "simulate", help="serve the Sequence and Gofilex simulators; print the KEY=value settings that point at them"
    )
    _simulator_options(simulate)
    simulate.set_defaults(handler=_simulate)
    demo = commands.add_parser(
        "demo", help="the embedded default: both simulators and the gateway on loopback; prints the explorer URL"
    )
    demo.add_argument("--port", type=int, help="gateway port (GATEWAY_PORT, default 8000; 0 picks a free one)")
    _simulator_options(demo)
    demo.set_defaults(handler=_demo)
    serve = commands.add_parser("serve", help="serve the gateway against the upstreams named in the environment")
    serve.set_defaults(handler=_serve)
    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--check", action="store_true", help="fail when the schema file differs from the schema")
    export.add_argument("--path", default="schema.graphql", help="the schema file for --check (default schema.graphql)")
    export.set_defaults(handler=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (ValueError, OSError) as exc:
        # Bad settings (ConfigError is a ValueError) and busy ports are the
        # user's to fix: say which, no traceback.
        parser.exit(2, f"gateway {args.command}: {exc}\n")
