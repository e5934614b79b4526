"""Sequence payloads into records: the seed's examples with their quirks, the
shapes that must be refused, error bodies, and simulator output in both formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import pytest

from gateway.simulators.clock import Clock
from gateway.simulators.sequence import representation as rep
from gateway.simulators.sequence.generate import WorkAreaSpec, populate
from gateway.simulators.sequence.model import Hook, Job
from gateway.simulators.sequence.representation import Collection, JobView, Resource
from gateway.simulators.sequence.store import SequenceStore
from gateway.upstreams.sequence.parse import (
    PayloadError,
    error_messages,
    id_from_link,
    parse_children,
    parse_date,
    parse_datetime,
    parse_events,
    parse_job,
    parse_job_page,
    parse_work_area,
    parse_work_areas,
    split_tags,
)
from gateway.upstreams.sequence.records import (
    AssetRecord,
    HookRecord,
    JobRecord,
    NoteRecord,
    ProblemRecord,
    TaskRecord,
)
from tests.conftest import FIXTURES, NOW


def parse_one_child(kind: Any, body: bytes, media_type: str) -> Any:
    """The one child of a list holding only `body` (Sequence reads children as lists)."""
    if "json" in media_type:
        wrapped = b'{"entries": [' + body + b"]}"
    else:
        wrapped = b'<%s type="array">%s</%s>' % (kind.encode(), body, kind.encode())
    (child,) = parse_children(kind, wrapped, media_type)
    return child


XML = "application/xml"
JSON = "application/json; charset=utf-8"
API = "https://sequence.bebanjo.net/api/work_areas/10"
T = TypeVar("T")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def seed_job_json(**changes: Any) -> bytes:
    """The seed's job JSON with some keys replaced, or removed when the value is `...`."""
    job = json.loads(fixture("sequence_job.json"))
    for key, value in changes.items():
        if value is ...:
            del job[key]
        else:
            job[key] = value
    return json.dumps(job).encode()


# the seed's job -------------------------------------------------------------------------
def test_the_seed_job_xml_parses_into_its_values() -> None:
    job = parse_job(fixture("sequence_job.xml"), XML)
    assert job == JobRecord(
        work_area_id="10",
        job_id="3",
        name="Ironman 2",
        status="pending",
        tasks_status="pending",
        assets_status="not_received",
        due_date=dt.date(2010, 5, 5),
        begins_at=dt.date(2010, 5, 15),
        ends_at=dt.date(2010, 12, 31),
        licensor_name="Warner",
        tags=("Crackle > CA",),
        title_external_id="1332028",
        deleted=False,
        links={
            "scheduling": "https://movida.bebanjo.net/api/schedulings/789",
            "metadata": "https://movida.bebanjo.net/api/schedulings/789/metadata",
            "title": "https://movida.bebanjo.net/api/titles/777",
            "web": "https://sequence.bebanjo.net/video_services/10/scheduled_titles/3/workflow",
        },
    )


def test_the_seed_job_in_xml_and_in_json_gives_equal_records() -> None:
    assert parse_job(fixture("sequence_job.xml"), XML) == parse_job(fixture("sequence_job.json"), JSON)


def test_the_seed_created_job_in_xml_and_in_json_gives_equal_records() -> None:
    # The XML writes its dates as datetimes, the JSON as dates.
    assert parse_job(fixture("sequence_job_created.xml"), XML) == parse_job(fixture("sequence_job_created.json"), JSON)


def test_dates_written_as_datetimes_keep_the_calendar_date_as_written() -> None:
    job = parse_job(fixture("sequence_job_created.xml"), XML)
    assert (job.due_date, job.begins_at) == (dt.date(2010, 12, 31), dt.date(2010, 12, 31))
    # `2011-01-31T00:00:00+02:00` is 2011-01-30 in UTC; Sequence means the 31st.
    assert job.ends_at == dt.date(2011, 1, 31)


def test_a_tag_list_with_spaces_and_one_without_give_the_same_tags() -> None:
    # The seed's update response spaces the XML tag list ("Drama, Surreal") but not the JSON one.
    xml_job = parse_job(fixture("sequence_job_updated.xml"), XML)
    json_job = parse_job(fixture("sequence_job_updated.json"), JSON)
    assert xml_job.tags == json_job.tags == ("Drama", "Surreal")


