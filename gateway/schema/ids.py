"""Global Node ids and connection cursors: opaque to clients, stable for us.

A global id is base64url("<Type>:<part>:<part>..."), the parts being what the
type needs to be fetched again (a job's work area and id, an order's portal
and id). A cursor is base64url("cursor:<offset>").
"""

from __future__ import annotations

import base64
import binascii

from gateway.errors import BadUserInput

_CURSOR = "cursor"


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(value: str, what: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(f"{value!r} is not a valid {what}") from None


def global_id(type_name: str, *parts: str) -> str:
    return _encode(":".join((type_name, *parts)))


def parse_global_id(value: str) -> tuple[str, list[str]]:
    """The type name and the parts of a global id; BadUserInput when malformed."""
    type_name, *parts = _decode(value, "node id").split(":")
    if not type_name or not parts or not all(parts):
        raise BadUserInput(f"{value!r} is not a valid node id")
    return type_name, parts


def sequence_id(value: str) -> str:
    """A Sequence id argument, refused at once unless digits only (as Sequence's ids are).

    The upstream client refuses such an id too, before building a path
    (gateway.upstreams.sequence.paths.segment); checking it here fails a field
    whose reads would only happen later, such as `workArea(workAreaId:)`.
    """
    text = str(value)
    if not text.isdigit():
        raise BadUserInput(f"{text!r} is not a Sequence id (digits only)")
    return text


def cursor(offset: int) -> str:
    return _encode(f"{_CURSOR}:{offset}")


def parse_cursor(value: str) -> int:
    prefix, _, offset = _decode(value, "cursor").partition(":")
    if prefix != _CURSOR or not offset.isdigit():
        raise BadUserInput(f"{value!r} is not a valid cursor")
    return int(offset)
