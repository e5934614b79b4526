"""The Relay `Node` interface: every type with an identity, refetchable by `node(id:)`."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`.")
class Node:
    # A resolver, not an attribute: every type computes its id from its
    # record, so it is never a constructor argument.
    @strawberry.field(description="Global id: opaque, stable, accepted by `node(id:)`.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError(f"{type(self).__name__} does not say its global id")
