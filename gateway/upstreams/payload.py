"""What both upstreams' parsers share: the error they raise and typed reads of decoded objects.

A payload that does not parse, or parses into the wrong shape, is the
upstream's fault, never the client's: `PayloadError` says what is wrong and
where (`jobs[2]: '_runs' must be an integer, not string`) and never carries the
body, which may be large and is not ours to show.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, NoReturn


class PayloadError(ValueError):
    """Raised when an upstream body does not parse or lacks a field the gateway needs."""


def load_json(body: bytes, what: str) -> Any:
    """`body` decoded as JSON; `what` names the payload in the error."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Not chained: the JSONDecodeError holds the whole body as `doc`.
        raise PayloadError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise PayloadError(f"{what} is nested too deeply to read") from None


def _refuse_constant(name: str) -> NoReturn:
    # Python accepts NaN and Infinity, which JSON does not have; JavaScript
    # servers never write them, so one here means a broken body.
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def parse_datetime(value: str | None) -> dt.datetime | None:
    """An ISO-8601 timestamp with its offset kept ("Z" is UTC); None stays None.

    A timestamp without an offset is refused: both upstreams write one, and
    the records promise aware datetimes, which compare safely.
    """
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(f"{_short(value)!r} is not an ISO-8601 datetime") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{_short(value)!r} has no UTC offset")
    return moment


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def json_type(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Fields:
    """Typed reads of one decoded object, each failure naming where and which field.

    A missing key and a null read the same: as None, or the caller's default.
    Booleans are not integers here, though Python says they are.
    """

    __slots__ = ("links", "values", "where")

    def __init__(self, values: Mapping[str, Any], where: str, links: Mapping[str, str] | None = None) -> None:
        self.values = values
        self.where = where
        # Hrefs by rel, for upstreams whose resources link to others (Sequence).
        self.links: Mapping[str, str] = links or {}

    @classmethod
    def of(cls, value: object, where: str) -> Fields:
        if not isinstance(value, dict):
            raise PayloadError(f"{where}: expected an object, not {json_type(value)}")
        return cls(value, where)

    def fail(self, name: str, problem: str) -> NoReturn:
        raise PayloadError(f"{self.where}: {name!r} {problem}")

    def _get(self, name: str, required: bool) -> Any:
        value = self.values.get(name)
        if value is None and required:
            self.fail(name, "is missing")
        return value

    def _wrong(self, name: str, expected: str) -> NoReturn:
        self.fail(name, f"must be {expected}, not {json_type(self.values.get(name))}")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is not None and not isinstance(value, str):
            self._wrong(name, "a string")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        if value is None:  # unreachable: required=True raised; this narrows the type
            self.fail(name, "is missing")
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._get(name, required)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            self._wrong(name, "an integer")
        return value

    def integer_or(self, name: str, default: int) -> int:
        value = self.integer(name)
        return default if value is None else value

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(name, "a number")
        return float(value)

    def required_number(self, name: str) -> float:
        value = self.number(name, required=True)
        if value is None:  # unreachable: required=True raised; this narrows the type
            self.fail(name, "is missing")
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is not None and not isinstance(value, bool):
            self._wrong(name, "a boolean")
        return value

    def boolean_or(self, name: str, default: bool) -> bool:
        value = self.boolean(name)
        return default if value is None else value

    def datetime(self, name: str) -> dt.datetime | None:
        value = self.text(name)
        try:
            return parse_datetime(value)
        except PayloadError as exc:
            self.fail(name, f"is invalid: {exc}")

    def nested(self, name: str) -> Fields | None:
        value = self._get(name, False)
        return None if value is None else Fields.of(value, f"{self.where}.{name}")

    def array(self, name: str) -> list[Any]:
        value = self._get(name, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(name, "an array")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        items = self.array(name)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise PayloadError(f"{self.where}.{name}[{index}]: expected a string, not {json_type(item)}")
        return tuple(items)

    def objects(self, name: str) -> list[Fields]:
        return [Fields.of(item, f"{self.where}.{name}[{index}]") for index, item in enumerate(self.array(name))]