@pytest.mark.parametrize(
    ("tag_list", "tags"),
    [
        ("Drama, Surreal", ("Drama", "Surreal")),
        ("Drama,Surreal", ("Drama", "Surreal")),
        ("Crackle > CA", ("Crackle > CA",)),  # one tag with a space inside
        (" Drama ,, Surreal ,", ("Drama", "Surreal")),  # blanks between commas are not tags
        ("", ()),
        (None, ()),
    ],
)
def test_split_tags_splits_on_commas_and_trims(tag_list: str | None, tags: tuple[str, ...]) -> None:
    assert split_tags(tag_list) == tags


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2010-05-05", dt.date(2010, 5, 5)),
        ("2010-12-31T00:00:00+00:00", dt.date(2010, 12, 31)),
        ("2011-01-31T00:00:00+02:00", dt.date(2011, 1, 31)),  # the 30th in UTC
        ("2011-01-31T22:00:00-05:00", dt.date(2011, 1, 31)),  # the 1st of February in UTC
        ("2011-01-31T00:00:00Z", dt.date(2011, 1, 31)),
        (None, None),
        ("", None),  # blank reads like nil
    ],
)
def test_parse_date_gives_the_calendar_date_as_written(value: str | None, day: dt.date | None) -> None:
    assert parse_date(value) == day


@pytest.mark.parametrize("value", ["2010-13-01", "yesterday", "05/05/2010", "2010-05-05T25:00:00"])
def test_parse_date_refuses_what_is_not_an_iso_date(value: str) -> None:
    with pytest.raises(PayloadError, match="is not an ISO-8601 date"):
        parse_date(value)


def test_parse_datetime_keeps_the_offset_and_accepts_z() -> None:
    moment = parse_datetime("2010-05-05T10:30:00+02:00")
    assert moment == dt.datetime(2010, 5, 5, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert moment is not None and moment.utcoffset() == dt.timedelta(hours=2)
    assert parse_datetime("2023-04-22T15:43:09.586Z") == dt.datetime(2023, 4, 22, 15, 43, 9, 586000, tzinfo=dt.UTC)
    assert parse_datetime(None) is None


@pytest.mark.parametrize(("value", "problem"), [("2010-05-05T10:30:00", "no UTC offset"), ("soon", "not an ISO")])
def test_parse_datetime_refuses_a_naive_or_invalid_timestamp(value: str, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_datetime(value)


# the seed's list -------------------------------------------------------------------------
def test_the_seed_list_xml_with_its_stray_tag_and_raw_ampersand_parses() -> None:
    body = fixture("sequence_jobs_page.xml")
    assert b"</job>\n</job>" in body and b"?page=2&pagination" in body  # the quirks are there
    page = parse_job_page(body, XML)
    assert [(job.job_id, job.name) for job in page.jobs] == [("1", "Mulholland Drive"), ("2", "Lord of The Rings")]
    assert page.total_entries == 30595
    assert page.has_next
    # `<ends-at>` has no type attribute in the list, and is still a date.
    assert page.jobs[0].ends_at == dt.date(2011, 1, 31)
    assert page.jobs[0].tags == ("Drama", "Surreal")


def test_the_seed_list_json_parses_into_the_same_page_as_the_xml() -> None:
    assert parse_job_page(fixture("sequence_jobs_page.json"), JSON) == parse_job_page(
        fixture("sequence_jobs_page.xml"), XML
    )


def test_a_list_without_pagination_has_no_total_and_no_next() -> None:
    page = parse_job_page(b'<jobs type="array"></jobs>', XML)
    assert page.jobs == () and page.total_entries is None and not page.has_next
    assert parse_job_page(b'{"entries": []}', JSON) == page


def test_other_malformed_xml_is_a_payload_error_with_the_parser_message() -> None:
    with pytest.raises(PayloadError, match=r"is not well-formed XML: mismatched tag: line 1, column \d+"):
        parse_job(b"<job><name>Ironman 2</job>", XML)


def test_a_stray_closing_tag_that_does_not_follow_an_item_is_not_repaired() -> None:
    body = b'<jobs type="array"><job><name>x</name></job><total-entries>1</total-entries></job></jobs>'
    with pytest.raises(PayloadError, match="not well-formed XML"):
        parse_job_page(body, XML)


def test_the_stray_closing_tag_repair_is_only_for_lists() -> None:
    with pytest.raises(PayloadError, match="not well-formed XML"):
        parse_job(fixture("sequence_job.xml").replace(b"</job>", b"</job>\n</job>"), XML)


def test_an_xml_entity_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE job [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<job><name>&c;</name></job>"
    )
    with pytest.raises(PayloadError, match="DTDs and entities are not accepted"):
        parse_job(bomb, XML)


def test_an_external_entity_is_refused_even_in_a_list_that_needs_repair() -> None:
    body = b'<!DOCTYPE jobs [<!ENTITY x SYSTEM "file:///etc/passwd">]><jobs type="array">&x; & </jobs>'
    with pytest.raises(PayloadError, match="DTDs and entities are not accepted"):
        parse_job_page(body, XML)


def test_invalid_json_is_a_payload_error_that_does_not_quote_the_body() -> None:
    with pytest.raises(PayloadError, match="is not valid JSON") as caught:
        parse_job(b'{"name": "secret-ish body" ', JSON)
    assert "secret-ish" not in str(caught.value)


# deleted jobs ------------------------------------------------------------------------------
def test_deleted_job_links_mark_the_job_deleted_in_both_formats() -> None:
    xml_job = parse_job(fixture("sequence_job_deleted.xml"), XML)
    json_job = parse_job(fixture("sequence_job_deleted.json"), JSON)
    assert xml_job.deleted and json_job.deleted
    assert xml_job.job_id == json_job.job_id == "3"
    # The seed's JSON `web_link` ends in `?deleted=true`, every other link in `?deleted`.
    assert xml_job.links["web"].endswith("/workflow?deleted")
    assert json_job.links["web"].endswith("/workflow?deleted=true")


@pytest.mark.parametrize(
    ("query", "deleted"),
    [("?deleted", True), ("?deleted=true", True), ("?deleted=false", False), ("?page=2", False), ("", False)],
)
def test_a_job_is_deleted_when_its_self_link_carries_the_flag(query: str, deleted: bool) -> None:
    job = parse_job(seed_job_json(self_link=f"{API}/jobs/3{query}"), JSON)
    assert (job.deleted, job.job_id) == (deleted, "3")


# ids and links -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (f"{API}/jobs/3", "3"),
        (f"{API}/jobs/3?deleted", "3"),
        (f"{API}/jobs/3/tasks/17?deleted=true", "17"),
        ("/api/events/42#top", "42"),
    ],
)
def test_id_from_link_is_the_last_path_segment(link: str, expected: str) -> None:
    assert id_from_link(link) == expected


