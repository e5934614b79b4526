"""What both upstreams' parsers share: JSON that refuses what JSON is not, and typed reads that name the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from gateway.upstreams.payload import Fields, PayloadError, json_type, load_json, parse_datetime


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),  # not UTF-8
        (b'{"size": NaN}', "NaN is not a JSON value"),  # Python would read it; JSON has no NaN
        (b"[Infinity]", "Infinity is not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_load_json_refuses_what_is_not_json_naming_the_payload(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as caught:
        load_json(body, "Gofilex body")
    assert str(caught.value).startswith("Gofilex body")
    assert caught.value.__cause__ is None  # a JSONDecodeError would carry the whole body


def test_load_json_keeps_large_integers_exact() -> None:
    assert load_json(b'{"size": 286127309729}', "body") == {"size": 286127309729}


def test_parse_datetime_requires_an_offset() -> None:
    assert parse_datetime("2026-11-23T12:00:00Z") == dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    with pytest.raises(PayloadError, match="has no UTC offset"):
        parse_datetime("2026-11-23T12:00:00")
    with pytest.raises(PayloadError, match="is not an ISO-8601 datetime"):
        parse_datetime("yesterday" * 10)


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "boolean"), (3, "number"), (2.5, "number"), ("x", "string"), ([], "array"), ({}, "object")],
)
def test_json_type_names_values_as_json_does(value: object, name: str) -> None:
    assert json_type(value) == name


FIELDS = Fields(
    {"name": "QC", "count": 3, "flag": True, "ratio": 0.5, "tags": ["a", "b"], "mixed": ["a", 1], "child": {"x": 1}},
    "jobs[2]",
)


def test_fields_read_each_type_and_missing_or_null_alike() -> None:
    assert FIELDS.text("name") == FIELDS.required_text("name") == "QC"
    assert FIELDS.integer("count") == 3 and FIELDS.integer_or("absent", 7) == 7
    assert FIELDS.number("count") == 3.0 and FIELDS.number("ratio") == 0.5
    assert FIELDS.boolean("flag") is True and FIELDS.boolean_or("absent", False) is False
    assert FIELDS.strings("tags") == ("a", "b")
    assert FIELDS.array("absent") == []
    child = FIELDS.nested("child")
    assert child is not None and child.where == "jobs[2].child" and child.integer("x") == 1
    assert FIELDS.nested("absent") is None
    assert Fields({"gone": None}, "x").text("gone") is None


@pytest.mark.parametrize(
    ("read", "message"),
    [
        # each failure names where and which field, and what came instead
        (
            lambda: FIELDS.integer("flag"),
            "jobs[2]: 'flag' must be an integer, not boolean",
        ),  # a bool is no integer here
        (lambda: FIELDS.text("count"), "jobs[2]: 'count' must be a string, not number"),
        (lambda: FIELDS.boolean("name"), "jobs[2]: 'name' must be a boolean, not string"),
        (lambda: FIELDS.number("flag"), "jobs[2]: 'flag' must be a number, not boolean"),
        (lambda: FIELDS.required_text("absent"), "jobs[2]: 'absent' is missing"),
        (lambda: FIELDS.required_number("absent"), "jobs[2]: 'absent' is missing"),
        (lambda: FIELDS.array("name"), "jobs[2]: 'name' must be an array, not string"),
        (lambda: FIELDS.strings("mixed"), "jobs[2].mixed[1]: expected a string, not number"),
        (lambda: FIELDS.objects("tags"), "jobs[2].tags[0]: expected an object, not string"),
        (lambda: Fields.of([], "orders[0]"), "orders[0]: expected an object, not array"),
    ],
)
def test_a_wrong_field_is_refused_naming_where_and_what(read: Callable[[], object], message: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        read()
