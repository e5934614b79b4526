"""Sequence's payloads, XML or JSON, into records.

The two formats are read into the same `Fields` (parse_xml, parse_json), so
each record is built once and an XML and a JSON body of one resource give
equal records. What the upstream may vary is tolerated: dates written as
datetimes, tag lists with or without spaces, unknown extra fields. What the
gateway needs is checked: a missing self link, name or status, or a value of
the wrong type, is a `PayloadError` naming the resource and the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit

from gateway.upstreams.payload import Fields, PayloadError, parse_datetime
from gateway.upstreams.sequence import parse_json, parse_xml, paths
from gateway.upstreams.sequence.records import (
    AssetRecord,
    ChildRecord,
    EventRecord,
    HookRecord,
    JobPage,
    JobRecord,
    NoteRecord,
    ProblemRecord,
    TaskRecord,
    WorkAreaRecord,
)

__all__ = [
    "PayloadError",
    "error_messages",
    "id_from_link",
    "parse_children",
    "parse_date",
    "parse_datetime",
    "parse_events",
    "parse_job",
    "parse_job_page",
    "parse_work_area",
    "parse_work_areas",
    "split_tags",
]


# entry points ---------------------------------------------------------------------
def parse_job(body: bytes, media_type: str) -> JobRecord:
    return _job(_read(body, media_type, "job"))


def parse_job_page(body: bytes, media_type: str) -> JobPage:
    items, envelope = _read_list(body, media_type, "jobs", "job")
    return JobPage(tuple(_job(item) for item in items), _total_entries(envelope), "next" in envelope.links)


def parse_work_areas(body: bytes, media_type: str) -> tuple[WorkAreaRecord, ...]:
    items, _ = _read_list(body, media_type, "work_areas", "work_area")
    return tuple(_work_area(item) for item in items)


def parse_work_area(body: bytes, media_type: str) -> WorkAreaRecord:
    return _work_area(_read(body, media_type, "work_area"))


def parse_children(kind: paths.Kind, body: bytes, media_type: str) -> tuple[ChildRecord, ...]:
    items, _ = _read_list(body, media_type, kind, _child_type(kind))
    return tuple(_child(kind, item) for item in items)


def parse_events(body: bytes, media_type: str) -> tuple[EventRecord, ...]:
    items, _ = _read_list(body, media_type, "events", "event")
    return tuple(_event(item) for item in items)


def error_messages(body: bytes, media_type: str | None) -> list[str]:
    """The messages of an error body, or [] when it has none we can read; never raises.

    Sequence may answer errors in XML to JSON requests (inferred: its own
    client parses XML errors only), so when the declared format yields
    nothing the other one is tried.
    """
    readers = [parse_xml.error_messages, parse_json.error_messages]
    if media_type is not None and _is_json(media_type):
        readers.reverse()
    for read in readers:
        messages = read(body)
        if messages:
            return messages
    return []


# values ---------------------------------------------------------------------------
def id_from_link(link: str) -> str:
    """The last path segment of `link`, query and fragment dropped: "/jobs/3?deleted" -> "3"."""
    segment = urlsplit(link).path.rsplit("/", 1)[-1]
    if not segment:
        raise PayloadError("a link has no id as its last path segment")
    return segment


def split_tags(tag_list: str | None) -> tuple[str, ...]:
    """The tags of a comma-separated list, trimmed: Sequence writes both "Drama, Surreal" and "Drama,Surreal"."""
    if not tag_list:
        return ()
    return tuple(tag for tag in (part.strip() for part in tag_list.split(",")) if tag)


def parse_date(value: str | None) -> dt.date | None:
    """The calendar date as written, from a date or a datetime (the seed's XML has both).

    "2011-01-31T00:00:00+02:00" is 2011-01-31, not the UTC day before: the
    offset is the work area's and the date is what Sequence means. A blank
    value reads as None, like a nil one.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        # fromisoformat reads a bare date as midnight, so one call takes both forms.
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise PayloadError(f"{shown!r} is not an ISO-8601 date") from None


# reading --------------------------------------------------------------------------
def _is_json(media_type: str) -> bool:
    return "json" in media_type.lower()


def _read(body: bytes, media_type: str, resource_type: str) -> Fields:
    if _is_json(media_type):
        return parse_json.read_resource(body, resource_type)
    return parse_xml.read_resource(body, _dasherise(resource_type))


def _read_list(body: bytes, media_type: str, list_name: str, resource_type: str) -> tuple[list[Fields], Fields]:
    if _is_json(media_type):
        return parse_json.read_list(body, list_name, resource_type)
    return parse_xml.read_list(body, _dasherise(list_name), _dasherise(resource_type))


def _dasherise(name: str) -> str:
    return name.replace("_", "-")


def _child_type(kind: paths.Kind) -> str:
    try:
        return paths.RESOURCE_TYPES[kind]
    except KeyError:  # a kind that was never checked (a str at run time)
        raise ValueError(f"unknown kind of job child: {kind!r}") from None


def _total_entries(envelope: Fields) -> int | None:
    value = envelope.values.get("total_entries")
    # The seed's XML writes <total-entries> without type="integer".
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return envelope.integer("total_entries")


# building -------------------------------------------------------------------------
def _self_link(fields: Fields) -> str:
    link = fields.links.get("self")
    if not link:
        raise PayloadError(f"{fields.where}: the self link is missing")
    return link


def _link_id(fields: Fields, link: str) -> str:
    try:
        return id_from_link(link)
    except PayloadError:
        raise PayloadError(f"{fields.where}: the self link has no id as its last path segment") from None


def _identity(fields: Fields, link_id: str | None) -> str:
    """The `id` field, which must agree with the self link's; the link's when there is no field."""
    value = fields.values.get("id")
    if value is None:
        if link_id is None:
            raise PayloadError(f"{fields.where}: neither an id nor a self link")
        return link_id
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        fields.fail("id", "must be an integer or a non-empty string")
    if link_id is not None and str(value) != link_id:
        fields.fail("id", f"is {value}, but the self link names {link_id}")
    return str(value)


def _date(fields: Fields, name: str) -> dt.date | None:
    try:
        return parse_date(fields.text(name))
    except PayloadError as exc:
        fields.fail(name, f"is invalid: {exc}")


def _job(fields: Fields) -> JobRecord:
    self_link = _self_link(fields)
    location = paths.locate(self_link)
    if location is None or location.work_area_id is None or location.job_id is None or not location.is_job:
        raise PayloadError(f"{fields.where}: the self link is not a job's (/work_areas/<id>/jobs/<id>)")
    return JobRecord(
        work_area_id=location.work_area_id,
        job_id=_identity(fields, location.job_id),
        name=fields.required_text("name"),
        status=fields.required_text("status"),
        tasks_status=fields.required_text("tasks_status"),
        assets_status=fields.required_text("assets_status"),
        due_date=_date(fields, "due_date"),
        begins_at=_date(fields, "begins_at"),
        ends_at=_date(fields, "ends_at"),
        licensor_name=fields.text("licensor_name"),
        tags=split_tags(fields.text("tag_list")),
        title_external_id=fields.text("title_external_id"),
        deleted=location.deleted,
        # Only the links the graph shows: the API's own links are built again
        # from ids when needed, and a BI export keeps tens of thousands of jobs.
        links={rel: href for rel, href in fields.links.items() if rel in EXTERNAL_LINKS},
    )


# The links of a job that point outside Sequence's API (Movida, the web UI).
EXTERNAL_LINKS = frozenset({"scheduling", "metadata", "title", "web"})


def _work_area(fields: Fields) -> WorkAreaRecord:
    link = fields.links.get("self")
    return WorkAreaRecord(
        work_area_id=_identity(fields, _link_id(fields, link) if link else None),
        name=fields.text("name"),
    )


def _event(fields: Fields) -> EventRecord:
    link = fields.links.get("self")
    return EventRecord(
        event_id=_identity(fields, _link_id(fields, link) if link else None),
        event_type=fields.required_text("event_type"),
        timestamp=fields.datetime("timestamp"),
        subject_link=fields.links.get("subject"),
        changes=split_tags(fields.text("changes")),
    )


def _child(kind: paths.Kind, fields: Fields) -> ChildRecord:
    # Children carry no id on the wire: theirs is their self link's last segment.
    return _CHILD_BUILDERS[kind](fields, _link_id(fields, _self_link(fields)))


def _task(fields: Fields, task_id: str) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        name=fields.required_text("name"),
        status=fields.required_text("status"),
        position=fields.integer("position"),
        requires_duration=fields.boolean_or("requires_duration", False),
        duration=fields.text("duration"),
        responsible_email=fields.text("responsible_email"),
    )