@pytest.mark.parametrize("link", [f"{API}/jobs/", "", "?deleted"])
def test_id_from_link_refuses_a_link_without_an_id(link: str) -> None:
    with pytest.raises(PayloadError, match="no id"):
        id_from_link(link)


def test_a_job_without_an_id_field_takes_it_from_its_self_link() -> None:
    assert parse_job(seed_job_json(id=...), JSON).job_id == "3"


def test_a_job_id_that_disagrees_with_its_self_link_is_refused() -> None:
    with pytest.raises(PayloadError, match="'id' is 4, but the self link names 3"):
        parse_job(seed_job_json(id=4), JSON)


def test_a_self_link_that_is_not_a_job_link_is_refused() -> None:
    with pytest.raises(PayloadError, match="self link is not a job's"):
        parse_job(seed_job_json(self_link="https://sequence.bebanjo.net/api/events/3"), JSON)


# refused shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["name", "status", "tasks_status", "assets_status"])
def test_a_job_without_a_required_field_is_refused_naming_it(field: str) -> None:
    with pytest.raises(PayloadError, match=f"job: '{field}' is missing"):
        parse_job(seed_job_json(**{field: ...}), JSON)


def test_a_job_without_a_self_link_is_refused() -> None:
    with pytest.raises(PayloadError, match="job: the self link is missing"):
        parse_job(seed_job_json(self_link=...), JSON)


def test_a_job_in_xml_without_a_required_element_is_refused_naming_it() -> None:
    with pytest.raises(PayloadError, match="job: 'tasks_status' is missing"):
        parse_job(fixture("sequence_job.xml").replace(b"<tasks-status>pending</tasks-status>", b""), XML)


