"""Both simulators assembled: data, middlewares, control API and activity.

The Sequence simulator is, from the outside in: its activity (changes it
makes by itself while it is served, sequence/activity.py), control API dispatch,
request statistics, latency and faults, digest authentication, the rate
limit, then the resources. Statistics see every answer (401s, 429s and
injected faults included); latency applies to challenges as it would on the
wire; the rate limit counts authenticated requests per user, as Sequence
documents it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.types import ASGIApp

from gateway.simulators.clock import Clock
from gateway.simulators.control import ControlDispatchMiddleware, Controls, create_control_app
from gateway.simulators.digest import DigestAuthMiddleware
from gateway.simulators.faults import FaultInjectionMiddleware
from gateway.simulators.gofilex.app import create_gofilex_app, portal_prefix
from gateway.simulators.gofilex.data import GofilexData, Portal, generate_gofilex
from gateway.simulators.ratelimit import RateLimitMiddleware
from gateway.simulators.sequence.activity import Activity, ActivityLifespanMiddleware, ActivityLoop
from gateway.simulators.sequence.app import create_sequence_app
from gateway.simulators.sequence.generate import default_work_areas, populate
from gateway.simulators.sequence.store import SequenceStore
from gateway.simulators.settings import SimulatorSettings
from gateway.simulators.stats import RequestStats, StatsMiddleware

# The realm of the simulator's digest challenge; the real service answers
# "Production Sequence" (upstreams/sequence.md §1).
SEQUENCE_REALM = "Sequence Simulator"


@dataclass
class Simulators:
    clock: Clock
    sequence_store: SequenceStore
    gofilex_data: GofilexData
    sequence_app: ASGIApp
    gofilex_app: ASGIApp
    sequence_controls: Controls
    gofilex_controls: Controls
    sequence_activity: ActivityLoop


def build_simulators(settings: SimulatorSettings) -> Simulators:
    clock = Clock.at(settings.now) if settings.now else Clock()
    gofilex_data = generate_gofilex(settings.seed, clock, settings.orders_per_portal)
    store = SequenceStore(clock)
    populate(
        store,
        default_work_areas(settings.jobs, large=settings.large),
        seed=settings.seed,
        gofilex_orders={portal.value: gofilex_data.linkable_orders(portal) for portal in Portal},
    )

    sequence_stats = RequestStats()
    rate_limit = RateLimitMiddleware(
        create_sequence_app(store, stray_closing_tag=settings.stray_closing_tag), settings=settings.rate_limit
    )
    digest = DigestAuthMiddleware(
        rate_limit,
        realm=SEQUENCE_REALM,
        users={settings.sequence_username: settings.sequence_password},
        secret=hashlib.sha256(f"sequence-nonce:{settings.seed}".encode()).digest(),
    )
    sequence_faults = FaultInjectionMiddleware(digest, settings=settings.faults)
    # Always built, so the rate can change at run time; at 0 it only waits for one.
    activity = ActivityLoop(Activity(store, seed=settings.seed), settings.activity, seed=settings.seed)
    sequence_controls = Controls(clock, sequence_stats, sequence_faults, rate_limit, activity)

    gofilex_stats = RequestStats()
    gofilex_faults = FaultInjectionMiddleware(
        create_gofilex_app(gofilex_data, tokens=dict.fromkeys(Portal, settings.token), clock=clock),
        settings=settings.faults,
    )
    gofilex_controls = Controls(clock, gofilex_stats, gofilex_faults)

    return Simulators(
        clock=clock,
        sequence_store=store,
        gofilex_data=gofilex_data,
        sequence_app=ActivityLifespanMiddleware(
            _with_controls(StatsMiddleware(sequence_faults, stats=sequence_stats), sequence_controls), loop=activity
        ),
        gofilex_app=_with_controls(StatsMiddleware(gofilex_faults, stats=gofilex_stats), gofilex_controls),
        sequence_controls=sequence_controls,
        gofilex_controls=gofilex_controls,
        sequence_activity=activity,
    )


def _with_controls(app: ASGIApp, controls: Controls) -> ASGIApp:
    return ControlDispatchMiddleware(app, control=create_control_app(controls))


def environment(settings: SimulatorSettings, sequence_url: str, gofilex_url: str) -> dict[str, str]:
    """The contract's variables that point `gateway serve` at running simulators."""
    env = {
        "SEQUENCE_URL": f"{sequence_url}/api",
        "SEQUENCE_USERNAME": settings.sequence_username,
        "SEQUENCE_PASSWORD": settings.sequence_password,
    }
    for portal in Portal:
        env[f"GOFILEX_{portal.value}_URL"] = gofilex_url + portal_prefix(portal)
    env["GOFILEX_TOKEN"] = settings.token
    return env
