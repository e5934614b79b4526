"""Reading the simulators' XML in tests, safely as the gateway will."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml


def parse(body: bytes | str) -> Element:
    return safe_xml.fromstring(body)


def links(element: Element) -> dict[str, str]:
    return {link.get("rel", ""): link.get("href", "") for link in element.findall("link")}


def shape(element: Element) -> list[tuple[str, str | None]]:
    """Element names with their `type` attribute, links as `link:<rel>`, in order."""
    return [(f"link:{child.get('rel')}" if child.tag == "link" else child.tag, child.get("type")) for child in element]
