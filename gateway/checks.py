"""Range checks that settings value objects run on themselves, once, when built.

Each value object (BudgetSettings, CacheSettings, RetryPolicy ...) owns its
defaults and its bounds, as httpx's `Timeout` and `Limits` do; config.py
only reads strings, and turns an `InvalidSetting` into a ConfigError that
names the environment variable behind the field.

Example:
    >>> @dataclass(frozen=True)
    ... class Limits:
    ...     size: int = 10
    ...     def __post_init__(self) -> None:
    ...         whole(self, "size", low=1)
"""

from __future__ import annotations

import math


class InvalidSetting(ValueError):
    """Raised by a value object for a field out of its bounds; `field` names it, `problem` says why."""

    def __init__(self, field: str, problem: str, value: object) -> None:
        super().__init__(f"{field} {problem}, got {value!r}")
        self.field = field
        self.problem = problem


def number(owner: object, field: str, *, low: float | None = None, high: float | None = None) -> None:
    """`owner.field` is a finite number (not a bool) within [low, high]."""
    value = getattr(owner, field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSetting(field, "must be a number", value)
    _bounds(field, value, low, high)


def whole(owner: object, field: str, *, low: int | None = None, high: int | None = None) -> None:
    """`owner.field` is a whole number (not a bool) within [low, high]."""
    value = getattr(owner, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSetting(field, "must be a whole number", value)
    _bounds(field, value, low, high)


def share(owner: object, field: str, *, low: float = 0.0, high: float = 1.0) -> None:
    """`owner.field` is a share within [low, high]."""
    number(owner, field, low=low, high=high)


def _bounds(field: str, value: float, low: float | None, high: float | None) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            bounds = f">= {low:g}"
        elif low is None:
            bounds = f"<= {high:g}"
        else:
            bounds = f"between {low:g} and {high:g}"
        raise InvalidSetting(field, f"must be {bounds}", value)


__all__ = ["InvalidSetting", "number", "share", "whole"]
