"""Sequence's JSON, read into `Fields`.

Resources are flat objects with `resource_type` and a `<rel>_link` key per
link; lists are `{"entries": [...]}`, with `total_entries` and
`next_link`/`prev_link` when paginated (seed 000, upstreams/sequence.md §1).
"""

from __future__ import annotations

from typing import Any

from gateway.upstreams.payload import Fields, PayloadError, load_json

_LINK_SUFFIX = "_link"
_MAX_MESSAGE = 500


def read_resource(body: bytes, resource_type: str) -> Fields:
    """The one `resource_type` object of `body`."""
    return _resource(load_json(body, "Sequence body"), resource_type, resource_type)


def read_list(body: bytes, list_name: str, resource_type: str) -> tuple[list[Fields], Fields]:
    """The entries of a `{"entries": [...]}` list and the list's own fields and links."""
    envelope = _with_links(Fields.of(load_json(body, "Sequence body"), list_name))
    if envelope.values.get("entries") is None:
        envelope.fail("entries", "is missing")
    items = envelope.array("entries")
    return [_resource(item, f"{list_name}[{index}]", resource_type) for index, item in enumerate(items)], envelope


def error_messages(body: bytes) -> list[str]:
    """Messages of `{"errors": [...]}`, `{"error": {"message"}}`, `{"error": "..."}` or `{"message"}`.

    The JSON error shape is undocumented (BeBanjo's own client parses XML
    errors only), so these are the common Rails shapes; [] for anything else.
    """
    try:
        data = load_json(body, "Sequence error body")
    except PayloadError:
        return []
    if not isinstance(data, dict):
        return []
    errors, error, message = data.get("errors"), data.get("error"), data.get("message")
    if isinstance(errors, list):
        found = [_text(item.get("message") if isinstance(item, dict) else item) for item in errors]
    elif isinstance(errors, str):
        found = [_text(errors)]
    elif isinstance(error, dict):
        found = [_text(error.get("message"))]
    elif isinstance(error, str):
        found = [_text(error)]
    else:
        found = [_text(message)]
    return [text for text in found if text]


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    text = value.strip()
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def _resource(value: Any, where: str, resource_type: str) -> Fields:
    fields = _with_links(Fields.of(value, where))
    found = fields.text("resource_type")
    # Checked when present: a task where an asset was expected means the
    # wrong URL was followed, and its fields would be read as the wrong kind.
    if found is not None and found != resource_type:
        fields.fail("resource_type", f"is {found!r}, expected {resource_type!r}")
    return fields


def _with_links(fields: Fields) -> Fields:
    links = {}
    for key in fields.values:
        if key.endswith(_LINK_SUFFIX) and len(key) > len(_LINK_SUFFIX):
            href = fields.text(key)
            if href:
                links[key[: -len(_LINK_SUFFIX)]] = href
    return Fields(fields.values, fields.where, links)
