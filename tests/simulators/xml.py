"""Reading the simulators' XML in tests, safely as the gateway will."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml


def parse(body: bytes | str) -> Element:
    return safe_xml.fromstring(body)


def child(element: Element, tag: str) -> Element:
    """The first `tag` child of `element`; fails the test when there is none."""
    found = element.find(tag)
    assert found is not None, f"<{element.tag}> has no <{tag}>"
    return found


def links(element: Element) -> dict[str, str]:
    return {link.get("rel", ""): link.get("href", "") for link in element.findall("link")}


def shape(element: Element) -> list[tuple[str, str | None]]:
    """Element names with their `type` attribute, links as `link:<rel>`, in order."""
    return [(f"link:{child.get('rel')}" if child.tag == "link" else child.tag, child.get("type")) for child in element]
