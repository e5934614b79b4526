"""Scalars of the contract beyond GraphQL's own.

`Long` carries byte sizes and counters past 32 bits (the seed's
286127309729) as a plain JSON number. `Date` and `DateTime` are Strawberry's
built-ins: ISO-8601, and a DateTime keeps the upstream's offset.
"""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def _parse_long(value: object) -> int:
    # JSON variables arrive as int; a float with no fraction is accepted too.
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"Long cannot represent {value!r}: expected a whole number")
    number = int(value)
    if not LONG_MIN <= number <= LONG_MAX:
        raise ValueError(f"Long cannot represent {value!r}: outside the 64-bit range")
    return number


Long = NewType("Long", int)


def long_or_none(value: int | None) -> Long | None:
    """An upstream counter as the graph's Long."""
    return None if value is None else Long(value)


# The schema's config maps each NewType to its definition (StrawberryConfig.scalar_map).
SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="A 64-bit signed integer, serialized as a JSON number (byte sizes, transfer counters).",
        serialize=int,
        parse_value=_parse_long,
    )
}
