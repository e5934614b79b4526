"""Sequence's XML, read into `Fields` that look like its JSON.

Elements are dasherised (`<due-date type="date">`); their names become the
JSON's underscored keys, `type="integer"`/`"boolean"` values become ints and
bools, `nil="true"` becomes None and `<link rel href>` children become links
by rel. Anything else stays text, as JSON has it.

Every body goes through defusedxml with DTDs refused: Sequence never sends
one, and refusing them refuses entity bombs and external entities too. The
seed's list example is not well-formed in two documented ways (a stray
second `</job>`, a raw `&` in a link's href); `_repair` undoes exactly those,
and only after the strict parse has failed.
"""

from __future__ import annotations

import logging
import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from gateway.upstreams.payload import Fields, PayloadError

logger = logging.getLogger(__name__)

# `&` that does not start an entity or character reference.
_RAW_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
_INTEGER = re.compile(r"-?[0-9]+")
_BOOLEANS = {"true": True, "false": False}
_MAX_MESSAGE = 500


def read_resource(body: bytes, tag: str) -> Fields:
    """The one `<tag>` resource of `body`."""
    root = _parse(body, None)
    if _name(root) != _name_of(tag):
        raise PayloadError(f"{tag}: expected a <{tag}> document, not <{root.tag}>")
    return _resource(root, tag)


def read_list(body: bytes, list_tag: str, item_tag: str) -> tuple[list[Fields], Fields]:
    """The `<item_tag>` items of a `<list_tag type="array">` and the list's own fields and links."""
    root = _parse(body, item_tag)
    if _name(root) != _name_of(list_tag) and root.get("type") != "array":
        raise PayloadError(f"{list_tag}: expected a list of {item_tag} elements, not <{root.tag}>")
    items: list[Fields] = []
    values: dict[str, object] = {}
    links: dict[str, str] = {}
    for child in root:
        name = _name(child)
        if name == _name_of(item_tag):
            items.append(_resource(child, f"{list_tag}[{len(items)}]"))
        elif name == "link":
            _add_link(links, child)
        elif len(child):
            raise PayloadError(f"{list_tag}: unexpected <{child.tag}> in a list of {item_tag} elements")
        else:
            values[name] = _scalar(child, list_tag)
    return items, Fields(values, list_tag, links)


def error_messages(body: bytes) -> list[str]:
    """`<errors><error>...</error></errors>` or `<error><message>...</message></error>`; [] otherwise."""
    try:
        root = safe_xml.fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        return []
    if root.tag == "errors":
        found = [_message(child) for child in root if child.tag == "error"]
    elif root.tag == "error":
        found = [_message(root)]
    else:
        return []
    return [message for message in found if message]


def _message(element: Element) -> str:
    inner = element.find("message")
    text = "".join((inner if inner is not None else element).itertext()).strip()
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


# parsing --------------------------------------------------------------------------
def _parse(body: bytes, item_tag: str | None) -> Element:
    try:
        return safe_xml.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        # Only the exception's name: its fields may hold a URL from the body.
        raise PayloadError(
            f"Sequence XML body refused ({type(exc).__name__}): DTDs and entities are not accepted"
        ) from None
    except ParseError as exc:
        failure = exc
    repaired = _repair(body, item_tag)
    if repaired != body:
        try:
            root = safe_xml.fromstring(repaired, forbid_dtd=True)
        except (ParseError, DefusedXmlException):
            pass
        else:
            logger.debug("repaired a Sequence XML body that was not well-formed: %s", failure)
            return root
    raise PayloadError(f"Sequence body is not well-formed XML: {failure}") from None


def _repair(body: bytes, item_tag: str | None) -> bytes:
    """The seed's two quirks undone: raw `&`s escaped, and in a list a stray `</item>` dropped."""
    body = _RAW_AMPERSAND.sub(b"&amp;", body)
    return _drop_stray_closing_tags(body, item_tag) if item_tag else body


def _drop_stray_closing_tags(body: bytes, tag: str) -> bytes:
    """Drops a `</tag>` that closes nothing and follows another `</tag>` with only space between.

    Items do not nest, so depth tracking over `tag` alone tells a stray
    closing tag from one that closes an item.
    """
    pattern = re.compile(rb"<(/?)" + re.escape(tag.encode()) + rb"(?=[\s/>])[^>]*>")
    depth = 0
    previous_close = -1  # end of the last `</tag>` that closed an item
    stray: list[tuple[int, int]] = []
    for match in pattern.finditer(body):
        if match.group(1):
            if depth > 0:
                depth -= 1
                previous_close = match.end()
            elif previous_close >= 0 and not body[previous_close : match.start()].strip():
                stray.append(match.span())
        elif not match.group(0).endswith(b"/>"):
            depth += 1
            previous_close = -1
    for start, end in reversed(stray):
        body = body[:start] + body[end:]
    return body


# elements -------------------------------------------------------------------------
def _resource(element: Element, where: str) -> Fields:
    values: dict[str, object] = {}
    links: dict[str, str] = {}
    for child in element:
        if child.tag == "link":
            _add_link(links, child)
        elif not len(child):  # nested structures are not attributes; none is documented
            values[_name(child)] = _scalar(child, where)
    return Fields(values, where, links)


def _add_link(links: dict[str, str], element: Element) -> None:
    rel, href = element.get("rel"), element.get("href")
    if rel and href:
        links[rel] = href


def _scalar(element: Element, where: str) -> object:
    if element.get("nil") == "true":
        return None
    text = element.text or ""
    kind = element.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(text.strip()):
            raise PayloadError(f"{where}: <{element.tag}> is not an integer")
        return int(text)
    if kind == "boolean":
        if text.strip() not in _BOOLEANS:
            raise PayloadError(f"{where}: <{element.tag}> is not a boolean")
        return _BOOLEANS[text.strip()]
    return text


def _name(element: Element) -> str:
    return _name_of(element.tag)


def _name_of(tag: str) -> str:
    return tag.replace("-", "_")