def test_a_list_where_an_object_is_expected_is_refused() -> None:
    with pytest.raises(PayloadError, match="job: expected an object, not array"):
        parse_job(b"[]", JSON)
    with pytest.raises(PayloadError, match="expected a <job> document, not <jobs>"):
        parse_job(b'<jobs type="array"/>', XML)


def test_an_object_where_a_list_is_expected_is_refused() -> None:
    with pytest.raises(PayloadError, match="jobs: 'entries' is missing"):
        parse_job_page(fixture("sequence_job.json"), JSON)
    with pytest.raises(PayloadError, match="expected a list of job elements, not <job>"):
        parse_job_page(fixture("sequence_job.xml"), XML)


def test_an_entry_that_is_not_an_object_is_refused_naming_its_index() -> None:
    with pytest.raises(PayloadError, match=r"jobs\[1\]: expected an object, not string"):
        parse_job_page(b'{"entries": [' + fixture("sequence_job.json") + b', "job"]}', JSON)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": 3}, "'name' must be a string, not number"),
        ({"id": True}, "'id' must be an integer or a non-empty string"),
        ({"due_date": 20100505}, "'due_date' must be a string, not number"),
        ({"due_date": "2010-02-30"}, "'due_date' is invalid"),
        ({"resource_type": "task"}, "'resource_type' is 'task', expected 'job'"),
        ({"self_link": 3}, "'self_link' must be a string"),
    ],
)
def test_a_job_field_of_the_wrong_type_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_job(seed_job_json(**changes), JSON)


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (b'<position type="integer">first</position>', "<position> is not an integer"),
        (b'<position type="integer">1_000</position>', "<position> is not an integer"),
        (b'<requires-duration type="boolean">yes</requires-duration>', "<requires-duration> is not a boolean"),
        (b"<position>1</position>", "'position' must be an integer, not string"),  # untyped
    ],
)
def test_an_xml_value_that_does_not_match_its_type_is_refused(element: bytes, message: str) -> None:
    body = b"<task><name>QC</name><status>pending</status>" + element
    body += b'<link rel="self" href="/api/work_areas/10/jobs/3/tasks/5"/></task>'
    with pytest.raises(PayloadError, match=message):
        parse_one_child("tasks", body, XML)


def test_a_child_of_another_kind_is_refused() -> None:
    body = b'{"resource_type": "asset", "type_name": "trailer", "status": "pending", "self_link": "/a/1"}'
    with pytest.raises(PayloadError, match="is 'asset', expected 'task'"):
        parse_one_child("tasks", body, JSON)
    with pytest.raises(PayloadError, match="unexpected <asset> in a list of task elements"):
        parse_one_child("tasks", b"<asset><type-name>trailer</type-name></asset>", XML)


def test_xml_nil_elements_read_as_none_and_typed_values_are_parsed() -> None:
    body = (
        b'<task><name>QC</name><status>pending</status><requires-duration type="boolean">true</requires-duration>'
        b'<duration nil="true"/><position type="integer">2</position><responsible-email nil="true"/>'
        b'<link rel="self" href="/api/work_areas/10/jobs/3/tasks/5?deleted"/><link rel="job" href="/x"/></task>'
    )
    assert parse_one_child("tasks", body, XML) == TaskRecord("5", "QC", "pending", 2, True, None, None)


def test_unknown_fields_and_links_are_ignored() -> None:
    job = parse_job(seed_job_json(template="Basic", priority={"level": 3}, extra_link="https://x.example/1"), JSON)
    assert job == parse_job(fixture("sequence_job.json"), JSON)


def test_a_job_keeps_only_the_links_the_graph_shows() -> None:
    job = parse_job(fixture("sequence_job.json"), JSON)
    assert set(job.links) == {"scheduling", "metadata", "title", "web"}
    assert job.links["title"] == "https://movida.bebanjo.net/api/titles/777"


