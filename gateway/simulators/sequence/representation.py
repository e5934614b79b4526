"""Sequence's wire formats: one description of a resource, two renderings.

XML is the default and JSON comes with `Accept: application/json` (seed 000).
XML elements are dasherised with `type` attributes and `<link rel>` children;
JSON is flat, underscored, with `resource_type` and `<rel>_link` fields, and
lists come as `{"entries": [...]}`.

The seed's examples differ by response, and so do we:
- a job read by id or in a list has plain dates; in a list `ends-at` has no
  `type` attribute;
- create, update and deleted-view responses in XML carry dates as datetimes
  (`2010-12-31T00:00:00+00:00`, `ends-at` in the work area's offset), while
  JSON keeps plain dates;
- the XML update response spaces the tag list ("Drama, Surreal");
- a deleted job's links end in `?deleted`, except its JSON `web_link`, which
  ends in `?deleted=true`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gateway.simulators.sequence import paths
from gateway.simulators.sequence.model import Event, Job, WorkArea
from gateway.simulators.sequence.store import CHILD_KINDS, Child

XML_MEDIA_TYPE = "application/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json; charset=utf-8"
# Where generated jobs' external links point: Movida is another BeBanjo
# product, never contacted by anyone, and example.com keeps it that way.
MOVIDA = "https://movida.example.com/api"


class JobView(enum.Enum):
    ITEM = "item"
    LIST = "list"
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(slots=True)
class Attr:
    name: str
    value: Any
    xml_type: str | None = None
    # Rendered only in XML, as the seed's `ends-at` in lists shows.
    xml_value: str | None = None


@dataclass(slots=True)
class Link:
    rel: str
    href: str
    json_href: str | None = None
    media_type: str | None = None


@dataclass(slots=True)
class Resource:
    resource_type: str
    attrs: list[Attr] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass(slots=True)
class Collection:
    root: str
    entries: Sequence[Resource]
    total_entries: int | None = None
    links: list[Link] = field(default_factory=list)
    # Opt-in reproduction of the seed's list example, whose first job has a
    # stray second `</job>`: off by default because it is not well-formed.
    stray_closing_tag: bool = False


# builders ---------------------------------------------------------------------
def root(base: str) -> Resource:
    return Resource(
        "sequence",
        links=[Link("work_areas", base + paths.work_areas()), Link("events", base + paths.events())],
    )


def work_area(area: WorkArea, base: str) -> Resource:
    # Inferred: the work area's attributes are undocumented beyond its links.
    return Resource(
        "work_area",
        [Attr("id", area.id, "integer"), Attr("name", area.name)],
        [Link("self", base + paths.work_area(area.id)), Link("jobs", base + paths.jobs(area.id))],
    )


def job(job: Job, base: str, today: dt.date, view: JobView, utc_offset: dt.timedelta) -> Resource:
    as_datetime = view in (JobView.CREATED, JobView.UPDATED, JobView.DELETED)

    def date_attr(name: str, value: dt.date | None, offset: dt.timedelta = dt.timedelta(0)) -> Attr:
        if value is None:
            return Attr(name, None, "date")
        xml_value = _midnight(value, offset) if as_datetime else None
        attr = Attr(name, value.isoformat(), "date", xml_value)
        if view is JobView.LIST and name == "ends_at":
            attr.xml_type = None
        return attr

    tags = job.tag_list
    xml_tags = ", ".join(tag.strip() for tag in tags.split(",")) if view is JobView.UPDATED and tags else None
    derived = job.derived(today)
    resource = Resource(
        "job",
        [
            Attr("id", job.id, "integer"),
            Attr("name", job.name),
            date_attr("due_date", job.due_date),
            date_attr("begins_at", job.begins_at),
            date_attr("ends_at", job.ends_at, utc_offset),
            Attr("licensor_name", job.licensor_name),
            Attr("status", derived["status"]),
            Attr("tasks_status", derived["tasks_status"]),
            Attr("assets_status", derived["assets_status"]),
            Attr("tag_list", tags, None, xml_tags),
            Attr("title_external_id", job.title_external_id),
        ],
    )
    flag = "?deleted" if job.deleted else ""
    job_path = paths.job(job.work_area_id, job.id)
    links = resource.links
    links.append(Link("self", base + job_path + flag))
    links.append(Link("work_area", base + paths.work_area(job.work_area_id)))
    # The seed lists the children's links in this order.
    for kind in ("assets", "tasks", "notes", "problems", "hooks"):
        links.append(Link(kind, base + paths.children(job.work_area_id, job.id, kind) + flag))
    if job.scheduling_id is not None:
        links.append(Link("scheduling", f"{MOVIDA}/schedulings/{job.scheduling_id}"))
        links.append(Link("metadata", f"{MOVIDA}/schedulings/{job.scheduling_id}/metadata"))
    if job.title_id is not None:
        links.append(Link("title", f"{MOVIDA}/titles/{job.title_id}"))
    web = base + paths.web(job.work_area_id, job.id)
    links.append(Link("web", web + flag, web + "?deleted=true" if job.deleted else None, "text/html"))
    return resource


def child(kind: str, item: Child, job: Job, base: str) -> Resource:
    flag = "?deleted" if job.deleted else ""
    resource = Resource(CHILD_KINDS[kind], _child_attrs(kind, item))
    resource.links.append(Link("self", base + paths.child(job.work_area_id, job.id, kind, item.id) + flag))
    resource.links.append(Link("job", base + paths.job(job.work_area_id, job.id) + flag))
    return resource


def _child_attrs(kind: str, item: Any) -> list[Attr]:
    # Children carry no `id`: their identity is their self link (upstreams/sequence.md §1).
    if kind == "tasks":
        return [
            Attr("name", item.name),
            Attr("status", item.status),
            Attr("requires_duration", item.requires_duration, "boolean"),
            Attr("duration", item.duration),
            Attr("position", item.position, "integer"),
            Attr("responsible_email", _email(item.responsible_email)),
        ]
    if kind == "assets":
        return [
            Attr("type_name", item.type_name),
            Attr("status", item.status),
            Attr("progress", item.progress, "integer"),
        ]
    if kind == "notes":
        return [
            Attr("body", item.body),
            Attr("creator", item.creator),
            Attr("created_at", _iso(item.created_at), "datetime"),
        ]
    if kind == "problems":
        return [
            Attr("description", item.description),
            Attr("dismissed", item.dismissed, "boolean"),
            Attr("reporter", item.reporter),
        ]
    return [Attr("event", item.event), Attr("url", item.url), Attr("active", item.active, "boolean")]


def event(item: Event, base: str) -> Resource:
    attrs = [Attr("id", item.id, "integer"), Attr("event_type", item.event_type)]
    if item.changes is not None:
        attrs.append(Attr("changes", item.changes))
    attrs.append(Attr("timestamp", _iso(item.timestamp), "datetime"))
    return Resource(
        "event",
        attrs,
        [Link("self", base + paths.event(item.id)), Link("subject", base + item.subject_path)],
    )


def _email(login: str | None) -> str | None:
    return f"{login}@example.com" if login else None


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _midnight(day: dt.date, offset: dt.timedelta) -> str:
    return dt.datetime.combine(day, dt.time(), dt.timezone(offset)).isoformat()


# renderers ---------------------------------------------------------------------
def render(document: Resource | Collection, *, as_json: bool) -> tuple[bytes, str]:
    if as_json:
        return json.dumps(_json(document), ensure_ascii=False).encode(), JSON_MEDIA_TYPE
    return _xml_document(_xml(document).rstrip("\n")), XML_MEDIA_TYPE


def _json(document: Resource | Collection) -> dict[str, Any]:
    if isinstance(document, Collection):
        body: dict[str, Any] = {}
        if document.total_entries is not None:
            body["total_entries"] = document.total_entries
        for link in document.links:
            body[f"{link.rel}_link"] = link.href
        body["entries"] = [_json(entry) for entry in document.entries]
        return body
    body = {"resource_type": document.resource_type}
    for attr in document.attrs:
        body[attr.name] = attr.value
    for link in document.links:
        body[f"{link.rel}_link"] = link.json_href or link.href
    return body


def _xml(document: Resource | Collection) -> str:
    if isinstance(document, Collection):
        parts = [f'<{document.root} type="array">\n']
        if document.total_entries is not None:
            parts.append(f"<total-entries>{document.total_entries}</total-entries>\n")
        parts.extend(_xml_links(document.links))
        for index, entry in enumerate(document.entries):
            parts.append(_xml(entry))
            if index == 0 and document.stray_closing_tag:
                parts.append(f"</{_tag(entry.resource_type)}>\n")
        parts.append(f"</{document.root}>\n")
        return "".join(parts)
    tag = _tag(document.resource_type)
    parts = [f"<{tag}>\n"]
    for attr in document.attrs:
        name = _tag(attr.name)
        type_attr = f' type="{attr.xml_type}"' if attr.xml_type else ""
        if attr.value is None:
            parts.append(f'<{name}{type_attr} nil="true"/>\n')
            continue
        value = attr.xml_value if attr.xml_value is not None else attr.value
        if isinstance(value, bool):
            value = "true" if value else "false"
        parts.append(f"<{name}{type_attr}>{escape(str(value))}</{name}>\n")
    parts.extend(_xml_links(document.links))
    parts.append(f"</{tag}>\n")
    return "".join(parts)


def _xml_links(links: Iterable[Link]) -> list[str]:
    return [
        f"<link{f' type={quoteattr(link.media_type)}' if link.media_type else ''} rel={quoteattr(link.rel)}"
        f" href={quoteattr(link.href)}/>\n"
        for link in links
    ]


def _tag(name: str) -> str:
    return name.replace("_", "-")


def error_document(message: str) -> bytes:
    """`<error><message>`: the documented shape of the per_page error."""
    return _xml_document(f"<error><message>{escape(message)}</message></error>")


def validation_document(messages: Iterable[str]) -> bytes:
    """`<errors><error>` per message: Sequence's validation failures (422)."""
    return _xml_document(
        "<errors>" + "".join(f"<error>{escape(message)}</error>" for message in messages) + "</errors>"
    )


def _xml_document(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode()
