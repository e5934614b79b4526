"""The Relay `Node` interface: every type with an identity, refetchable by `node(id:)`."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id: opaque, stable, accepted by `node(id:)`.")
