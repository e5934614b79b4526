"""The tree drawn in gateway/errors.py is the real one: every class, its parent and its code."""

from __future__ import annotations

import re

import gateway.errors
from gateway.deadline import DeadlineExceeded
from gateway.errors import GatewayError
from gateway.events.hub import SubscriberTooSlow
from gateway.upstreams.resilience import CircuitOpen

ELSEWHERE = {cls.__name__: cls for cls in (CircuitOpen, DeadlineExceeded, SubscriberTooSlow)}
LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)\s+(?P<code>[A-Z_]+)?")


def drawn() -> list[tuple[int, str, str | None]]:
    doc = gateway.errors.__doc__ or ""
    rows = []
    for line in doc.split("\n\n")[1].splitlines():
        match = LINE.match(line.strip("\n")[4:])
        assert match, line
        rows.append((len(match["indent"]), match["name"], match["code"]))
    return rows


def test_the_drawing_names_every_gateway_error_with_its_parent_and_code() -> None:
    parents: list[tuple[int, type]] = []
    seen = set()
    for depth, name, code in drawn():
        cls = getattr(gateway.errors, name, None) or ELSEWHERE[name]
        while parents and parents[-1][0] >= depth:
            parents.pop()
        if parents:
            assert cls.__bases__ == (parents[-1][1],), name
        if code is not None:
            assert cls.code == code, name
        parents.append((depth, cls))
        seen.add(cls)

    def subclasses(cls: type) -> set[type]:
        children: list[type] = cls.__subclasses__()
        return {cls} | {sub for child in children for sub in subclasses(child)}

    # Nothing in the tree is left out of the drawing (test-local subclasses aside).
    assert {cls for cls in subclasses(GatewayError) if cls.__module__.startswith("gateway.")} == seen
