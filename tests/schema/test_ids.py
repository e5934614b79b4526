import pytest

from gateway.errors import BadUserInput
from gateway.schema.ids import cursor, global_id, parse_cursor, parse_global_id
from gateway.schema.sequence import gofilex_links


@pytest.mark.parametrize("offset", [0, 1, 49, 50, 30594, 10**9])
def test_cursors_round_trip(offset: int) -> None:
    assert parse_cursor(cursor(offset)) == offset


def test_cursors_are_opaque() -> None:
    assert "50" not in cursor(50)


@pytest.mark.parametrize("bad", ["", "x", "Y3Vyc29yOg", "Y3Vyc29yOi0x", "bm90LWEtY3Vyc29yOjE", "%%%"])
def test_malformed_cursors_are_bad_user_input(bad: str) -> None:
    with pytest.raises(BadUserInput):
        parse_cursor(bad)


def test_global_ids_round_trip() -> None:
    value = global_id("GofilexJob", "EMEA", "zjALZe8DJWLz9Nf2a", "ZciB8cEDk7WJ7GGLs")
    assert parse_global_id(value) == ("GofilexJob", ["EMEA", "zjALZe8DJWLz9Nf2a", "ZciB8cEDk7WJ7GGLs"])


@pytest.mark.parametrize("bad", ["", "====", "U2VxdWVuY2VKb2I", "OjE"])
def test_malformed_global_ids_are_bad_user_input(bad: str) -> None:
    with pytest.raises(BadUserInput):
        parse_global_id(bad)


@pytest.mark.parametrize(
    ("tags", "links"),
    [
        (("gofilex:zjALZe8DJWLz9Nf2a",), [("EMEA", "zjALZe8DJWLz9Nf2a")]),
        (("gofilex:noram:abc123",), [("NORAM", "abc123")]),
        (("gofilex:APAC:abc123",), [("APAC", "abc123")]),
        (("Drama", " gofilex:mps:x1 ", "HD"), [("MPS", "x1")]),
        # Repeats collapse; an unknown portal or an empty id is no link.
        (("gofilex:emea:a", "gofilex:a"), [("EMEA", "a")]),
        (("gofilex:moon:a", "gofilex:", "gofilex:emea:", "gofilexx:a"), []),
    ],
)
def test_gofilex_tags_link_jobs_to_orders(tags: tuple[str, ...], links: list[tuple[str, str]]) -> None:
    assert gofilex_links(tags) == links
