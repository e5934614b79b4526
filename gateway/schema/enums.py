"""Enums of the graph, each with UNKNOWN for values the upstream adds later.

An unknown upstream value must never fail a query: it maps to UNKNOWN, and
the type beside the enum field also exposes the upstream's own string.
"""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

from gateway.upstreams.gofilex.portals import Portal

E = TypeVar("E", bound=enum.Enum)

UNKNOWN_DESCRIPTION = "A value this gateway does not know yet; the upstream's own string is beside this field."


@strawberry.enum(description="A Sequence job's summary status, derived from its tasks, assets and dates.")
class SequenceJobStatus(enum.Enum):
    PENDING = "pending"
    LATE = "late"
    DONE = "done"
    LIVE = "live"
    PASSED = "passed"
    UNKNOWN = strawberry.enum_value("unknown", description=UNKNOWN_DESCRIPTION)


@strawberry.enum(description="The summary of a Sequence job's tasks.")
class SequenceTasksStatus(enum.Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNKNOWN = strawberry.enum_value("unknown", description=UNKNOWN_DESCRIPTION)


@strawberry.enum(description="The summary of a Sequence job's assets.")
class SequenceAssetsStatus(enum.Enum):
    NOT_RECEIVED = "not_received"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    UNKNOWN = strawberry.enum_value("unknown", description=UNKNOWN_DESCRIPTION)


@strawberry.enum(description="Sequence's job list filters, with their documented meanings.")
class SequenceJobFilter(enum.Enum):
    READY = strawberry.enum_value("ready", description="All assets received and all tasks completed.")
    PENDING = strawberry.enum_value("pending", description="Some asset not received or some task pending.")
    COMPLETED = strawberry.enum_value("completed", description="All tasks completed, whatever the assets.")
    NOT_COMPLETED = strawberry.enum_value("not_completed", description="Some task pending, whatever the assets.")
    RECEIVED = strawberry.enum_value("received", description="All assets received, whatever the tasks.")
    NOT_RECEIVED = strawberry.enum_value("not_received", description="Some asset pending, whatever the tasks.")
    PROBLEMATIC = strawberry.enum_value("problematic", description="Active (not dismissed) problems.")
    NOT_PROBLEMATIC = strawberry.enum_value("not_problematic", description="No active problems.")


# The upstream's own list of portals (gateway.upstreams.gofilex.portals), as a GraphQL enum:
# strawberry.enum registers the class itself, so the name is an alias of it.
strawberry.enum(
    Portal, name="GofilexPortal", description="The four regional Gofilex Genie portals; each has its own data."
)
GofilexPortal = Portal


def upstream_value(member: enum.Enum) -> str:
    """The upstream's string for a member. Members declared with
    strawberry.enum_value (to carry a description) look like definitions to
    mypy's plugin, but their `value` is the plain string."""
    return str(member.value)


def from_upstream(enum_type: type[E], value: str) -> E:
    """The member for an upstream value, or UNKNOWN."""
    try:
        return enum_type(value)
    except ValueError:
        return enum_type["UNKNOWN"]
