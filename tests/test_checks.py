"""The range checks value objects run on themselves."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway import checks
from gateway.checks import InvalidSetting


@dataclass(frozen=True)
class Limits:
    size: int = 10
    share: float = 0.5
    seconds: float = 1.0

    def __post_init__(self) -> None:
        checks.whole(self, "size", low=1, high=100)
        checks.share(self, "share")
        checks.number(self, "seconds", low=0)


@pytest.mark.parametrize(
    ("wrong", "field", "problem"),
    [
        ({"size": 0}, "size", "must be between 1 and 100"),
        ({"size": 2.5}, "size", "must be a whole number"),
        ({"size": True}, "size", "must be a whole number"),  # a bool is not a number here
        ({"share": 1.5}, "share", "must be between 0 and 1"),
        ({"seconds": -1.0}, "seconds", "must be >= 0"),
        ({"seconds": float("nan")}, "seconds", "must be a number"),
        ({"seconds": "1"}, "seconds", "must be a number"),
    ],
)
def test_a_field_out_of_bounds_is_named_with_the_problem(wrong: dict[str, object], field: str, problem: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        Limits(**wrong)  # type: ignore[arg-type]  # wrong on purpose
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert isinstance(caught.value, ValueError)


def test_values_within_bounds_pass() -> None:
    assert Limits(size=100, share=0.0, seconds=0.0) == Limits(100, 0.0, 0.0)
