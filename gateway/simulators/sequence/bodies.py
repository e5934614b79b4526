"""Request bodies as Sequence accepts them, in XML or JSON, and their validation.

Bodies name the resource in the root element (`<job>...</job>`) with
dasherised tags (BeBanjo's own client sends that), or come as flat JSON with
underscored keys as in the seed; a Rails-style `{"job": {...}}` wrapper is
accepted too. Values are validated here with Rails-like messages, and
`BodyError` carries every message so a 422 names all that is wrong at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

DURATION = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d$")


class UnsupportedMediaType(Exception):
    """The body's Content-Type is neither XML nor JSON."""


class MalformedBody(Exception):
    """The body does not parse in the format its Content-Type names."""


class BodyError(Exception):
    """The body parsed but its values are invalid: one message per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def parse(body: bytes, content_type: str | None, root: str) -> dict[str, Any]:
    """The attributes of a `root` resource in `body`, keys underscored."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        return _parse_json(body, root)
    if media_type in ("application/xml", "text/xml"):
        return _parse_xml(body)
    # Inferred status: the docs call the Content-Type header required.
    raise UnsupportedMediaType(media_type or "none")


def _parse_json(body: bytes, root: str) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"invalid JSON: {exc}") from exc
    if isinstance(data, dict) and len(data) == 1 and isinstance(data.get(root), dict):
        data = data[root]
    if not isinstance(data, dict):
        raise MalformedBody("the JSON body must be an object")
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def _parse_xml(body: bytes) -> dict[str, Any]:
    try:
        element: Element = safe_xml.fromstring(body)
    except (safe_xml.ParseError, DefusedXmlException) as exc:
        raise MalformedBody(f"invalid XML: {exc}") from exc
    fields: dict[str, Any] = {}
    for child in element:
        if child.tag == "link":
            continue
        if child.get("nil") == "true":
            fields[child.tag.replace("-", "_")] = None
        else:
            fields[child.tag.replace("-", "_")] = (child.text or "").strip()
    return fields


# values ------------------------------------------------------------------------
def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class Validator:
    """Collects typed values and error messages from parsed attributes."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.values: dict[str, Any] = {}
        self.errors: list[str] = []

    def text(self, name: str, *, required: bool = False, allow_blank: bool = True) -> None:
        self._take(name, required, lambda value: self._text(name, value, allow_blank and not required))

    def date(self, name: str, *, required: bool = False) -> None:
        self._take(name, required, lambda value: self._date(name, value))

    def boolean(self, name: str) -> None:
        self._take(name, False, lambda value: self._boolean(name, value))

    def integer(self, name: str, low: int, high: int) -> None:
        self._take(name, False, lambda value: self._integer(name, value, low, high))

    def choice(self, name: str, options: tuple[str, ...]) -> None:
        self._take(name, False, lambda value: self._choice(name, value, options))

    def duration(self, name: str) -> None:
        self._take(name, False, lambda value: self._duration(name, value))

    def check(self) -> dict[str, Any]:
        if self.errors:
            raise BodyError(self.errors)
        return self.values

    def _take(self, name: str, required: bool, convert: Callable[[Any], Any]) -> None:
        if name not in self.fields or self.fields[name] in (None, ""):
            if required:
                self.errors.append(f"{_label(name)} can't be blank")
            elif name in self.fields:
                self.values[name] = None
            return
        value = convert(self.fields[name])
        if value is not _INVALID:
            self.values[name] = value

    def _fail(self, message: str) -> object:
        self.errors.append(message)
        return _INVALID

    def _text(self, name: str, value: Any, allow_blank: bool) -> Any:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return self._fail(f"{_label(name)} must be a string")
        text = str(value).strip()
        if not text and not allow_blank:
            return self._fail(f"{_label(name)} can't be blank")
        return text

    def _date(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return (
                    dt.date.fromisoformat(value[:10]) if len(value) == 10 else dt.datetime.fromisoformat(value).date()
                )
            except ValueError:
                pass
        return self._fail(f"{_label(name)} is not a valid date")

    def _boolean(self, name: str, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        return self._fail(f"{_label(name)} must be true or false")

    def _integer(self, name: str, value: Any, low: int, high: int) -> Any:
        try:
            number = int(value) if not isinstance(value, bool | float) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            return self._fail(f"{_label(name)} must be an integer")
        if not low <= number <= high:
            return self._fail(f"{_label(name)} must be between {low} and {high}")
        return number

    def _choice(self, name: str, value: Any, options: tuple[str, ...]) -> Any:
        if value not in options:
            return self._fail(f"{_label(name)} is not included in the list")
        return value

    def _duration(self, name: str, value: Any) -> Any:
        if not isinstance(value, str) or not DURATION.match(value):
            return self._fail(f"{_label(name)} must be in hh:mm:ss format")
        return value


_INVALID = object()