def _asset(fields: Fields, asset_id: str) -> AssetRecord:
    return AssetRecord(
        asset_id=asset_id,
        type_name=fields.required_text("type_name"),
        status=fields.required_text("status"),
        progress=fields.integer("progress"),
    )


def _note(fields: Fields, note_id: str) -> NoteRecord:
    return NoteRecord(
        note_id=note_id,
        body=fields.required_text("body"),
        creator=fields.text("creator"),
        created_at=fields.datetime("created_at"),
    )


def _problem(fields: Fields, problem_id: str) -> ProblemRecord:
    return ProblemRecord(
        problem_id=problem_id,
        description=fields.required_text("description"),
        dismissed=fields.boolean_or("dismissed", False),
        reporter=fields.text("reporter"),
    )


def _hook(fields: Fields, hook_id: str) -> HookRecord:
    # Sequence documents no field of a hook, only that a job links to its
    # hooks (upstreams/sequence.md §3.9: "do not model its fields until you
    # have a real response"). A hook is its self link, and so its id.
    return HookRecord(hook_id=hook_id)


# One builder per kind of paths.CHILD_KINDS.
_CHILD_BUILDERS: dict[paths.Kind, Callable[[Fields, str], ChildRecord]] = {
    "tasks": _task,
    "assets": _asset,
    "notes": _note,
    "problems": _problem,
    "hooks": _hook,
}
