"""`gateway`: the command line of the contract (design.md, "Commands")."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Sequence

from gateway.simulators.faults import FaultSettings
from gateway.simulators.ratelimit import RateLimitSettings
from gateway.simulators.server import Served, base_url, bind, serve_all
from gateway.simulators.settings import SimulatorSettings


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
        "--stray-closing-tag",
        action="store_true",
        default=None,
        help="reproduce the seed's XML list quirk (a stray </job>); the lists are then not well-formed",
    )


def simulator_settings(args: argparse.Namespace, environ: dict[str, str]) -> SimulatorSettings:
    settings = SimulatorSettings.from_env(environ)
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


def _given(current: RateLimitSettings | FaultSettings, options: dict[str, object]) -> RateLimitSettings | FaultSettings:
    # replace() runs the settings' own range checks (__post_init__).
    return dataclasses.replace(current, **{name: value for name, value in options.items() if value is not None})


async def _run_simulators(settings: SimulatorSettings, *, banner: str | None = None) -> None:
    from gateway.simulators.apps import build_simulators, environment

    sequence_sock = bind(settings.host, settings.sequence_port)
    gofilex_sock = bind(settings.host, settings.gofilex_port)
    print("generating simulator data ...", file=sys.stderr, flush=True)
    simulators = build_simulators(settings)
    for key, value in environment(settings, base_url(sequence_sock), base_url(gofilex_sock)).items():
        print(f"{key}={value}")
    if banner:
        print(banner, file=sys.stderr)
    sys.stdout.flush()
    await serve_all([Served(simulators.sequence_app, sequence_sock), Served(simulators.gofilex_app, gofilex_sock)])


def _simulate(args: argparse.Namespace) -> int:
    settings = simulator_settings(args, dict(os.environ))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_simulators(settings))
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings = simulator_settings(args, dict(os.environ))
    banner = (
        "demo: serving the Sequence and Gofilex simulators with the settings above "
        "(the GraphQL gateway does not exist yet, so the demo is the simulators alone); Ctrl-C stops."
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_simulators(settings, banner=banner))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="One GraphQL graph over Sequence and Gofilex.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    simulate = commands.add_parser(
        "simulate", help="serve the Sequence and Gofilex simulators; print the KEY=value settings that point at them"
    )
    _simulator_options(simulate)
    simulate.set_defaults(handler=_simulate)
    demo = commands.add_parser("demo", help="run everything on loopback with generated data (the embedded default)")
    _simulator_options(demo)
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (ValueError, OSError) as exc:
        # Bad settings and busy ports are the user's to fix: say which, no traceback.
        parser.exit(2, f"gateway {args.command}: {exc}\n")