# error bodies -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "media_type", "messages"),
    [
        (
            b'<?xml version="1.0"?><errors><error>Name is taken</error><error>External ID is required</error></errors>',
            XML,
            ["Name is taken", "External ID is required"],
        ),
        (b"<errors><error>Name is taken</error></errors>", XML, ["Name is taken"]),
        (
            b"<error><message>per_page maximum value is 200</message></error>",
            XML,
            ["per_page maximum value is 200"],
        ),
        (
            b'{"errors": ["Name is taken", "Position must be an integer"]}',
            JSON,
            ["Name is taken", "Position must be an integer"],
        ),
        (b'{"errors": [{"message": "Name is taken"}]}', JSON, ["Name is taken"]),
        (b'{"error": {"message": "Job not found"}}', JSON, ["Job not found"]),
        (b'{"error": "Job not found"}', JSON, ["Job not found"]),
        (b'{"message": "Rate limit exceeded"}', JSON, ["Rate limit exceeded"]),
        # Sequence answers errors in XML even when JSON was asked for.
        (b"<error><message>Job not found</message></error>", JSON, ["Job not found"]),
        (b'{"message": "Job not found"}', None, ["Job not found"]),
    ],
)
def test_error_messages_reads_each_documented_shape(body: bytes, media_type: str | None, messages: list[str]) -> None:
    assert error_messages(body, media_type) == messages


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Internal Server Error",
        b"<html><body>502 Bad Gateway</body></html>",
        b"<errors>",
        b'{"errors": [1, null]}',
        b"[]",
        b"\xff\xfe",
        b"[" * 50_000 + b"]" * 50_000,  # deeper than Python's JSON decoder recurses
        b'<!DOCTYPE error [<!ENTITY a "b">]><error><message>&a;</message></error>',
    ],
)
def test_error_messages_gives_nothing_for_garbage(body: bytes) -> None:
    assert error_messages(body, XML) == []
    assert error_messages(body, JSON) == []


def test_error_messages_cuts_a_huge_message() -> None:
    (message,) = error_messages(b'{"message": "' + b"x" * 10_000 + b'"}', JSON)
    assert len(message) < 600


# simulator output, both formats ------------------------------------------------------------------
@pytest.fixture(scope="module")
def store() -> SequenceStore:
    store = SequenceStore(Clock.at(NOW))
    # +02:00: datetimes written at local midnight fall on the previous day in UTC.
    populate(store, [WorkAreaSpec(10, "VOD Europe", 6, utc_offset_hours=2)], seed=11)
    first, second = list(store.work_areas[10].jobs.values())[:2]
    first.hooks.append(Hook(store.next_id("hook"), first.id, "job_updated", "https://hooks.example.com/a", True))
    first.hooks.append(Hook(store.next_id("hook"), first.id, "task_updated", "https://hooks.example.com/b", False))
    store.update_job(first, {"name": first.name + " (Director's Cut)", "tag_list": "Drama,  Surreal"})
    store.delete_job(second)
    return store


def both(parse: Callable[[bytes, str], T], document: Resource | Collection) -> T:
    """`document` parsed from the simulator's XML and from its JSON, which must agree."""
    from_xml = parse(*rep.render(document, as_json=False))
    assert from_xml == parse(*rep.render(document, as_json=True))
    return from_xml


def both_deleted(document: Resource) -> JobRecord:
    """A deleted job from both formats, which agree but for the seed's `web_link` quirk."""
    from_xml = parse_job(*rep.render(document, as_json=False))
    from_json = parse_job(*rep.render(document, as_json=True))
    assert from_xml.links["web"] + "=true" == from_json.links["web"]
    assert from_xml == dataclasses.replace(from_json, links={**from_json.links, "web": from_xml.links["web"]})
    return from_xml


def job_resource(store: SequenceStore, job: Job, view: JobView) -> Resource:
    return rep.job(job, "http://sim", store.clock.today(), view, store.work_areas[10].utc_offset)


def expected_job(store: SequenceStore, job: Job) -> tuple[Any, ...]:
    derived = job.derived(store.clock.today())
    return (
        "10",
        str(job.id),
        job.name,
        derived["status"],
        job.due_date,
        job.begins_at,
        job.ends_at,
        job.licensor_name,
        split_tags(job.tag_list),
        job.title_external_id,
        job.deleted,
    )


def actual_job(record: JobRecord) -> tuple[Any, ...]:
    return (
        record.work_area_id,
        record.job_id,
        record.name,
        record.status,
        record.due_date,
        record.begins_at,
        record.ends_at,
        record.licensor_name,
        record.tags,
        record.title_external_id,
        record.deleted,
    )


@pytest.mark.parametrize("view", list(JobView))
def test_a_simulator_job_parses_the_same_from_xml_and_json_in_every_view(store: SequenceStore, view: JobView) -> None:
    for job in store.work_areas[10].jobs.values():
        if job.deleted:
            record = both_deleted(job_resource(store, job, JobView.DELETED))
        else:
            record = both(parse_job, job_resource(store, job, view))
        assert actual_job(record) == expected_job(store, job)
        assert (record.work_area_id, record.job_id) == ("10", str(job.id))


def test_a_simulator_job_page_with_the_stray_tag_parses_the_same_from_xml_and_json(store: SequenceStore) -> None:
    jobs = [job for job in store.work_areas[10].jobs.values() if not job.deleted]
    page = Collection(
        "jobs",
        [job_resource(store, job, JobView.LIST) for job in jobs],
        total_entries=len(jobs) + 10,
        links=[rep.Link("next", "http://sim/api/work_areas/10/jobs?page=2&pagination=true")],
        stray_closing_tag=True,
    )
    record = both(parse_job_page, page)
    assert [actual_job(job) for job in record.jobs] == [expected_job(store, job) for job in jobs]
    assert (record.total_entries, record.has_next) == (len(jobs) + 10, True)


def test_simulator_work_areas_parse_the_same_from_xml_and_json(store: SequenceStore) -> None:
    area = store.work_areas[10]
    assert both(parse_work_area, rep.work_area(area, "http://sim")).work_area_id == "10"
    (record,) = both(parse_work_areas, Collection("work-areas", [rep.work_area(area, "http://sim")]))
    assert (record.work_area_id, record.name) == ("10", "VOD Europe")


EXPECTED_CHILD: dict[str, Callable[[Any], Any]] = {
    "tasks": lambda item: TaskRecord(
        str(item.id),
        item.name,
        item.status,
        item.position,
        item.requires_duration,
        item.duration,
        f"{item.responsible_email}@example.com" if item.responsible_email else None,
    ),
    "assets": lambda item: AssetRecord(str(item.id), item.type_name, item.status, item.progress),
    "notes": lambda item: NoteRecord(str(item.id), item.body, item.creator, item.created_at),
    "problems": lambda item: ProblemRecord(str(item.id), item.description, item.dismissed, item.reporter),
    "hooks": lambda item: HookRecord(str(item.id)),
}


@pytest.mark.parametrize("kind", ["tasks", "assets", "notes", "problems", "hooks"])
def test_simulator_children_parse_the_same_from_xml_and_json(store: SequenceStore, kind: Any) -> None:
    for job in list(store.work_areas[10].jobs.values())[:2]:  # a live job and a deleted one
        items = getattr(job, kind)
        resources = [rep.child(kind, item, job, "http://sim") for item in items]
        expected = tuple(EXPECTED_CHILD[kind](item) for item in items)
        assert both(partial(parse_children, kind), Collection(kind, resources)) == expected
    assert any(getattr(job, kind) for job in store.work_areas[10].jobs.values())


def test_a_hook_is_its_self_link_whatever_else_arrives_in_xml_or_json() -> None:
    resource = Resource(
        "hook",
        [
            rep.Attr("event", "job_updated"),
            rep.Attr("url", "https://hooks.example.com/a"),
            rep.Attr("active", False, "boolean"),
            rep.Attr("retries", 3, "integer"),
            rep.Attr("verified", True, "boolean"),
            rep.Attr("secret_hint", None),
            rep.Attr("format", "json"),
        ],
        [rep.Link("self", "http://sim/api/work_areas/10/jobs/1/hooks/9"), rep.Link("job", "http://sim/x")],
    )
    # Sequence documents no field of a hook, so none is read (upstreams/sequence.md §3.9).
    assert both(partial(parse_children, "hooks"), Collection("hooks", [resource])) == (HookRecord("9"),)


def test_simulator_events_parse_the_same_from_xml_and_json(store: SequenceStore) -> None:
    events = list(store.events)
    records = both(parse_events, Collection("events", [rep.event(event, "http://sim") for event in events]))
    assert [(r.event_id, r.event_type, r.timestamp, r.changes) for r in records] == [
        (str(e.id), e.event_type, e.timestamp, tuple((e.changes or "").split(",")) if e.changes else ()) for e in events
    ]
    assert all(r.subject_link and r.subject_link.startswith("http://sim/api/") for r in records)
    assert any(r.changes for r in records) and any(r.event_type == "job_deleted" for r in records)
